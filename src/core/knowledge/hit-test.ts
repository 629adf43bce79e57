import type { Language, Priority, Turn } from '../model.js';
import type { Logger } from '../ports.js';

/** What the bot would do with a question: answer it, offer choices, hand it to a human, or reply otherwise. */
export type HitDecision = 'answer' | 'clarify' | 'escalate' | 'reply';

/**
 * A question played through the helpdesk without recording anything: the entries retrieval
 * ranked (with their fused scores), the calibrated confidence against the threshold, the decision
 * and why, and the turns the customer would get, exactly as the helpdesk made them.
 */
export interface HitTestResult {
  /** The question as the secret firewall left it (what the helpdesk stores and searches). */
  question: string;
  language: Language;
  results: Array<{ entryId: string; topic: string; version: number; score: number }>;
  confidence: number | null;
  threshold: number;
  decision: HitDecision;
  why: { code: string; detail: string; priority?: Priority };
  /** The bot's and the system's turns, as the customer would see them. */
  reply: Turn[];
}

/** Reads a dry run's turns (the customer's first) into a hit-test result. */
export function toHitTestResult(turns: Turn[], threshold: number): HitTestResult {
  const customer = turns.find((t) => t.role === 'customer');
  const reply = turns.filter((t) => t.role !== 'customer' && !t.data.internal);
  const retrieval = customer?.data.retrieval;
  const confidence = retrieval ? retrieval.confidence : null;
  const base = {
    question: customer?.text ?? '',
    language: reply.at(-1)?.language ?? customer?.language ?? 'en',
    results: (retrieval?.candidates ?? []).map((c) => ({ entryId: c.entryId, topic: c.topic, version: c.version, score: c.score })),
    confidence,
    threshold,
    reply,
  };
  const escalation = reply.find((t) => t.kind === 'escalation' && t.escalation);
  if (escalation?.escalation) {
    const { reason, priority, detail } = escalation.escalation;
    return { ...base, decision: 'escalate', why: { code: reason, detail, priority } };
  }
  const answer = reply.find((t) => t.kind === 'answer');
  if (answer) {
    const cited = answer.data.citations?.map((c) => c.id).join(', ') ?? '';
    const mode = answer.answerMode === 'fallback' ? ` (the model's answer was replaced by the entry: ${answer.data.error ?? 'fallback'})` : '';
    return {
      ...base,
      decision: 'answer',
      why: { code: 'confident', detail: `confidence ${(confidence ?? 0).toFixed(2)} ≥ threshold ${threshold.toFixed(2)}: answered from ${cited}${mode}` },
    };
  }
  const clarify = reply.find((t) => (t.kind as string) === 'clarify');
  if (clarify) {
    const choices = (clarify.data as { choices?: Array<{ entryId?: unknown }> }).choices ?? [];
    return { ...base, decision: 'clarify', why: { code: 'ambiguous', detail: `offers ${choices.map((c) => String(c.entryId)).join(', ')}` } };
  }
  const last = reply.at(-1);
  const act = (last?.data as { dialogueAct?: unknown } | undefined)?.dialogueAct;
  return { ...base, decision: 'reply', why: { code: typeof act === 'string' ? act : (last?.kind ?? 'none'), detail: '' } };
}

/** The dry run's log lines go to debug: a hit test is not a conversation. */
export function toDryRunLogger(logger: Logger): Logger {
  return {
    info: (obj, msg) => logger.debug({ ...obj, dryRun: true }, msg),
    warn: (obj, msg) => logger.debug({ ...obj, dryRun: true }, msg),
    error: (obj, msg) => logger.error({ ...obj, dryRun: true }, msg),
    debug: (obj, msg) => logger.debug({ ...obj, dryRun: true }, msg),
  };
}
