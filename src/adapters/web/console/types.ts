/** The admin API's answers as the console reads them (docs/api.md). */

export type Lang = 'zh' | 'en';

export interface EntryContent {
  id: string;
  lang: Lang;
  title: string;
  questions: string[];
  tags: string[];
  links: Array<{ title: string; url: string }>;
  translation: string | null;
  body: string;
}

export interface TranslationView {
  id: string | null;
  state: 'missing' | 'ok' | 'outdated' | 'both_changed';
  version: number | null;
}

export interface EntrySummary {
  id: string;
  lang: Lang;
  title: string;
  tags: string[];
  questions: number;
  status: 'published' | 'draft' | 'removed';
  version: number;
  liveVersion: number | null;
  hasDraft: boolean;
  updatedAt: string;
  updatedBy: string;
  translation: TranslationView;
  conflict: boolean;
}

export interface RevisionView {
  version: number;
  status: 'draft' | 'published' | 'removed';
  author: string;
  origin: string;
  createdAt: string;
  contentHash: string;
  translationSync: number | null;
  restoredFrom: number | null;
  logIndex: number;
  entry: EntryContent;
}

export interface EntryView extends EntrySummary {
  head: RevisionView;
  live: RevisionView | null;
  fileConflict: FileConflictView | null;
}

export interface FileConflictView {
  entryId: string;
  source: string;
  kind: 'changed' | 'deleted' | 'both_new';
  fileHash: string | null;
  file: EntryContent | null;
  headVersion: number;
  detectedAt: string;
}

export interface TurnView {
  seq: number;
  role: string;
  kind: string;
  text: string;
  language: string;
  createdAt: string;
  citations: Array<{ id: string; title: string; version: number }>;
  actions: Array<{ id: string; label: string }>;
  escalation?: { reason: string; priority: string };
}

export interface HitTestView {
  question: string;
  language: Lang;
  results: Array<{ id: string; score: number; topic: string; version: number; title: string | null; lang: Lang | null }>;
  confidence: number | null;
  threshold: number;
  decision: 'answer' | 'escalate' | 'clarify' | 'reply';
  why: { code: string; detail: string; priority?: string };
  reply: TurnView[];
}

export type GapSignal = 'low_confidence' | 'unsatisfied' | 'low_rating' | 'none_of_these';

export interface GapClusterView {
  id: string;
  label: string;
  count: number;
  questions: Array<{ text: string; count: number; language: Lang }>;
  examples: Array<{ text: string; language: Lang; at: string; signals: GapSignal[] }>;
  signals: Record<GapSignal, number>;
  languages: Record<Lang, number>;
  trend: number[];
  firstSeen: string;
  lastSeen: string;
  answeredWith: Array<{ entryId: string; count: number }>;
}

export interface GapReportView {
  since: string;
  until: string;
  days: number;
  questions: number;
  clusters: GapClusterView[];
}

/** The agents' inbox (GET /api/admin/inbox/…). */
export interface InboxItemView {
  conversationId: string;
  channel: 'web' | 'telegram';
  customerHandle: string | null;
  customerId: string;
  language: Lang;
  priority: 'normal' | 'urgent';
  reason: string | null;
  state: 'bot' | 'escalated' | 'closed';
  open: boolean;
  waitingSince: string;
  claimedBy: string | null;
  claimedName: string | null;
  lastSeq: number;
  preview: { text: string; at: string; seq: number; files: number } | null;
}

export interface InboxTurnView extends TurnView {
  author?: string;
  internal: boolean;
  via?: string;
  handoff?: string;
  choices?: Array<{ entryId: string; title: string }>;
  files?: Array<{ type: string; fileName: string | null; mimeType: string | null; fileSize: number | null }>;
  retrieval?: { confidence: number; candidates: Array<{ entryId: string; score: number }> };
  erased?: boolean;
}

export interface InboxConversationView {
  item: InboxItemView;
  summary: { summary: string; escalation: { reason: string; priority: string; detail: string } | null };
  turns: InboxTurnView[];
  tried: Array<{ entryId: string; title: string | null; how: 'cited' | 'offered' | 'retrieved'; score: number | null; seq: number }>;
  files: Array<{ seq: number; index: number; at: string; type: string; fileName: string | null; mimeType: string | null; fileSize: number | null }>;
}

export interface SavedReplyView {
  id: number;
  title: string;
  language: Lang;
  body: string;
  version: number;
  updatedBy: string;
  updatedAt: string;
}
