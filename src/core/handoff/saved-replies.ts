import { HelpdeskError } from '../errors.js';
import type { Language } from '../model.js';
import { blockReasons, type OutboundBlockReason, type OutboundReview } from '../safety/outbound-guard.js';

/** A reply the support team keeps ready: agents insert it, edit it if need be, and send it. */
export interface SavedReply {
  id: number;
  title: string;
  language: Language;
  body: string;
  /** Bumped by every change: an update names the version it changes (no lost update). */
  version: number;
  updatedBy: string;
  updatedAt: Date;
}

export interface SavedReplyInput {
  title: string;
  language: Language;
  body: string;
}

/** The support team's saved replies, shared by every agent (one team per installation). */
export interface SavedReplyStore {
  list(): Promise<SavedReply[]>;
  find(id: number): Promise<SavedReply | undefined>;
  /** Undefined when a reply of that title and language exists. */
  create(input: SavedReplyInput, by: string): Promise<SavedReply | undefined>;
  /**
   * Changes a reply if it is still at `expectedVersion`: the new reply, `conflict` (changed
   * meanwhile, or the title is taken), or undefined when there is no such reply.
   */
  update(id: number, expectedVersion: number, input: SavedReplyInput, by: string): Promise<SavedReply | 'conflict' | undefined>;
  remove(id: number): Promise<boolean>;
}

export const SAVED_REPLY_LIMITS = { titleChars: 80, bodyChars: 4000, replies: 500 } as const;

/** A saved reply the outbound guard would refuse to send: it is refused when saved, with the reasons. */
export class SavedReplyBlockedError extends HelpdeskError {
  constructor(
    readonly reasons: OutboundBlockReason[],
    readonly contacts: string[],
  ) {
    super(
      'reply_blocked',
      `saved reply blocked: ${reasons.join(', ')}`,
      'This reply would not be sent to customers (the outbound guard refuses it), so it cannot be saved.',
    );
    this.name = 'SavedReplyBlockedError';
  }
}

function checked(input: SavedReplyInput): SavedReplyInput {
  const title = input.title.replace(/\s+/g, ' ').trim();
  const body = input.body.replace(/\r\n?/g, '\n').trim();
  if (title.length === 0 || title.length > SAVED_REPLY_LIMITS.titleChars) {
    throw new HelpdeskError('invalid_input', 'saved reply title length', `A title has 1 to ${SAVED_REPLY_LIMITS.titleChars} characters.`);
  }
  if (body.length === 0 || body.length > SAVED_REPLY_LIMITS.bodyChars) {
    throw new HelpdeskError('invalid_input', 'saved reply body length', `A reply has 1 to ${SAVED_REPLY_LIMITS.bodyChars} characters.`);
  }
  return { title, body, language: input.language };
}

/**
 * Saved replies as the console keeps them: checked, and passed through the same outbound guard as
 * agents' replies (a reply that asks for a secret, demands a payment or names an unofficial contact
 * is refused when saved, not when an agent sends it to a waiting customer).
 */
export function createSavedReplies(deps: { store: SavedReplyStore; review: (text: string, context: { channel: string }) => Promise<OutboundReview> }) {
  const { store } = deps;
  async function guard(input: SavedReplyInput): Promise<SavedReplyInput> {
    const reply = checked(input);
    const verdict = await deps.review(reply.body, { channel: 'saved_reply' });
    if (!verdict.clean)
      throw new SavedReplyBlockedError(
        blockReasons(verdict),
        verdict.unlisted.map((c) => c.value),
      );
    return reply;
  }
  return {
    list: () => store.list(),
    async create(input: SavedReplyInput, by: string): Promise<SavedReply> {
      const reply = await guard(input);
      if ((await store.list()).length >= SAVED_REPLY_LIMITS.replies) {
        throw new HelpdeskError('invalid_input', 'too many saved replies', `At most ${SAVED_REPLY_LIMITS.replies} saved replies.`);
      }
      const created = await store.create(reply, by);
      if (!created) throw new HelpdeskError('reply_exists', 'saved reply title taken', 'A saved reply with this title exists in this language.');
      return created;
    },
    async update(id: number, expectedVersion: number, input: SavedReplyInput, by: string): Promise<SavedReply> {
      const result = await store.update(id, expectedVersion, await guard(input), by);
      if (!result) throw new HelpdeskError('reply_not_found', `no saved reply ${id}`, 'There is no such saved reply.');
      if (result === 'conflict') {
        throw new HelpdeskError(
          'version_conflict',
          `saved reply ${id} changed`,
          'This reply was changed meanwhile (or the title is taken): reload and try again.',
        );
      }
      return result;
    },
    async remove(id: number): Promise<void> {
      if (!(await store.remove(id))) throw new HelpdeskError('reply_not_found', `no saved reply ${id}`, 'There is no such saved reply.');
    },
  };
}

export type SavedReplies = ReturnType<typeof createSavedReplies>;
