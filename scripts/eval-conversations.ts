import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readKnowledgeFiles } from '../src/adapters/knowledge-files/read-knowledge-files.js';
import { loadConfig } from '../src/config.js';
import { createOfficialAllowlist, validateEntries } from '../src/core/index.js';
import { readConversationSet } from '../src/evaluation/conversation-set.js';
import { playConversations, type Tally } from '../src/evaluation/play-conversations.js';

const USAGE = `usage: npm run eval:conversations -- --file conversations.jsonl [--kb knowledge-folder] [--json] [--verbose]

Plays every conversation of the file through the real helpdesk (offline: local embedder, no model;
a fresh in-memory PGlite database; the knowledge folder synced, default ./knowledge) and scores each
customer turn against its expectation, on the conversation as it really went (a wrong handoff
leaves the turns after it with humans). Prints the accuracy per expectation kind, per locale and
overall, the deflection rate (conversations finished without a human) and the dialogue-act
classifier's accuracy on the typed turns; --json prints one JSON object instead (wrong turns
included), --verbose lists every wrong turn.

The file: one conversation per line, e.g.
  {"id": "zh-greet-withdrawal", "locale": "zh-Hans", "turns": [
    {"customer": "你好", "expect": {"smallTalk": "greeting"}},
    {"customer": "USDT提现pending了", "expect": {"answer": ["withdrawal-pending-zh"]}},
    {"customer": "谢谢", "expect": {"smallTalk": "thanks"}}]}
Expectations: {"smallTalk": act}, {"answer": [entry ids]}, {"clarify": [entry ids, may be empty]},
{"escalate": [reason codes]}, {"forward": true}. A customer turn is a text, {"action": "solved"|"human"}
or {"choose": entry id | null} (a pick among the choices the bot offered; null: "None of these").
See docs/conversation-set.md.`;

const { values } = parseArgs({
  options: {
    file: { type: 'string' },
    kb: { type: 'string', default: 'knowledge' },
    json: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!values.file) {
  console.error(USAGE);
  process.exit(2);
}

const config = loadConfig(process.env);
const knowledgeDir = resolve(values.kb);
const entryIds = new Set(validateEntries(await readKnowledgeFiles(knowledgeDir)).entries.map((e) => e.id));
const conversations = await readConversationSet(values.file, entryIds);
const started = performance.now();
const { figures, turns } = await playConversations({
  conversations,
  knowledgeDir,
  settings: { exchangeName: config.exchangeName, answerThreshold: config.answerThreshold, maxMessageChars: config.maxMessageChars },
  safety: { allowlist: createOfficialAllowlist(config.safety.official) },
});
const seconds = (performance.now() - started) / 1000;
const wrong = turns.filter((t) => !t.correct);

if (values.json) {
  console.log(JSON.stringify({ ...figures, seconds: Number(seconds.toFixed(1)), wrongTurns: wrong }));
} else {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  const row = (label: string, t: Tally) => `${label.padEnd(22)} ${String(t.correct).padStart(4)} / ${String(t.turns).padEnd(4)} ${pct(t.accuracy)}`;
  console.log(`${figures.conversations} conversations, ${figures.turns} customer turns; offline, threshold ${config.answerThreshold}; ${seconds.toFixed(1)} s`);
  console.log(row('all turns', figures));
  for (const [kind, t] of Object.entries(figures.byKind)) console.log(row(`  ${kind}`, t as Tally));
  for (const [locale, t] of Object.entries(figures.byLocale)) console.log(row(`  ${locale}`, t as Tally));
  console.log(`conversations with every turn right: ${figures.conversationsAllRight} / ${figures.conversations}`);
  console.log(`deflection (finished without a human): ${pct(figures.deflection)} (the set expects ${pct(figures.expectedDeflection)})`);
  console.log(row('dialogue-act classifier', figures.dialogueActs));
  if (values.verbose) {
    for (const t of wrong) {
      const said = typeof t.customer === 'string' ? t.customer : JSON.stringify(t.customer);
      console.log(`  ✗ ${t.conversation}#${t.turn} ${JSON.stringify(said)} expected ${JSON.stringify(t.expect)}, got ${t.got}`);
    }
    for (const a of figures.dialogueActs.wrong) console.log(`  act ✗ ${JSON.stringify(a.text)} expected ${a.expected}, got ${a.got}`);
  }
}
