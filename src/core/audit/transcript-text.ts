import type { NoteFailureCode } from './note-format.js';
import type { TranscriptLanguage, TranscriptProblem, TranscriptReport, VerifiedEvent, VerifiedItem, VerifiedTurn } from './transcript.js';

/**
 * What a person reads about a transcript, in Chinese or English, built only from a verification
 * report (never from the bundle): the verdict, the problems, the checkpoint, the key to compare and
 * the verified turns. The command line prints it as text, the /verify-transcript page builds its
 * page from the same view, the server sends the text with a customer's transcript.
 */

/** `zh…` (any Chinese locale or language tag) reads Chinese; anything else English. */
export function toTranscriptLanguage(tag: string | null | undefined): TranscriptLanguage {
  return /^zh/i.test(tag ?? '') ? 'zh' : 'en';
}

type Params = Record<string, string | number>;
type Catalog = Record<TranscriptLanguage, (p: Params) => string>;

const NOTE_FAILURES: Record<NoteFailureCode | 'other_entry' | 'extra_signature', Record<TranscriptLanguage, string>> = {
  not_note: { en: 'it is not a signed note', zh: '不是签名文本' },
  malformed_signature: { en: 'a signature line is malformed', zh: '签名行格式错误' },
  no_signature: { en: 'it carries no signature by this key', zh: '没有此公钥的签名' },
  invalid_signature: { en: 'its signature is invalid', zh: '签名无效' },
  wrong_origin: { en: 'it is from another log', zh: '来自另一个日志' },
  malformed_size: { en: 'its tree size is malformed', zh: '树大小格式错误' },
  malformed_root: { en: 'its root hash is malformed', zh: '根哈希格式错误' },
  bad_key: { en: 'the key is malformed', zh: '公钥格式错误' },
  other_entry: { en: 'it is for another entry', zh: '针对的是另一条记录' },
  extra_signature: { en: 'it carries a signature line nobody checks', zh: '含有无法核验的签名行' },
};
const noteFailure = (code: string | number, lang: TranscriptLanguage) => NOTE_FAILURES[code as NoteFailureCode]?.[lang] ?? String(code);

const PROBLEMS: Record<TranscriptProblem['code'], Catalog> = {
  not_transcript: { en: (p) => `not a transcript file (format ${p.format})`, zh: (p) => `不是聊天记录文件（格式 ${p.format}）` },
  unexpected_field: {
    en: (p) => `the file carries “${p.path}”, which no verification covers`,
    zh: (p) => `文件含有“${p.path}”，它不在任何验证范围内`,
  },
  malformed_field: { en: (p) => `“${p.path}” is missing or malformed`, zh: (p) => `“${p.path}”缺失或格式错误` },
  key_unusable: { en: (p) => `the public key cannot be used: ${p.reason}`, zh: (p) => `公钥无法使用（${p.reason}）` },
  key_differs: {
    en: (p) => `the file names another public key (${p.inFile}) than the one used (${p.used})`,
    zh: (p) => `文件中的公钥（${p.inFile}）与用于验证的公钥（${p.used}）不同`,
  },
  origin_differs: {
    en: (p) => `the transcript is from log “${p.actual}”, expected “${p.expected}”`,
    zh: (p) => `聊天记录来自日志“${p.actual}”，应为“${p.expected}”`,
  },
  checkpoint_rejected: {
    en: (p) => `the signed checkpoint is rejected: ${noteFailure(p.reason as string, 'en')}`,
    zh: (p) => `签名检查点未通过：${noteFailure(p.reason as string, 'zh')}`,
  },
  no_entries: { en: () => 'the transcript has no entries', zh: () => '聊天记录中没有任何记录' },
  not_in_log: { en: () => 'not in the signed log (altered, forged, or a wrong proof)', zh: () => '不在已签名的日志中（被改动、伪造或证明错误）' },
  receipt_rejected: {
    en: (p) => `its receipt is rejected: ${noteFailure(p.reason as string, 'en')}`,
    zh: (p) => `回执未通过：${noteFailure(p.reason as string, 'zh')}`,
  },
  header_unreadable: { en: (p) => `its header cannot be read (${p.detail})`, zh: (p) => `记录头无法读取（${p.detail}）` },
  other_conversation: { en: () => 'it belongs to another conversation', zh: () => '属于另一段会话' },
  out_of_order: { en: () => 'the entries are out of order', zh: () => '记录顺序错乱' },
  chain_broken: {
    en: () => 'it does not follow the previous entry of this conversation (an entry was removed, inserted or reordered)',
    zh: () => '没有接上本会话的上一条记录（有记录被删除、插入或调换）',
  },
  turn_missing: {
    en: (p) => `turn ${p.missing} is missing (the next present is turn ${p.seq})`,
    zh: (p) => `缺少第 ${p.missing} 条（下一条为第 ${p.seq} 条）`,
  },
  content_altered: {
    en: (p) => `the content of turn ${p.seq} was altered (it does not match its commitment)`,
    zh: (p) => `第 ${p.seq} 条的内容被改动（与其承诺值不符）`,
  },
  content_unreadable: { en: (p) => `the content of turn ${p.seq} cannot be read`, zh: (p) => `第 ${p.seq} 条的内容无法读取` },
  content_missing: { en: (p) => `the content of turn ${p.seq} is missing, without an erasure`, zh: (p) => `第 ${p.seq} 条的内容缺失，且没有删除记录` },
  content_and_mark: {
    en: (p) => `turn ${p.seq} is marked in contradicting ways (content, erased, withheld)`,
    zh: (p) => `第 ${p.seq} 条的标记互相矛盾（内容、已删除、不公开）`,
  },
  erasure_unproven: {
    en: (p) => `turn ${p.seq} is marked as erased by log entry #${p.erasedBy}, which is no erasure of it in this transcript`,
    zh: (p) => `第 ${p.seq} 条标为被日志记录 #${p.erasedBy} 删除，但本记录中没有这样的删除`,
  },
  withheld_not_note: {
    en: (p) => `turn ${p.seq} is withheld, but only an agent's internal note may be`,
    zh: (p) => `第 ${p.seq} 条被标为不公开，但只有客服内部备注可以不公开`,
  },
  closed_count: {
    en: (p) => `the conversation was closed after ${p.closedAt} turns but ${p.present} are present`,
    zh: (p) => `会话结束时共 ${p.closedAt} 条，但这里只有 ${p.present} 条`,
  },
  readable_differs: {
    en: (p) =>
      `the readable text in the file differs from what the verified entries say, first at line ${p.line}: the file says “${p.carried}”, the verified entries say “${p.verified}”`,
    zh: (p) => `文件中的可读文本与已验证的记录不符，第一处在第 ${p.line} 行：文件写的是“${p.carried}”，已验证的记录是“${p.verified}”`,
  },
};

export function problemText(problem: TranscriptProblem, lang: TranscriptLanguage): string {
  const text = PROBLEMS[problem.code][lang](problem.params);
  if (problem.idx === null) return text;
  return lang === 'zh' ? `日志记录 #${problem.idx}：${text}` : `log entry #${problem.idx}: ${text}`;
}

const ROLES: Record<string, Record<TranscriptLanguage, string>> = {
  customer: { en: 'Customer', zh: '客户' },
  bot: { en: 'Bot', zh: '机器人' },
  agent: { en: 'Agent', zh: '客服' },
  system: { en: 'System', zh: '系统' },
};

/** UTC, to the second, the same in both languages. */
export function formatLogTime(at: number): string {
  return new Date(at)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

export type ItemStatus = VerifiedTurn['status'] | 'event';

export interface TranscriptView {
  lang: TranscriptLanguage;
  ok: boolean;
  verdict: string;
  problemsTitle: string;
  problems: string[];
  sections: Array<{ id: 'conversation' | 'checkpoint' | 'key' | 'unverified'; title: string; rows: Array<[string, string]>; note: string | null }>;
  itemsTitle: string;
  items: Array<{ idx: number; status: ItemStatus; heading: string; body: string }>;
  footer: string[];
}

const T = {
  en: {
    verified: (turns: number, size: number) => `✔ VERIFIED: ${turns} turns, each proven by the log's signed checkpoint (a log of ${size} entries)`,
    verifiedOwnKey: (turns: number) =>
      `✔ VERIFIED WITH THE FILE'S OWN KEY: ${turns} turns. This proves nothing until that key (below) matches the one the exchange publishes`,
    failed: (n: number) => `✘ NOT VERIFIED: ${n} problem${n === 1 ? '' : 's'}. Only what is shown below as verified comes from the signed log`,
    problems: 'Problems',
    conversation: 'Conversation',
    id: 'id',
    checkpoint: 'Signed checkpoint',
    origin: 'log (origin)',
    size: 'tree size',
    entries: (n: number) => `${n} entries`,
    root: 'root hash',
    signature: 'signature',
    signatureValid: (by: string) => `valid, by key ${by}`,
    signatureRejected: (why: string) => `rejected: ${why}`,
    otherSignatures: 'other signatures',
    notChecked: (list: string) => `${list} (not checked)`,
    key: 'Public key',
    keyUsed: 'key used',
    keyGiven:
      'Compare it with the key the exchange publishes (GET /log/public-key on its helpdesk, or its announcements): only that key makes this verification mean something.',
    keyFromFile:
      'Taken from the file itself, because no key was given. Anyone who forges a file can put their own key in it: compare this key with the one the exchange publishes (GET /log/public-key) before trusting anything below.',
    keyServer: "The helpdesk's key (GET /log/public-key). Check the JSON file yourself with the key the exchange publishes.",
    unverified: 'Said by the file only (not verified)',
    generatedAt: 'generated at',
    readableMatches: 'The readable text in this older file matches the verified entries.',
    turns: (n: number) => `Turns (${n}) and log events, as the verified entries say`,
    entry: (idx: number) => `log entry #${idx}`,
    escalated: (reason: string, priority: string) => `handed to a human: ${reason}, ${priority}`,
    erased: (idx: number, reason: string, at: string) => `[erased at the customer's request: log entry #${idx}, ${reason}, ${at}]`,
    withheld: "[an agents' internal note: logged and proven, content not disclosed]",
    unproven: '[not verified: content missing or altered, not shown]',
    cited: (list: string) => `cited: ${list}`,
    event: {
      close: (e: VerifiedEvent) => `Conversation closed after ${e.seq} turns`,
      erasure: (e: VerifiedEvent) => `Erasure of turns 1–${e.seq} (${e.reason})`,
      erasure_deferred: (e: VerifiedEvent) => `Erasure requested, deferred (${e.reason})`,
      legal_hold: (e: VerifiedEvent) => (e.on ? 'Legal hold placed' : 'Legal hold released'),
    },
    howTo: [
      'How to check this yourself: with the JSON file, run',
      '    npm run transcript:verify FILE -- --key "<the key the exchange publishes>"',
      "or open the /verify-transcript page of the exchange's helpdesk (the file stays in your browser).",
    ],
  },
  zh: {
    verified: (turns: number, size: number) => `✔ 验证通过：共 ${turns} 条，每条都由日志的签名检查点证明（日志共 ${size} 条记录）`,
    verifiedOwnKey: (turns: number) => `✔ 已用文件自带的公钥验证：共 ${turns} 条。在该公钥（见下）与交易所公布的公钥核对一致之前，这不能证明任何事`,
    failed: (n: number) => `✘ 验证失败：发现 ${n} 个问题。下方只有标为已验证的内容来自签名日志`,
    problems: '问题',
    conversation: '会话',
    id: '编号',
    checkpoint: '签名检查点',
    origin: '日志（origin）',
    size: '树大小',
    entries: (n: number) => `${n} 条记录`,
    root: '根哈希',
    signature: '签名',
    signatureValid: (by: string) => `有效，签名公钥 ${by}`,
    signatureRejected: (why: string) => `未通过：${why}`,
    otherSignatures: '其他签名',
    notChecked: (list: string) => `${list}（未核验）`,
    key: '公钥',
    keyUsed: '所用公钥',
    keyGiven: '请与交易所公布的公钥核对（其客服站点的 GET /log/public-key 或官方公告）：只有用该公钥验证才有意义。',
    keyFromFile: '未提供公钥，因此取自文件本身。伪造文件的人可以放入自己的公钥：在相信下方任何内容之前，请先与交易所公布的公钥（GET /log/public-key）核对。',
    keyServer: '客服系统的公钥（GET /log/public-key）。请用交易所公布的公钥自行验证 JSON 文件。',
    unverified: '仅为文件自述（未验证）',
    generatedAt: '生成时间',
    readableMatches: '这份旧格式文件中的可读文本与已验证的记录一致。',
    turns: (n: number) => `对话（${n} 条）及日志事件，以已验证的记录为准`,
    entry: (idx: number) => `日志记录 #${idx}`,
    escalated: (reason: string, priority: string) => `转人工：${reason}，${priority}`,
    erased: (idx: number, reason: string, at: string) => `【已应客户要求删除：日志记录 #${idx}，${reason}，${at}】`,
    withheld: '【客服内部备注：已记录并可证明，内容不公开】',
    unproven: '【未验证：内容缺失或被改动，不予显示】',
    cited: (list: string) => `引用：${list}`,
    event: {
      close: (e: VerifiedEvent) => `会话已结束，共 ${e.seq} 条`,
      erasure: (e: VerifiedEvent) => `删除第 1–${e.seq} 条的内容（${e.reason}）`,
      erasure_deferred: (e: VerifiedEvent) => `已请求删除，暂缓执行（${e.reason}）`,
      legal_hold: (e: VerifiedEvent) => (e.on ? '已设置法律保全' : '已解除法律保全'),
    },
    howTo: [
      '自行验证：下载 JSON 文件后运行',
      '    npm run transcript:verify FILE -- --key "<交易所公布的公钥>"',
      '或打开交易所客服站点的 /verify-transcript 页面（文件只在您的浏览器中处理）。',
    ],
  },
};

function itemView(item: VerifiedItem, lang: TranscriptLanguage): TranscriptView['items'][number] {
  const t = T[lang];
  const when = formatLogTime(item.at);
  if (item.type === 'event') {
    return { idx: item.idx, status: 'event', heading: `${t.entry(item.idx)} · ${when}`, body: t.event[item.kind](item) };
  }
  const parts = [`#${item.seq}`, when, ROLES[item.role]?.[lang] ?? item.role];
  if (item.escalation) parts.push(t.escalated(item.escalation.reason, item.escalation.priority));
  if (item.status === 'verified' && item.cites.length > 0) parts.push(t.cited(item.cites.map(([id, version]) => `${id} v${version}`).join(', ')));
  parts.push(t.entry(item.idx));
  const body =
    item.status === 'verified'
      ? (item.text ?? '')
      : item.status === 'erased' && item.erasure
        ? t.erased(item.erasure.idx, item.erasure.reason, formatLogTime(item.erasure.at))
        : item.status === 'withheld'
          ? t.withheld
          : t.unproven;
  return { idx: item.idx, status: item.status, heading: parts.join(' · '), body };
}

/**
 * The view of a report. `audience: 'customer'` is the server's own rendering sent with a transcript
 * (it adds how to check it independently); the default is a verifier's (command line, page).
 */
export function describeTranscript(report: TranscriptReport, lang: TranscriptLanguage, options: { audience?: 'verifier' | 'customer' } = {}): TranscriptView {
  const t = T[lang];
  const turns = report.turns.length;
  const verdict = !report.ok
    ? t.failed(report.problems.length)
    : report.key?.source === 'bundle'
      ? t.verifiedOwnKey(turns)
      : t.verified(turns, report.checkpoint?.size ?? 0);
  const sections: TranscriptView['sections'] = [];
  if (report.conversationId !== null) sections.push({ id: 'conversation', title: t.conversation, rows: [[t.id, report.conversationId]], note: null });
  if (report.checkpoint) {
    const c = report.checkpoint;
    const rows: Array<[string, string]> = [
      [t.origin, c.origin],
      [t.size, t.entries(c.size)],
      [t.root, c.root],
      [t.signature, t.signatureValid(c.signedBy)],
    ];
    if (c.otherSignatures.length > 0) rows.push([t.otherSignatures, t.notChecked(c.otherSignatures.join(', '))]);
    sections.push({ id: 'checkpoint', title: t.checkpoint, rows, note: null });
  } else if (report.checkpointFailure) {
    sections.push({
      id: 'checkpoint',
      title: t.checkpoint,
      rows: [[t.signature, t.signatureRejected(noteFailure(report.checkpointFailure, lang))]],
      note: null,
    });
  }
  if (report.key) {
    const note = options.audience === 'customer' ? t.keyServer : report.key.source === 'bundle' ? t.keyFromFile : t.keyGiven;
    sections.push({ id: 'key', title: t.key, rows: [[t.keyUsed, report.key.text]], note });
  }
  if (report.unverified.length > 0 || report.readable === 'matches') {
    sections.push({
      id: 'unverified',
      title: t.unverified,
      rows: report.unverified.map((u): [string, string] => [u.field === 'generatedAt' ? t.generatedAt : u.field, u.value]),
      note: report.readable === 'matches' ? t.readableMatches : null,
    });
  }
  return {
    lang,
    ok: report.ok,
    verdict,
    problemsTitle: t.problems,
    problems: report.problems.map((p) => problemText(p, lang)),
    sections,
    itemsTitle: t.turns(turns),
    items: report.items.map((item) => itemView(item, lang)),
    footer: options.audience === 'customer' ? t.howTo : [],
  };
}

/** The view as plain text (command line, chat message, text download). */
export function renderTranscriptText(view: TranscriptView): string {
  const lines = [view.verdict, ''];
  if (view.problems.length > 0) lines.push(view.problemsTitle, ...view.problems.map((p) => `  ! ${p}`), '');
  for (const section of view.sections) {
    lines.push(section.title);
    const width = Math.max(0, ...section.rows.map(([label]) => label.length));
    for (const [label, value] of section.rows) lines.push(`  ${label.padEnd(width)}  ${value}`);
    if (section.note) lines.push(`  ${section.note}`);
    lines.push('');
  }
  lines.push(view.itemsTitle, '');
  for (const item of view.items) lines.push(item.heading, ...item.body.split('\n').map((l) => `    ${l}`), '');
  if (view.footer.length > 0) lines.push(...view.footer, '');
  return `${lines.join('\n').trimEnd()}\n`;
}
