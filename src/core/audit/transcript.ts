import { leafHash, verifyInclusion } from './merkle.js';
import { type LogHeader, parseHeader, toContentCommitment } from './log-entry.js';
import { type NoteVerifier, openCheckpoint, openNote, parseVerifierKey, toReceiptBody } from './signed-note.js';

export const TRANSCRIPT_FORMAT = 'helpdesk-transcript/v1';

/** One log entry of the conversation, with everything needed to check it offline. */
export interface TranscriptEntry {
  idx: number;
  /** Exact header bytes, base64. */
  header: string;
  /** Inclusion proof in the checkpoint's tree, base64 hashes. */
  proof: string[];
  /** Signed note over (origin/receipt, index, leaf hash). */
  receipt: string;
  /** Salt and canonical content bytes (base64); absent for turns erased at the customer's request. */
  content?: { salt: string; bytes: string };
  /** Index of the erasure entry that destroyed this turn's content. */
  erasedBy?: number;
  /** An agents' internal note: logged and proven, its content not disclosed to the customer. */
  withheld?: boolean;
}

/** A customer's verifiable transcript (JSON). The `readable` field is a convenience, not evidence. */
export interface TranscriptBundle {
  format: typeof TRANSCRIPT_FORMAT;
  origin: string;
  /** The log's verifier key as published at GET /log/public-key; verify against that, not this. */
  publicKey: string;
  conversationId: string;
  generatedAt: string;
  /** Signed checkpoint (C2SP) the proofs lead to. */
  checkpoint: string;
  entries: TranscriptEntry[];
  readable?: string;
}

export interface VerifiedTurn {
  idx: number;
  seq: number;
  role: string;
  kind: string;
  language: string;
  at: number;
  status: 'verified' | 'erased' | 'withheld';
  text: string | null;
  escalation: { reason: string; priority: string } | null;
}

export type TranscriptCheck = {
  ok: boolean;
  problems: string[];
  treeSize: number | null;
  turns: VerifiedTurn[];
  closedAt: number | null;
};

const b64 = (s: string) => Buffer.from(s, 'base64');

/**
 * Verifies a transcript offline with only the log's public key: the checkpoint signature, every
 * entry's inclusion proof, the conversation's chain (nothing removed, inserted or reordered), and
 * every turn's content against its salted commitment.
 */
export function verifyTranscript(bundle: TranscriptBundle, publicKey: string | NoteVerifier): TranscriptCheck {
  const problems: string[] = [];
  const turns: VerifiedTurn[] = [];
  let closedAt: number | null = null;
  const done = (treeSize: number | null): TranscriptCheck => ({ ok: problems.length === 0, problems, treeSize, turns, closedAt });
  if (bundle?.format !== TRANSCRIPT_FORMAT) {
    problems.push(`not a transcript bundle (format ${String(bundle?.format)})`);
    return done(null);
  }
  let verifier: NoteVerifier;
  try {
    verifier = typeof publicKey === 'string' ? parseVerifierKey(publicKey) : publicKey;
  } catch (error) {
    problems.push(`public key unusable: ${(error as Error).message}`);
    return done(null);
  }
  const opened = openCheckpoint(bundle.checkpoint, verifier, bundle.origin);
  if (!opened.ok) {
    problems.push(`checkpoint rejected: ${opened.reason}`);
    return done(null);
  }
  const { size, root } = opened.checkpoint;
  if (!Array.isArray(bundle.entries) || bundle.entries.length === 0) {
    problems.push('the transcript has no entries');
    return done(size);
  }
  let prev: string | null = null;
  let lastSeq = 0;
  let lastIdx = -1;
  for (const entry of bundle.entries) {
    const where = `entry #${entry.idx}`;
    const headerBytes = b64(entry.header ?? '');
    const leaf = leafHash(headerBytes);
    if (!verifyInclusion(entry.idx, size, leaf, (entry.proof ?? []).map(b64), root)) {
      problems.push(`${where}: not in the signed log (altered, forged, or a wrong proof)`);
      continue;
    }
    const receipt = entry.receipt ? openNote(entry.receipt, verifier) : { ok: false as const, reason: 'missing' };
    if (!receipt.ok || receipt.body !== toReceiptBody(bundle.origin, entry.idx, leaf)) problems.push(`${where}: receipt ${receipt.ok ? 'is for another entry' : receipt.reason}`);
    const parsed = parseHeader(headerBytes);
    if (!parsed.ok) {
      problems.push(`${where}: ${parsed.reason}`);
      continue;
    }
    const h: LogHeader = parsed.header;
    if (h.conv !== bundle.conversationId) problems.push(`${where}: belongs to another conversation`);
    if (entry.idx <= lastIdx) problems.push(`${where}: entries out of order`);
    lastIdx = entry.idx;
    if (h.prev !== prev) problems.push(`${where}: does not follow the previous entry of this conversation (an entry was removed or reordered)`);
    prev = leaf.toString('hex');
    if (h.kind === 'close') closedAt = h.seq;
    if (h.kind !== 'turn') continue;
    if (h.seq !== lastSeq + 1) problems.push(`turn ${h.seq}: turn ${lastSeq + 1} is missing`);
    lastSeq = h.seq;
    closedAt = null;
    let text: string | null = null;
    let status: VerifiedTurn['status'] = 'verified';
    if (entry.content) {
      const bytes = b64(entry.content.bytes);
      if (toContentCommitment(b64(entry.content.salt), bytes) !== h.commit) {
        problems.push(`turn ${h.seq}: content altered (does not match its commitment)`);
      } else {
        try {
          text = String((JSON.parse(bytes.toString('utf8')) as { text: unknown }).text);
        } catch {
          problems.push(`turn ${h.seq}: content is not JSON`);
        }
      }
    } else if (typeof entry.erasedBy === 'number') {
      status = 'erased';
    } else if (entry.withheld === true) {
      status = 'withheld';
    } else {
      problems.push(`turn ${h.seq}: content missing`);
    }
    turns.push({ idx: entry.idx, seq: h.seq, role: h.role, kind: h.type, language: h.lang, at: h.at, status, text, escalation: h.esc });
  }
  if (closedAt !== null && closedAt !== lastSeq) problems.push(`conversation closed after ${closedAt} turns but ${lastSeq} are present`);
  return done(size);
}

const ROLE_NAMES: Record<string, string> = { customer: '客户 Customer', bot: '机器人 Bot', agent: '客服 Agent', system: '系统 System' };

/** A readable rendering with Chinese and English headings, from verified turns. */
export function renderTranscript(bundle: TranscriptBundle, check: TranscriptCheck): string {
  const lines = [
    '对话记录 / Conversation transcript',
    '==================================',
    `会话 / Conversation: ${bundle.conversationId}`,
    `生成时间 / Generated: ${bundle.generatedAt}`,
    `日志 / Log: ${bundle.origin}, 树大小 / tree size ${check.treeSize ?? '?'}`,
    `验证结果 / Verification: ${check.ok ? '通过 / PASSED' : '失败 / FAILED'}`,
    ...check.problems.map((p) => `  ! ${p}`),
    '',
    '内容 / Turns',
    '------------',
  ];
  for (const t of check.turns) {
    const when = new Date(t.at).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
    const who = ROLE_NAMES[t.role] ?? t.role;
    const esc = t.escalation ? ` [转人工 / escalated: ${t.escalation.reason}, ${t.escalation.priority}]` : '';
    const body =
      t.status === 'erased'
        ? '（已应客户要求删除 / erased at the customer’s request）'
        : t.status === 'withheld'
          ? '（客服内部备注，内容不公开 / agents’ internal note, content not disclosed）'
          : (t.text ?? '');
    lines.push(`#${t.seq} ${when} ${who}${esc}`, ...body.split('\n').map((l) => `    ${l}`), '');
  }
  if (check.closedAt !== null) lines.push(`会话已结束，共 ${check.closedAt} 条 / Conversation closed after ${check.closedAt} turns`, '');
  lines.push(
    '如何验证 / How to verify',
    '------------------------',
    '下载 JSON 文件后运行 / With the JSON file: npm run transcript:verify FILE -- --key "<public key>"',
    '或在浏览器打开 /verify-transcript 页面 / or open the /verify-transcript page of the helpdesk.',
    `公钥 / Public key (compare with GET /log/public-key): ${bundle.publicKey}`,
  );
  return `${lines.join('\n')}\n`;
}
