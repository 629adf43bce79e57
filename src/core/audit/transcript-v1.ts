/**
 * Bundles of format helpdesk-transcript/v1 carried a `readable` text rendered by the server. It is
 * only trustworthy if it is exactly what the verified entries say, so the verifier renders it again
 * here, character for character as the server did, and compares. Frozen: changing a byte of this
 * rendering makes every v1 bundle in customers' hands fail.
 */

interface V1Turn {
  seq: number;
  role: string;
  at: number;
  status: string;
  text: string | null;
  escalation: { reason: string; priority: string } | null;
}

const ROLE_NAMES: Record<string, string> = { customer: '客户 Customer', bot: '机器人 Bot', agent: '客服 Agent', system: '系统 System' };

/** The readable text a v1 bundle carries when its verification passed on the server. */
export function renderV1Readable(v: {
  conversationId: string;
  generatedAt: string;
  origin: string;
  publicKey: string;
  treeSize: number;
  turns: V1Turn[];
  closedAt: number | null;
}): string {
  const lines = [
    '对话记录 / Conversation transcript',
    '==================================',
    `会话 / Conversation: ${v.conversationId}`,
    `生成时间 / Generated: ${v.generatedAt}`,
    `日志 / Log: ${v.origin}, 树大小 / tree size ${v.treeSize}`,
    '验证结果 / Verification: 通过 / PASSED',
    '',
    '内容 / Turns',
    '------------',
  ];
  for (const t of v.turns) {
    const when = new Date(t.at)
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, ' UTC');
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
  if (v.closedAt !== null) lines.push(`会话已结束，共 ${v.closedAt} 条 / Conversation closed after ${v.closedAt} turns`, '');
  lines.push(
    '如何验证 / How to verify',
    '------------------------',
    '下载 JSON 文件后运行 / With the JSON file: npm run transcript:verify FILE -- --key "<public key>"',
    '或在浏览器打开 /verify-transcript 页面 / or open the /verify-transcript page of the helpdesk.',
    `公钥 / Public key (compare with GET /log/public-key): ${v.publicKey}`,
  );
  return `${lines.join('\n')}\n`;
}

const EXCERPT = 60;

/** Where `carried` first departs from `expected`: line number and both lines around that spot (`⟨end⟩` past the last line); null when equal. */
export function firstDifference(carried: string, expected: string): { line: number; carried: string; verified: string } | null {
  if (carried === expected) return null;
  const a = carried.split('\n');
  const b = expected.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const x = a[i];
  const y = b[i];
  let col = 0;
  if (x !== undefined && y !== undefined) while (col < x.length && col < y.length && x[col] === y[col]) col++;
  const around = (line: string | undefined) => {
    if (line === undefined) return '⟨end⟩';
    const start = Math.max(0, col - EXCERPT / 2);
    return `${start > 0 ? '…' : ''}${line.slice(start, start + EXCERPT)}${start + EXCERPT < line.length ? '…' : ''}`;
  };
  return { line: i + 1, carried: around(x), verified: around(y) };
}
