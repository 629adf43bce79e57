import { createHash } from 'node:crypto';
import { toSimplifiedChinese } from '../chinese-script.js';
import type { Language, Turn } from '../model.js';
import type { Embedder } from '../ports.js';

/**
 * Why a question counts as not answered:
 * - `low_confidence`: the bot found no reliable entry and handed it to a human;
 * - `unsatisfied`: the customer said the answer did not help, asked a third time, or asked for a
 *   human right after the answer;
 * - `low_rating`: the conversation ended with a rating of 1 or 2;
 * - `none_of_these`: the customer answered a clarifying question with "None of these".
 */
export type GapSignal = 'low_confidence' | 'unsatisfied' | 'low_rating' | 'none_of_these';
export const GAP_SIGNALS: readonly GapSignal[] = ['low_confidence', 'unsatisfied', 'low_rating', 'none_of_these'];

export interface UnansweredQuestion {
  conversationId: string;
  seq: number;
  /** As the secret firewall left it (what the helpdesk stored). */
  text: string;
  language: Language;
  at: Date;
  signals: GapSignal[];
  /** The entry the bot answered it with, when it did (and the answer did not help). */
  answeredWith: string | null;
  /** What retrieval found for it when it was asked: the calibrated confidence and the best topics' scores. */
  confidence: number | null;
  candidates: Array<{ topic: string; score: number }>;
}

/** Where the gap report reads from. */
export interface GapSource {
  /**
   * The turns, in order, of conversations with an escalation, a rating or a reply to a clarifying
   * question at or after `since` (at most `limit` conversations, the latest first).
   */
  conversationsWithSignals(since: Date, limit: number): Promise<Turn[][]>;
}

const RATING_LOW = 2;

const isErased = (t: Turn) => t.data.erasedBy !== undefined || t.text === '';

/**
 * The questions of one conversation (its turns in order) that the bot could not answer, each with
 * why. Pure: erased turns are never reported (an erased conversation disappears from the report).
 */
export function findUnansweredQuestions(turns: Turn[]): UnansweredQuestion[] {
  const found = new Map<number, UnansweredQuestion>();
  const add = (question: Turn | undefined, signal: GapSignal, answeredWith: string | null = null) => {
    if (!question || isErased(question)) return;
    const known = found.get(question.seq);
    if (known) {
      if (!known.signals.includes(signal)) known.signals.push(signal);
      known.answeredWith ??= answeredWith;
      return;
    }
    found.set(question.seq, {
      conversationId: question.conversationId,
      seq: question.seq,
      text: question.text,
      language: question.language,
      at: question.createdAt,
      signals: [signal],
      answeredWith,
      confidence: question.data.retrieval?.confidence ?? null,
      candidates: (question.data.retrieval?.candidates ?? []).map((c) => ({ topic: c.topic, score: c.score })),
    });
  };
  let question: Turn | undefined;
  let answered: { question: Turn | undefined; entryId: string | null } | undefined;
  /** The last answer is the bot's latest word: no customer message came after it. */
  let answerIsLast = false;
  let escalated: Turn | undefined;
  let clarified: Turn | undefined;
  for (const t of turns) {
    if (t.role === 'customer') {
      const choice = (t.data as { choice?: { entryId?: unknown } }).choice;
      if (choice && choice.entryId === null) add(clarified ?? question, 'none_of_these');
      if (t.kind === 'message' || t.kind === 'edit') {
        if (!isErased(t)) question = t;
        answerIsLast = false;
      }
      continue;
    }
    if (t.role === 'bot' && t.kind === 'answer') {
      answered = { question, entryId: t.data.citations?.[0]?.id ?? null };
      answerIsLast = true;
    } else if (t.role === 'bot' && t.kind === 'clarify') {
      // The bot was not sure enough to answer: whatever the customer picks next, the question is
      // one the knowledge base does not answer as asked.
      clarified = question;
      add(question, 'low_confidence');
    } else if (t.kind === 'escalation' && t.escalation) {
      switch (t.escalation.reason) {
        case 'low_confidence':
          add(question, 'low_confidence');
          break;
        case 'customer_unsatisfied':
          if (answered && answered.question !== question) add(answered.question, 'unsatisfied', answered.entryId);
          break;
        case 'repeated_failure':
          add(question, 'unsatisfied', answered?.entryId ?? null);
          break;
        case 'customer_requested_human':
          if (answerIsLast && answered) add(answered.question, 'unsatisfied', answered.entryId);
          break;
        default:
          break;
      }
      escalated = question;
    } else if (t.kind === 'rating' && typeof t.data.rating === 'number' && t.data.rating <= RATING_LOW) {
      add(escalated ?? question, 'low_rating');
    }
  }
  return [...found.values()];
}

export interface GapCluster {
  /** Stable while its label stays the same. */
  id: string;
  /** Its most frequent question. */
  label: string;
  count: number;
  /** Distinct questions, most frequent first. */
  questions: Array<{ text: string; count: number; language: Language }>;
  /** The latest ones. */
  examples: Array<{ text: string; language: Language; at: Date; signals: GapSignal[] }>;
  signals: Record<GapSignal, number>;
  languages: Record<Language, number>;
  /** Questions per day over the report's window, oldest first. */
  trend: number[];
  firstSeen: Date;
  lastSeen: Date;
  /** Entries the bot answered these questions with (when they did not help), most frequent first. */
  answeredWith: Array<{ entryId: string; count: number }>;
}

export interface GapReport {
  since: Date;
  until: Date;
  days: number;
  questions: number;
  clusters: GapCluster[];
}

const normalize = (text: string) =>
  toSimplifiedChinese(text.toLowerCase())
    .replace(/[\s\p{P}\p{S}]+/gu, ' ')
    .trim();

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/** How sharply a question's retrieval signature favours its best topic (scores within ~0.05 of it count). */
const SIGNATURE_SHARPNESS = 0.05;

/** The topics retrieval found, weighted by how close each came to the best: exp((score - best) / 0.05). */
function toSignature(candidates: Array<{ topic: string; score: number }>): Map<string, number> {
  const best = candidates[0]?.score ?? 0;
  return new Map(candidates.map((c) => [c.topic, Math.exp((c.score - best) / SIGNATURE_SHARPNESS)]));
}

function signatureCosine(a: Map<string, number>, b: Map<string, number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const [topic, x] of a) {
    na += x * x;
    dot += x * (b.get(topic) ?? 0);
  }
  for (const y of b.values()) nb += y * y;
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/** One distinct question (after folding case, punctuation and Traditional characters) and every time it was asked. */
interface QuestionGroup {
  members: UnansweredQuestion[];
  vector: number[];
  signature: Map<string, number>;
  confidence: number;
}

/**
 * How alike two questions are: the similarity of what retrieval found for them (which topics, how
 * close), trusted as far as retrieval was confident about both, and the rest from their
 * embeddings. Two questions the knowledge base does not cover (low confidence) are compared by
 * their words; two it nearly covers, also by the entries they came close to (across languages too).
 */
function similarity(a: QuestionGroup, b: QuestionGroup): number {
  const trust = Math.min(a.confidence, b.confidence);
  return trust * signatureCosine(a.signature, b.signature) + (1 - trust) * cosine(a.vector, b.vector);
}

/**
 * Groups questions by similarity (average linkage): identical questions first, then the two most
 * similar clusters merge while their average similarity reaches `threshold`. On the starter test
 * set's questions (labelled by entry, plus 43 the knowledge base does not cover) the default
 * threshold puts 93% of same-cluster pairs on the same entry and 76% of same-entry pairs in one
 * cluster, and merges no two uncovered questions on different subjects (README).
 */
export function clusterQuestions(items: Array<{ question: UnansweredQuestion; vector: number[] }>, threshold: number): UnansweredQuestion[][] {
  const byText = new Map<string, QuestionGroup>();
  for (const { question, vector } of items) {
    const key = normalize(question.text);
    const group = byText.get(key);
    if (group) group.members.push(question);
    else byText.set(key, { members: [question], vector, signature: toSignature(question.candidates), confidence: question.confidence ?? 0 });
  }
  const groups = [...byText.values()];
  const n = groups.length;
  // Similarities between live clusters (Lance-Williams update for average linkage), sizes in questions asked.
  const sim = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const s = similarity(groups[i] as QuestionGroup, groups[j] as QuestionGroup);
      sim[i * n + j] = s;
      sim[j * n + i] = s;
    }
  }
  const size = groups.map(() => 1);
  const members: number[][] = groups.map((_, i) => [i]);
  const alive = new Set(groups.map((_, i) => i));
  // Each live cluster's most similar other one: a merge rescans only the rows it touched.
  const nearest = new Int32Array(n).fill(-1);
  const rescan = (i: number) => {
    let best = -1;
    for (const k of alive) if (k !== i && (best < 0 || (sim[i * n + k] as number) > (sim[i * n + best] as number))) best = k;
    nearest[i] = best;
  };
  for (const i of alive) rescan(i);
  for (;;) {
    let bi = -1;
    for (const i of alive) {
      const j = nearest[i] as number;
      if (j >= 0 && (bi < 0 || (sim[i * n + j] as number) > (sim[bi * n + (nearest[bi] as number)] as number))) bi = i;
    }
    if (bi < 0) break;
    const bj = nearest[bi] as number;
    if ((sim[bi * n + bj] as number) < threshold) break;
    const si = size[bi] as number;
    const sj = size[bj] as number;
    alive.delete(bj);
    for (const k of alive) {
      if (k === bi) continue;
      const s = ((sim[bi * n + k] as number) * si + (sim[bj * n + k] as number) * sj) / (si + sj);
      sim[bi * n + k] = s;
      sim[k * n + bi] = s;
    }
    size[bi] = si + sj;
    (members[bi] as number[]).push(...(members[bj] as number[]));
    rescan(bi);
    for (const k of alive) {
      if (k === bi) continue;
      const nk = nearest[k] as number;
      if (nk === bi || nk === bj) rescan(k);
      else if ((sim[k * n + bi] as number) > (sim[k * n + nk] as number)) nearest[k] = bi;
    }
  }
  return [...alive].map((i) => (members[i] as number[]).flatMap((g) => (groups[g] as QuestionGroup).members));
}

const DAY_MS = 86_400_000;
/** Average similarity from which two clusters are taken to ask the same (tuned on the starter test set, see README). */
export const GAP_CLUSTER_THRESHOLD = 0.5;
/** The latest distinct questions clustered (the similarity matrix grows with their square). */
const MAX_DISTINCT = 1500;
const EXAMPLES = 5;
const MAX_CONVERSATIONS = 5000;
const EMBED_BATCH = 128;
const CACHE_LIMIT = 50_000;

function toCluster(members: UnansweredQuestion[], since: Date, days: number): GapCluster {
  const counts = new Map<string, { text: string; count: number; language: Language }>();
  for (const q of members) {
    const key = normalize(q.text);
    const known = counts.get(key);
    if (known) known.count++;
    else counts.set(key, { text: q.text, count: 1, language: q.language });
  }
  const questions = [...counts.values()].sort((a, b) => b.count - a.count || a.text.length - b.text.length);
  const label = questions[0]?.text ?? '';
  const byTime = [...members].sort((a, b) => b.at.getTime() - a.at.getTime());
  const signals = Object.fromEntries(GAP_SIGNALS.map((s) => [s, 0])) as Record<GapSignal, number>;
  const languages: Record<Language, number> = { zh: 0, en: 0 };
  const trend = new Array<number>(days).fill(0);
  const answered = new Map<string, number>();
  for (const q of members) {
    for (const s of q.signals) signals[s]++;
    languages[q.language]++;
    const day = Math.floor((q.at.getTime() - since.getTime()) / DAY_MS);
    if (day >= 0 && day < days) trend[day] = (trend[day] ?? 0) + 1;
    if (q.answeredWith) answered.set(q.answeredWith, (answered.get(q.answeredWith) ?? 0) + 1);
  }
  return {
    id: createHash('sha256').update(normalize(label)).digest('hex').slice(0, 12),
    label,
    count: members.length,
    questions,
    examples: byTime.slice(0, EXAMPLES).map((q) => ({ text: q.text, language: q.language, at: q.at, signals: q.signals })),
    signals,
    languages,
    trend,
    firstSeen: byTime.at(-1)?.at ?? since,
    lastSeen: byTime[0]?.at ?? since,
    answeredWith: [...answered].map(([entryId, count]) => ({ entryId, count })).sort((a, b) => b.count - a.count),
  };
}

/**
 * The gap report: what customers asked that the bot could not answer, over the last `days` days,
 * clustered by similarity, largest first, with counts, examples, signals and a daily trend.
 */
export function createGapReport(deps: { source: GapSource; embedder: Embedder; now?: () => number; threshold?: number }) {
  const now = deps.now ?? Date.now;
  const cache = new Map<string, number[]>();
  async function embed(texts: string[]): Promise<number[][]> {
    const missing = [...new Set(texts.filter((t) => !cache.has(t)))];
    for (let i = 0; i < missing.length; i += EMBED_BATCH) {
      const batch = missing.slice(i, i + EMBED_BATCH);
      const vectors = await deps.embedder.embed(batch);
      if (cache.size + batch.length > CACHE_LIMIT) cache.clear();
      batch.forEach((t, j) => {
        cache.set(t, vectors[j] ?? []);
      });
    }
    return texts.map((t) => cache.get(t) ?? []);
  }
  return {
    async report(options: { days?: number; language?: Language; signal?: GapSignal } = {}): Promise<GapReport> {
      const days = Math.min(365, Math.max(1, Math.floor(options.days ?? 30)));
      const until = new Date(now());
      // Whole days: the window starts at midnight (UTC) `days - 1` days ago.
      const since = new Date(Math.floor(until.getTime() / DAY_MS) * DAY_MS - (days - 1) * DAY_MS);
      const conversations = await deps.source.conversationsWithSignals(since, MAX_CONVERSATIONS);
      const questions = conversations
        .flatMap(findUnansweredQuestions)
        .filter((q) => q.at >= since)
        .filter((q) => !options.language || q.language === options.language)
        .filter((q) => !options.signal || q.signals.includes(options.signal))
        .sort((a, b) => b.at.getTime() - a.at.getTime());
      const distinct = new Set<string>();
      const cut = questions.findIndex((q) => {
        distinct.add(normalize(q.text));
        return distinct.size > MAX_DISTINCT;
      });
      if (cut >= 0) questions.length = cut;
      const vectors = await embed(questions.map((q) => q.text));
      const clusters = clusterQuestions(
        questions.map((question, i) => ({ question, vector: vectors[i] ?? [] })),
        deps.threshold ?? GAP_CLUSTER_THRESHOLD,
      )
        .map((members) => toCluster(members, since, days))
        .sort((a, b) => b.count - a.count || b.lastSeen.getTime() - a.lastSeen.getTime());
      return { since, until, days, questions: questions.length, clusters };
    },
  };
}

export type GapReporter = ReturnType<typeof createGapReport>;
