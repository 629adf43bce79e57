/**
 * The /verify-transcript page, in the browser: reads the chosen file, verifies it with the same core
 * verifier the command line runs (bundled by esbuild when the page is first served) and shows what
 * the verified entries say, in Chinese or English. Nothing leaves the browser.
 */
import { describeTranscript, type TranscriptView } from '../../../core/audit/transcript-text.js';
import { type TranscriptLanguage, type TranscriptReport, verifyTranscript } from '../../../core/audit/transcript.js';

const UI: Record<TranscriptLanguage, Record<string, string>> = {
  en: {
    title: 'Verify a transcript',
    intro:
      'Checks a transcript file from our helpdesk against the signed turn log, in this browser: the file is not uploaded. Everything shown after checking comes from the verified log entries, never from text the file merely claims.',
    file: 'Transcript file (JSON)',
    key: 'Log public key',
    keyHint:
      "Filled in from this site's /log/public-key. Compare it with the key the exchange publishes elsewhere (its website, announcements); leave it empty to use the file's own key (which proves nothing by itself).",
    verify: 'Verify',
    idle: 'Choose a file, then press Verify.',
    checking: 'Checking…',
    noFile: 'Choose a file first.',
    notJson: 'The file is not JSON: ',
    error: 'Could not check the file: ',
  },
  zh: {
    title: '验证聊天记录',
    intro: '在本浏览器中，用已签名的对话日志核验客服系统导出的聊天记录文件，文件不会上传。验证后显示的所有内容都来自已验证的日志记录，而不是文件自称的文字。',
    file: '聊天记录文件（JSON）',
    key: '日志公钥',
    keyHint: '已自动填入本站 /log/public-key 的公钥。请与交易所在别处（官网、公告）公布的公钥核对；留空则使用文件自带的公钥（这本身不能证明任何事）。',
    verify: '验证',
    idle: '请选择文件，然后点击“验证”。',
    checking: '正在验证……',
    noFile: '请先选择文件。',
    notJson: '文件不是 JSON：',
    error: '无法验证该文件：',
  },
};

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function browserLanguage(): TranscriptLanguage {
  const tags = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const tag of tags) {
    if (/^zh/i.test(tag)) return 'zh';
    if (/^en/i.test(tag)) return 'en';
  }
  return 'en';
}

let lang: TranscriptLanguage = browserLanguage();
/** The last verification, shown again in the other language when the reader switches. */
let shown: { report: TranscriptReport } | { message: string; key: 'idle' | 'checking' | 'noFile' | 'notJson' | 'error' } = { message: '', key: 'idle' };

function el(tag: string, attrs: Record<string, string>, ...children: Array<Node | string>): HTMLElement {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  // Text goes in as text nodes: the file's content is never parsed as markup.
  for (const child of children) node.append(child);
  return node;
}

function renderView(view: TranscriptView): Node {
  const out = document.createDocumentFragment();
  out.append(el('p', { class: view.ok ? 'verdict ok' : 'verdict bad', 'data-testid': 'verdict', role: 'status' }, view.verdict));
  if (view.problems.length > 0) {
    out.append(el('h2', {}, view.problemsTitle), el('ul', { class: 'problems', 'data-testid': 'problems' }, ...view.problems.map((p) => el('li', {}, p))));
  }
  for (const section of view.sections) {
    const rows = section.rows.map(([label, value]) => el('tr', {}, el('th', { scope: 'row' }, label), el('td', {}, el('code', {}, value))));
    out.append(
      el(
        'section',
        { 'data-testid': `section-${section.id}` },
        el('h2', {}, section.title),
        el('table', {}, el('tbody', {}, ...rows)),
        ...(section.note ? [el('p', { class: 'note' }, section.note)] : []),
      ),
    );
  }
  out.append(el('h2', {}, view.itemsTitle));
  const items = view.items.map((item) =>
    el(
      'li',
      { class: `item ${item.status}`, 'data-status': item.status, 'data-idx': String(item.idx) },
      el('div', { class: 'heading' }, item.heading),
      el('div', { class: 'body' }, item.body),
    ),
  );
  out.append(el('ol', { class: 'items', 'data-testid': 'turns' }, ...items));
  return out;
}

function render(): void {
  const ui = UI[lang];
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = `${ui.title} – ${lang === 'zh' ? UI.en.title : UI.zh.title}`;
  document.querySelectorAll<HTMLElement>('[data-ui]').forEach((node) => {
    node.textContent = ui[node.dataset.ui as string] ?? '';
  });
  for (const button of Array.from(document.querySelectorAll<HTMLButtonElement>('[data-lang]')))
    button.setAttribute('aria-pressed', String(button.dataset.lang === lang));
  const result = $('result');
  result.replaceChildren();
  if ('report' in shown) result.append(renderView(describeTranscript(shown.report, lang)));
  else
    result.append(
      el('p', { class: shown.key === 'notJson' || shown.key === 'noFile' || shown.key === 'error' ? 'verdict bad' : '' }, ui[shown.key] + shown.message),
    );
}

async function verifyChosenFile(): Promise<void> {
  const file = $<HTMLInputElement>('file').files?.[0];
  if (!file) {
    shown = { message: '', key: 'noFile' };
    return render();
  }
  shown = { message: '', key: 'checking' };
  render();
  let bundle: unknown;
  try {
    bundle = JSON.parse(await file.text());
  } catch (error) {
    shown = { message: (error as Error).message, key: 'notJson' };
    return render();
  }
  shown = { report: await verifyTranscript(bundle, { key: $<HTMLInputElement>('key').value }) };
  render();
}

for (const button of Array.from(document.querySelectorAll<HTMLButtonElement>('[data-lang]'))) {
  button.addEventListener('click', () => {
    lang = button.dataset.lang === 'zh' ? 'zh' : 'en';
    render();
  });
}
$('verify').addEventListener('click', () => {
  verifyChosenFile().catch((error: unknown) => {
    shown = { message: String(error), key: 'error' };
    render();
  });
});
fetch('/log/public-key')
  .then((r) => (r.ok ? r.text() : ''))
  .then((k) => {
    const input = $<HTMLInputElement>('key');
    if (k && !input.value) input.value = k.trim();
  })
  .catch(() => undefined);
render();
