import type { EscalationReason, HandoffRecord, HandoffSummary, HandoffWithConversation, OutboundBlockReason, Turn } from '../../core/index.js';

export const ACTION_CLAIM = 'handoff_claim';
export const ACTION_RESOLVE = 'handoff_resolve';
export const ACTION_HAND_BACK = 'handoff_hand_back';

/** Slack mrkdwn: only &, < and > need escaping. */
export const escapeMrkdwn = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

const REASON_LABEL: Record<EscalationReason, string> = {
  customer_requested_human: 'customer asked for a human',
  low_confidence: 'no confident answer in the knowledge base',
  sensitive_topic: 'sensitive topic (account security / funds)',
  scam_report: 'scam report (someone asked for a secret or a fee, or posed as support)',
  customer_unsatisfied: 'customer unsatisfied with the answer',
  model_failure: 'model failure',
  repeated_failure: 'repeated failed answers',
  repeated_abuse: 'abusive again after a calm reply',
};
const ROLE_LABEL: Record<string, string> = { customer: 'Customer', bot: 'Bot', system: 'System', agent: 'Agent' };

/** Who holds a handoff: a Slack user as a mention, an agent of another desk (the console's inbox, the admin API) by name. */
function holder(record: HandoffRecord): string {
  const id = record.claimedBy ?? '';
  return /^[UW][A-Z0-9]+$/.test(id) ? `<@${id}>` : escapeMrkdwn(record.claimedName ?? id);
}

function statusLine(record: HandoffRecord | undefined): string {
  if (!record) return ':hourglass_flowing_sand: *Waiting for an agent*';
  if (!record.open) return record.claimedBy ? `:white_check_mark: *Closed* (was with ${holder(record)})` : ':white_check_mark: *Closed*';
  if (record.claimedBy) return `:raising_hand: *Claimed by ${holder(record)}*`;
  return record.remindedAt ? ':rotating_light: *Still unclaimed*' : ':hourglass_flowing_sand: *Waiting for an agent*';
}

/** The thread root: who, why, how urgent, what was said and tried, and the buttons. */
export function toRootMessage(summary: HandoffSummary, record: HandoffRecord | undefined) {
  const urgent = summary.priority === 'urgent';
  const title = `${urgent ? ':red_circle: URGENT' : ':large_blue_circle: Normal'} — ${summary.channel} customer${summary.customerHandle ? ` ${summary.customerHandle}` : ''} needs a human`;
  const reason = summary.escalation
    ? `${REASON_LABEL[summary.escalation.reason] ?? summary.escalation.reason}${summary.escalation.detail ? ` — ${summary.escalation.detail}` : ''}`
    : 'unknown';
  const lastTurns =
    summary.lastTurns.map((t) => `*${ROLE_LABEL[t.role] ?? t.role}:* ${escapeMrkdwn(clip(t.text.replace(/\n+/g, ' '), 300))}`).join('\n') || '_none_';
  const tried = summary.triedEntries.length
    ? summary.triedEntries.map((e) => `\`${e.entryId}\` ${e.score.toFixed(3)}`).join(', ') +
      (summary.confidence !== null ? ` (confidence ${summary.confidence.toFixed(2)})` : '')
    : '_none_';
  const open = record ? record.open : true;
  const buttons = [
    ...(open && !record?.claimedBy
      ? [{ type: 'button', action_id: ACTION_CLAIM, text: { type: 'plain_text', text: 'Claim' }, style: 'primary', value: summary.conversationId }]
      : []),
    ...(open
      ? [
          { type: 'button', action_id: ACTION_RESOLVE, text: { type: 'plain_text', text: 'Resolve' }, value: summary.conversationId },
          { type: 'button', action_id: ACTION_HAND_BACK, text: { type: 'plain_text', text: 'Hand back to bot' }, value: summary.conversationId },
        ]
      : []),
  ];
  // The fallback text (notifications, clients without blocks) is mrkdwn too: customer words escaped like the blocks'.
  const text = `${escapeMrkdwn(title)}. Reason: ${escapeMrkdwn(reason)}. Summary: ${escapeMrkdwn(clip(summary.summary, 200))}`;
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(title.replace(/:[a-z_]+: /, ''), 150) } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Channel:*\n${summary.channel}${summary.customerHandle ? ` (${escapeMrkdwn(summary.customerHandle)})` : ''}` },
        { type: 'mrkdwn', text: `*Language:*\n${summary.language}` },
        { type: 'mrkdwn', text: `*Priority:*\n${urgent ? ':red_circle: urgent' : 'normal'}` },
        { type: 'mrkdwn', text: `*Status:*\n${statusLine(record)}` },
      ],
    },
    { type: 'section', text: { type: 'mrkdwn', text: `*Reason:* ${escapeMrkdwn(reason)}\n*Summary:* ${escapeMrkdwn(summary.summary)}` } },
    { type: 'section', text: { type: 'mrkdwn', text: `*Last turns:*\n${clip(lastTurns, 2900)}` } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `*Entries tried:* ${tried} · conversation \`${summary.conversationId}\`` }] },
    ...(buttons.length ? [{ type: 'actions', block_id: 'handoff_actions', elements: buttons }] : []),
  ];
  return { text, blocks };
}

/** One turn as a thread reply; undefined for turns already in Slack (the agents' own messages). */
export function toThreadMessage(turn: Turn, options: { reminderGroup: string | undefined; unclaimedMinutes: number }): string | undefined {
  const d = turn.data;
  if (d.desk?.tool === 'slack' && (turn.kind === 'message' || turn.kind === 'note' || turn.kind === 'edit')) return undefined;
  const who = d.agentId && d.desk?.tool === 'slack' ? `<@${d.agentId}>` : escapeMrkdwn(d.author ?? 'an agent');
  const text = escapeMrkdwn(turn.text);
  // Only the attachment's screened fields: a caption is the turn's text (screened with it).
  const files = (d.attachments ?? []).map(
    (a) => `:paperclip: ${a.type}${a.fileName ? ` ${escapeMrkdwn(a.fileName)}` : ''}${a.fileId ? ` (file id \`${a.fileId}\`)` : ''}`,
  );
  switch (turn.kind) {
    case 'handoff':
      switch (d.handoff) {
        case 'waiting':
          return `:information_source: Customer told: _${text}_`;
        case 'reminder': {
          const ping = options.reminderGroup ? `<!subteam^${options.reminderGroup}> ` : '<!here> ';
          return `:alarm_clock: ${ping}unclaimed for over ${options.unclaimedMinutes} min — please claim. Customer told: _${text}_`;
        }
        case 'claimed':
          return `:raising_hand: Claimed by ${who}`;
        case 'handed_back':
          return `:leftwards_arrow_with_hook: Handed back to the bot by ${who}`;
        case 'resolved':
          return `:white_check_mark: Resolved by ${who}; the customer was asked for a 1–5 rating`;
        default:
          return `:information_source: ${text}`;
      }
    case 'escalation':
      return `:rotating_light: Escalated${turn.escalation ? ` (${REASON_LABEL[turn.escalation.reason] ?? turn.escalation.reason}, ${turn.escalation.priority})` : ''}`;
    case 'rating':
      return `:star: Customer rated ${d.rating ?? turn.text}/5`;
    case 'note':
      return `:memo: Note by ${who}: ${text}`;
    default:
      break;
  }
  if (turn.role === 'customer' && d.contact === 'email') {
    return `:email: *Customer left an e-mail address for the answer:* ${text} (the helpdesk sends no e-mail: answer here, or write to it yourself)`;
  }
  if (turn.role === 'customer') {
    const label = turn.kind === 'edit' ? '*Customer (edited):*' : '*Customer:*';
    return [`${label} ${text}`, ...files].join('\n');
  }
  if (turn.role === 'agent') return `*${who}* (reply sent to the customer${d.desk?.tool ? ` via ${d.desk.tool}` : ''}): ${text}`;
  if (turn.role === 'bot') return `:robot_face: *Bot:* ${text}`;
  return `_${text}_`;
}

/** `/helpdesk`: open conversations, urgent first, then longest waiting. */
export function toQueueText(open: HandoffWithConversation[], now: Date, threadLink: (r: HandoffRecord) => string | undefined): string {
  if (open.length === 0) return 'No open conversations. :tada:';
  const lines = open.map(({ record, conversation }, i) => {
    const minutes = Math.max(0, Math.round((now.getTime() - record.escalatedAt.getTime()) / 60_000));
    const who = record.claimedBy ? `claimed by ${holder(record)}` : '*unclaimed*';
    const link = threadLink(record);
    return `${i + 1}. ${conversation.priority === 'urgent' ? ':red_circle: urgent' : 'normal'} · waiting ${minutes} min · ${conversation.channel}${conversation.customerHandle ? ` ${escapeMrkdwn(conversation.customerHandle)}` : ''} · ${who} · \`${conversation.id}\`${link ? ` · <${link}|thread>` : ''}`;
  });
  return `*${open.length} open conversation${open.length === 1 ? '' : 's'}:*\n${lines.join('\n')}`;
}

/** What an agent is told when the outbound guard kept their message from the customer. */
export function toBlockedNotice(result: { reasons: OutboundBlockReason[]; contacts: string[] }): string {
  const why: Record<OutboundBlockReason, string> = {
    asks_for_secret: 'it asks the customer for a secret (password, 2FA code, recovery phrase or private key). Support never asks for these.',
    asks_for_payment: 'it asks the customer to pay (a fee or deposit to unlock, unfreeze or verify an account). Support never does; scammers do.',
    unlisted_contact: `it names a contact that is not official (${result.contacts.map((c) => `\`${c.replace(/`/g, "'")}\``).join(', ')}). Name only the official channels or the knowledge base's links.`,
  };
  return `:no_entry: Not sent to the customer: ${result.reasons.map((r) => why[r]).join(' Also, ')} It is kept in the record as an internal note.`;
}
