import type { QueueStatus } from './conversation/waiting.js';
import type {
  AnswerMode,
  Channel,
  Conversation,
  ConversationState,
  EscalationDecision,
  EscalationReason,
  KnowledgeEntry,
  Language,
  Priority,
  Role,
  ScreenedText,
  StoredEntry,
  Turn,
  TurnData,
  TurnKind,
} from './model.js';
import type { TranscriptBundle } from './audit/transcript.js';

/** Turns text into vectors. Implementations: the local offline embedder and the OpenAI one. */
export interface Embedder {
  /** Stable id, stored with every vector; a different id means re-embedding on the next sync. */
  readonly id: string;
  /** Vector size when known in advance. */
  readonly dimensions?: number;
  embed(texts: string[]): Promise<number[][]>;
}

/** A searchable piece of an entry: its title, one of its questions, or a passage of its body. */
export interface ChunkInput {
  kind: 'title' | 'question' | 'passage';
  text: string;
  terms: string[];
  embedding: number[];
}

export interface EntryState {
  source: string;
  contentHash: string;
  version: number;
  embedder: string;
}

export interface EntryUpsert {
  entry: KnowledgeEntry;
  topic: string;
  contentHash: string;
  embedder: string;
  chunks: ChunkInput[];
  /** Normalized mean vector of the title and question chunks (see toCentroid); null when there is none. */
  centroid: number[] | null;
  /** The version to index it as (the knowledge base's version); absent: version + 1 when its content changed. */
  version?: number;
}

export interface ChunkHit {
  entryId: string;
  topic: string;
  version: number;
  kind: ChunkInput['kind'];
  score: number;
}

export interface LexicalSearch {
  hits: ChunkHit[];
  /** Inverse document frequency of each query term; null when no chunk contains it. */
  idf: Map<string, number | null>;
  /** The idf a term would have if it occurred in a single chunk: the most informative possible. */
  maxIdf: number;
  /**
   * BM25 over whole entries, each entry's title and questions as one document (its passages left
   * out): the lexical counterpart of the centroid, where every phrasing of an entry adds to its
   * evidence. Hits best first, ties by entry id; `idf` and `maxIdf` as above, over entries.
   */
  entries: { hits: EntryHit[]; idf: Map<string, number | null>; maxIdf: number };
}

/** What one query found: BM25 (undefined without terms), nearest chunks and nearest centroids. */
export interface SearchResults {
  lexical: LexicalSearch | undefined;
  vector: ChunkHit[];
  centroids: CentroidHit[];
}

/** How well a query matches one entry as a whole. */
export interface EntryHit {
  entryId: string;
  topic: string;
  score: number;
}

/** Cosine similarity of a query to an entry's centroid. */
export type CentroidHit = EntryHit;

/** The knowledge base as stored: entries, their chunks, vector and lexical search over them. */
export interface KnowledgeIndex {
  entryStates(): Promise<Map<string, EntryState>>;
  /** Applies a sync in one transaction: upserted entries get version + 1, removed ones go. */
  applySync(upserts: EntryUpsert[], removals: string[]): Promise<void>;
  searchVector(embedding: number[], embedder: string, limit: number): Promise<ChunkHit[]>;
  searchLexical(terms: string[], limit: number): Promise<LexicalSearch>;
  /** The entries whose centroids are most similar to the query vector, best first. */
  searchCentroids(embedding: number[], embedder: string, limit: number): Promise<CentroidHit[]>;
  /**
   * searchLexical, searchVector and searchCentroids of one query together (no lexical search without
   * terms, no vector search without an embedding), same rankings (scores within float precision),
   * as of one generation of the knowledge base. Optional; the retriever falls back to the three
   * methods.
   */
  search?(terms: string[], embedding: number[] | undefined, embedder: string, limit: number): Promise<SearchResults>;
  entriesOfTopics(topics: string[]): Promise<StoredEntry[]>;
  listEntries(): Promise<StoredEntry[]>;
}

interface NewTurnBase {
  kind: TurnKind;
  language: Language;
  data?: TurnData;
  answerMode?: AnswerMode | null;
  escalation?: EscalationDecision | null;
  /** Unique key of the external message (e.g. a Telegram update id): a repeat is a no-op. */
  externalKey?: string;
}

/** A customer's turn: its text went through the secret firewall. */
export interface NewCustomerTurn extends NewTurnBase {
  role: 'customer';
  text: ScreenedText;
}

/** A turn of the bot, the system or an agent. */
export interface NewStaffTurn extends NewTurnBase {
  role: Exclude<Role, 'customer'>;
  text: string;
}

/** A turn to append. Customer text can only be stored screened. */
export type NewTurn = NewCustomerTurn | NewStaffTurn;

export interface ConversationPatch {
  language?: Language;
  languageChosen?: boolean;
  state?: ConversationState;
  priority?: Priority;
  escalationReason?: EscalationReason | null;
}

export interface NewConversation {
  channel: Channel;
  externalId: string;
  language: Language;
  tokenHash: string | null;
  /** The name the customer goes by on the channel, screened (a display name can hold anything). */
  customerHandle?: ScreenedText | null;
}

export interface AppendResult {
  conversation: Conversation;
  turns: Turn[];
  /** True when the external key was seen before: nothing was written, `turns` are the originals. */
  duplicate: boolean;
}

/** Conversations and their append-only turns. */
export interface ConversationContext {
  conversation: Conversation;
  /** Turns with seq > lastSeq - recent, in order. */
  recentTurns: Turn[];
  /** A turn carrying one of the external keys asked about is stored (the input is a repeat). */
  keysSeen: boolean;
}

export interface AppendOptions {
  /**
   * The caller read, moments ago, that no turn carries these turns' external keys: the store skips
   * its own look-up (a repeat that raced in is still caught by the unique key and answered as one).
   */
  keysChecked?: boolean;
}

export interface ConversationStore {
  /** Creates the conversation, or returns the existing one for (channel, externalId). */
  open(input: NewConversation): Promise<{ conversation: Conversation; created: boolean }>;
  find(id: string): Promise<Conversation | undefined>;
  tokenHash(id: string): Promise<string | null | undefined>;
  /**
   * Appends turns (at least one: every change to a conversation is logged) with consecutive
   * sequence numbers and applies the patch to the conversation, atomically. Turns are never updated
   * or deleted.
   */
  append(conversationId: string, turns: NewTurn[], patch?: ConversationPatch, options?: AppendOptions): Promise<AppendResult>;
  turns(conversationId: string, afterSeq: number, limit?: number): Promise<Turn[]>;
  /**
   * In one read: the conversation, its latest `recent` turns, and whether a turn with one of
   * `externalKeys` is stored. Optional (find, turns and append's own check otherwise).
   */
  context?(id: string, recent: number, externalKeys: string[]): Promise<ConversationContext | undefined>;
  listByState(state: ConversationState): Promise<Conversation[]>;
  /**
   * The turns stored for an external key: the input that carried it and what answered it, as
   * `append` returns them for a repeat (`duplicate: true`). Optional (append's own check otherwise).
   */
  repeatOf?(externalKey: string): Promise<AppendResult | undefined>;
}

export interface AnswerRequest {
  question: string;
  language: Language;
  entries: StoredEntry[];
  history: Array<{ role: Role; text: string }>;
}

export type ModelAnswer = { kind: 'answer'; text: string; citedIds: string[] } | { kind: 'no_answer' };

/** Writes a grounded answer from retrieved entries only (model mode). */
export interface Answerer {
  readonly id: string;
  answer(request: AnswerRequest): Promise<ModelAnswer>;
}

/** The verifiable turn log as the helpdesk serves it: checkpoints and customers' transcripts. */
export interface TurnLog {
  /** C2SP origin line of every checkpoint. */
  readonly origin: string;
  /** Verifier key (`name+id+base64key`) customers check checkpoints and transcripts with. */
  readonly publicKey: string;
  /** The latest signed checkpoint (C2SP signed note), if any was issued. */
  latestCheckpoint(): Promise<string | undefined>;
  /** A verifiable transcript of one conversation, under a checkpoint that covers all of it. */
  transcript(conversationId: string): Promise<TranscriptBundle>;
}

/** Structured log sink passed in by the composition root (pino in production). */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** A message waiting to be sent to a customer on a channel. */
export interface OutboundMessage {
  channel: string;
  chatId: string;
  /** Unique per message: enqueueing the same key again stores nothing. */
  dedupeKey: string;
  /** Channel API method, e.g. "sendMessage". */
  method: string;
  payload: Record<string, unknown>;
}

export interface ClaimedMessage extends OutboundMessage {
  id: number;
  /** Failed send attempts so far. */
  attempts: number;
}

/** A message the channel accepted: its outbox id, what the channel answered, and when. */
export interface SentMessage {
  id: number;
  result: unknown;
  at: Date;
}

/**
 * Durable outbox of the channel adapters (Telegram's replies, Slack's redactions): a message is
 * stored before it is sent; messages of one chat go out one at a time in the order they were
 * stored, while other chats proceed. Core does not use it; it lives here because two adapters
 * share it and adapters never import one another.
 */
export interface ChannelOutbox {
  enqueue(messages: OutboundMessage[]): Promise<void>;
  /**
   * Leases, for `leaseMs`, the oldest pending message of each chat when it is due and not leased;
   * first marks `sent` as sent, in the same statement (their chats' next messages are candidates).
   */
  claim(channel: string, limit: number, leaseMs: number, sent?: SentMessage[]): Promise<ClaimedMessage[]>;
  /** Extends, to `leaseMs` from now, the leases of messages still pending (a send under way). */
  renew(ids: number[], leaseMs: number): Promise<void>;
  /** Ends every lease on the channel's pending messages (their sender is gone); returns how many. */
  releaseLeases(channel: string): Promise<number>;
  /** Releases the lease and makes the message due again after `delayMs`. */
  retryLater(id: number, delayMs: number, error: string): Promise<void>;
  /** Gives up on a message (the channel refused it for good); later messages of the chat go on. */
  markFailed(id: number, error: string): Promise<void>;
  /** Milliseconds until the next pending message of the channel is due; undefined when none is pending. */
  nextDueInMs(channel: string): Promise<number | undefined>;
}

/** The human queue as a waiting customer sees it (the handoff desk implements it). */
export interface WaitingQueue {
  /** The conversation's place among unclaimed handoffs and the wait; undefined when it is not queued. */
  status(conversationId: string, language: Language): Promise<QueueStatus | undefined>;
  /** The customer went back to the bot before an agent claimed: the handoff closes. */
  withdraw(conversationId: string): Promise<void>;
}

/** Image types a customer may upload, as read from the file's bytes. */
export type CustomerImageType = 'image/png' | 'image/jpeg' | 'image/webp' | 'image/gif';

/** A file a customer uploaded and the product keeps (web screenshots), as stored. */
export interface StoredFileInfo {
  id: string;
  conversationId: string;
  /** Read from the bytes when it was uploaded. */
  mediaType: CustomerImageType;
  size: number;
  /** The name the customer gave, as the firewall left it (save takes screened text only); null when none. */
  fileName: string | null;
  createdAt: Date;
}

/**
 * Customers' uploaded files, sealed under their conversation's content key: an erasure of the
 * conversation makes them unreadable and removes them.
 */
export interface CustomerFileStore {
  /** Stores the file sealed; fails (storing nothing) when the conversation has no content key (erased, never written). */
  save(file: Omit<StoredFileInfo, 'size' | 'createdAt' | 'fileName'> & { fileName: ScreenedText | null; data: Uint8Array }): Promise<StoredFileInfo>;
  /** The file and its bytes; undefined when unknown or erased. */
  read(fileId: string): Promise<(StoredFileInfo & { data: Buffer }) | undefined>;
  /** The conversation's files, oldest first (without their bytes). */
  list(conversationId: string): Promise<StoredFileInfo[]>;
  /** Removes a file whose turn could not be recorded. */
  remove(fileId: string): Promise<void>;
}
