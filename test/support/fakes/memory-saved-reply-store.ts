import type { SavedReply, SavedReplyStore } from '../../../src/core/index.js';

const byCodePoint = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

/**
 * The team's saved replies in memory: a title is unique per language, an update applies only at
 * the version it names (else `conflict`, as when the new title is taken), listed by language then
 * title. Each check and change happens without an await in between, as one statement would.
 */
export function createMemorySavedReplyStore(options: { now?: () => Date } = {}): SavedReplyStore {
  const now = options.now ?? (() => new Date());
  const replies = new Map<number, SavedReply>();
  let nextId = 1;
  const taken = (language: string, title: string, except?: number) =>
    [...replies.values()].some((r) => r.language === language && r.title === title && r.id !== except);

  return {
    async list() {
      return [...replies.values()].sort((a, b) => byCodePoint(a.language, b.language) || byCodePoint(a.title, b.title)).map((r) => ({ ...r }));
    },
    async find(id) {
      const reply = replies.get(id);
      return reply ? { ...reply } : undefined;
    },
    async create(input, by) {
      if (taken(input.language, input.title)) return undefined;
      const reply: SavedReply = { id: nextId++, ...input, version: 1, updatedBy: by, updatedAt: now() };
      replies.set(reply.id, reply);
      return { ...reply };
    },
    async update(id, expectedVersion, input, by) {
      const reply = replies.get(id);
      if (!reply) return undefined;
      if (reply.version !== expectedVersion || taken(input.language, input.title, id)) return 'conflict';
      Object.assign(reply, input, { version: reply.version + 1, updatedBy: by, updatedAt: now() });
      return { ...reply };
    },
    async remove(id) {
      return replies.delete(id);
    },
  };
}
