/** Languages the helpdesk answers in. Traditional Chinese is read and answered as `zh`. */
export type Language = 'zh' | 'en';
export const LANGUAGES: readonly Language[] = ['zh', 'en'];

/** Where a conversation happens. A conversation is keyed by (channel, externalId). */
export type Channel = 'web' | 'telegram';

/** Who said a turn. */
export type Role = 'customer' | 'bot' | 'system' | 'agent';

/**
 * What a turn is. Turns are append-only; later events (claim, resolve, rating, erasure) are new
 * turns, never updates.
 */
export type TurnKind =
  | 'greeting'
  | 'message'
  | 'action'
  | 'answer'
  | 'escalation'
  | 'language_switch'
  | 'notice'
  /** A file the customer sent (a screenshot, a document), or a sticker/voice message the bot does not read. */
  | 'attachment'
  /** A new version of an earlier customer message; `data.editOf` names the original. */
  | 'edit'
  /** A human-handoff event (claim, hand back, resolve, wait estimate, reminder); `data.handoff` says which. */
  | 'handoff'
  /** An agent's internal note: kept in the record, never shown to the customer (`data.internal`). */
  | 'note'
  /** The customer's 1–5 rating after a resolved handoff (`data.rating`). */
  | 'rating'
  /**
   * The bot is not sure what the customer means and offers the closest entries (`data.choices`),
   * plus "None of these: talk to a human" (`data.noneLabel`).
   */
  | 'clarify'
  /** The customer picked one of a `clarify` turn's choices, or none of them (`data.choice`). */
  | 'choice';

/** How a bot answer was produced. */
export type AnswerMode = 'offline' | 'model' | 'fallback';

export type ConversationState = 'bot' | 'escalated' | 'closed';
export type Priority = 'normal' | 'urgent';

/** Reason codes of an escalation to a human. */
export type EscalationReason =
  | 'customer_requested_human'
  | 'low_confidence'
  | 'sensitive_topic'
  /** Someone asked the customer for a secret or a fee, or posed as support (urgent). */
  | 'scam_report'
  | 'customer_unsatisfied'
  | 'model_failure'
  | 'repeated_failure'
  /** The customer insulted the bot again after a calm reply to the first insult. */
  | 'repeated_abuse';

/**
 * A button the customer pressed: the answer solved it, talk to a human, or (while waiting for a
 * human) go back to the bot.
 */
export type CustomerAction = 'solved' | 'human' | 'bot';

/** A pick among a `clarify` turn's choices: an entry id, or null for "None of these: talk to a human". */
export interface CustomerChoice {
  entryId: string | null;
}

/** One entry a `clarify` turn offers: its id, its title in the customer's language, its topic. */
export interface OfferedChoice {
  entryId: string;
  title: string;
  topic: string;
}

/** The dialogue acts the bot answers with a reply of its own (see core/conversation/dialogue-acts). */
export type SmallTalkActName =
  | 'greeting'
  | 'are_you_there'
  | 'thanks'
  | 'acknowledgement'
  | 'farewell'
  | 'emoji_only'
  | 'laughter'
  | 'abuse'
  | 'chit_chat'
  | 'out_of_scope';

export interface KnowledgeLink {
  title: string;
  url: string;
}

/** One knowledge-base entry as written by an admin (one Markdown file). */
export interface KnowledgeEntry {
  id: string;
  lang: Language;
  title: string;
  questions: string[];
  tags: string[];
  links: KnowledgeLink[];
  /** Id of the same entry in the other language, when it exists. */
  translation: string | undefined;
  body: string;
  /** File it came from, relative to the knowledge folder; for error reports. */
  source: string;
}

/** A stored entry: what admins wrote plus what sync derived. */
export interface StoredEntry extends KnowledgeEntry {
  /** Shared by an entry and its translation: the topic, whatever the language. */
  topic: string;
  version: number;
  contentHash: string;
}

/** An entry the bot cited, with the version it cited. */
export interface Citation {
  id: string;
  title: string;
  version: number;
  /** The entry's help-center page, when it names one (its first link). */
  url?: string;
}

/** One retrieved candidate topic with its scores. */
export interface RetrievedEntry {
  topic: string;
  entryId: string;
  version: number;
  /** Fused ranking score (not a probability). */
  score: number;
  vectorSimilarity: number;
  lexicalScore: number;
}

export interface RetrievalResult {
  /** Best first, one per topic. */
  candidates: RetrievedEntry[];
  /** Calibrated probability that the first candidate answers the question, in [0,1]. */
  confidence: number;
  embedder: string;
}

export interface EscalationDecision {
  reason: EscalationReason;
  priority: Priority;
  detail: string;
}

export interface TurnAction {
  id: CustomerAction;
  label: string;
}

/** Structured data stored with a turn (JSON). */
export interface TurnData {
  citations?: Citation[];
  actions?: TurnAction[];
  retrieval?: {
    embedder: string;
    confidence: number;
    candidates: Array<{ entryId: string; topic: string; version: number; score: number }>;
  };
  action?: CustomerAction;
  author?: string;
  replyTo?: number;
  model?: string;
  error?: string;
  /** Files the customer sent, by the channel's file id (evidence for the agents). */
  attachments?: TurnAttachment[];
  /** The customer message this turn edits: its external key and the channel's message id. */
  editOf?: { externalKey: string | null; messageId: number };
  /** Which handoff event a `handoff` turn records. */
  handoff?: HandoffEvent;
  /** Kept from the customer (internal notes, deletions seen in the agents' tool). */
  internal?: boolean;
  /** Who did it, by the agents' tool id (e.g. a Slack user id); `author` is the display name. */
  agentId?: string;
  rating?: number;
  /** The small-talk act of a customer message and of the bot's reply to it (for analytics). */
  dialogueAct?: SmallTalkActName;
  /** A `clarify` turn's choices, closest first. */
  choices?: OfferedChoice[];
  /** A `clarify` turn's label for "None of these: talk to a human". */
  noneLabel?: string;
  /** A `choice` turn: the entry picked (null: none of them) and the customer turn that asked. */
  choice?: { entryId: string | null; questionSeq: number | null };
  /** A bot notice while the customer waits for a human (`ack`: messages seen, `human_again`: asked again). */
  waiting?: 'ack' | 'human_again';
  /** How a Chinese reply is written when not Simplified: the conversation's script, remembered. */
  locale?: 'zh-Hant';
  /** Set on a turn whose content was erased (crypto-shredded): index of the erasure's log entry. */
  erasedBy?: number;
  /** A customer turn that leaves a contact for the answer: its text is the (screened) e-mail address. */
  contact?: 'email';
  /** Where an agent turn came from in the agents' tool (Slack message ts, edit of which ts). */
  desk?: { tool: string; ts?: string; editOf?: string; eventId?: string };
}

export type HandoffEvent = 'waiting' | 'claimed' | 'handed_back' | 'resolved' | 'reminder';

declare const screened: unique symbol;

/**
 * Customer text that went through the secret firewall (core/safety/firewall.ts): normalized, every
 * secret it found replaced by a marker, bounded. Only the firewall makes one (an architecture test
 * checks that no other file casts to it), so whatever takes ScreenedText cannot be handed raw text.
 */
export type ScreenedText = string & { readonly [screened]: true };

export type AttachmentType = 'photo' | 'document' | 'sticker' | 'voice' | 'audio' | 'video' | 'video_note' | 'animation' | 'other';

/**
 * A file the customer sent, as stored: the channel's own ids, and every text the customer chose
 * (the file name, the type their client declared) screened. A caption is the message's text.
 */
export interface TurnAttachment {
  type: AttachmentType;
  /** The channel's id of the file (not the customer's text). */
  fileId: string | null;
  fileUniqueId?: string;
  fileName?: ScreenedText;
  mimeType?: ScreenedText;
  fileSize?: number;
}

/** What the firewall found in one customer input. Kinds and counts only, never a value. */
export interface ScreeningReport {
  secretTypes: SecretKind[];
  secretCount: number;
  /** The text was longer than the limit and was cut (the customer is told). */
  truncated: boolean;
  /** Length of the text before it was cut, in characters. */
  originalLength: number;
  /** A secret begun in the customer's previous message was completed in this one. */
  acrossMessages: boolean;
}

/** Kinds of secret the firewall removes (also core/safety's SecretType). */
export type SecretKind = 'recovery_phrase' | 'private_key' | 'api_secret' | 'password' | 'two_factor_code';

/**
 * A customer's input after the secret firewall: the one form in which customer content enters
 * core. Every text-bearing field is ScreenedText, so it can only be made by the firewall
 * (`Helpdesk.screen`), on every channel; a channel's new field has to be mapped onto these.
 */
export interface CustomerMessage {
  readonly text: ScreenedText;
  readonly attachments: readonly TurnAttachment[];
  readonly screening: ScreeningReport;
}

export interface Turn {
  conversationId: string;
  seq: number;
  role: Role;
  kind: TurnKind;
  text: string;
  language: Language;
  data: TurnData;
  answerMode: AnswerMode | null;
  escalation: EscalationDecision | null;
  createdAt: Date;
}

export interface Conversation {
  id: string;
  channel: Channel;
  externalId: string;
  language: Language;
  /** The customer chose the language explicitly; detection no longer changes it. */
  languageChosen: boolean;
  state: ConversationState;
  priority: Priority;
  escalationReason: EscalationReason | null;
  customerHandle: string | null;
  lastSeq: number;
  createdAt: Date;
  updatedAt: Date;
}
