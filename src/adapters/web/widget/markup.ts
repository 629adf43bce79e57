/**
 * The small Markdown-like subset that answers use, parsed into a tree the renderer turns into DOM
 * nodes: paragraphs, line breaks, bullet and numbered lists, headings, **bold**, *italic*, `code`,
 * [text](https://…) and bare http(s) URLs. Nothing from the server is ever parsed as HTML, and a
 * link is only made for an http(s) address.
 */

export type Inline =
  | { type: 'text'; text: string }
  | { type: 'strong'; children: Inline[] }
  | { type: 'em'; children: Inline[] }
  | { type: 'code'; text: string }
  | { type: 'link'; text: string; href: string };

/** A paragraph's lines and a list item's lines are separated by line breaks. */
export type Block =
  | { type: 'paragraph'; lines: Inline[][] }
  | { type: 'heading'; content: Inline[] }
  | { type: 'list'; ordered: boolean; start: number; items: Inline[][][] };

const INLINE =
  /\*\*([^*\n]+?)\*\*|__([^_\n]+?)__|`([^`\n]+)`|\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)|(https?:\/\/[^\s<>"'()（）\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]+)|(?<![\w*])\*(?![\s*])([^*\n]*?[^\s*])\*(?![\w*])/g;
const BULLET = /^\s*(?:[-*+•·])\s+(.*)$/;
const NUMBER = /^\s*(\d{1,3})(?:[.)]\s+|、\s*)(.*)$/;
const HEADING = /^\s{0,3}#{1,6}\s+(.*)$/;
const BLANK = /^\s*$/;
/** A line indented by two or more spaces continues the list item above it. */
const CONTINUATION = /^\s{2,}\S/;
/** Sentence punctuation right after a bare URL ends the sentence, not the URL. */
const TRAILING_PUNCTUATION = /[.,;:!?]+$/;

/** The address as a link target, or null unless it is a valid http(s) URL. */
export function safeHref(raw: string): string | null {
  try {
    const url = new URL(raw);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.href;
  } catch {
    // not a URL
  }
  return null;
}

function link(text: string, url: string): Inline {
  const href = safeHref(url);
  return href ? { type: 'link', text, href } : { type: 'text', text };
}

/** Inline markup of one line. Inside bold text (allowBold false) bold markers stay plain text. */
export function parseInline(text: string, allowBold = true): Inline[] {
  const out: Inline[] = [];
  const re = new RegExp(INLINE.source, 'g');
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) out.push({ type: 'text', text: text.slice(last, m.index) });
    const [, bold1, bold2, code, linkText, linkUrl, bareUrl, italic] = m;
    const bold = bold1 ?? bold2;
    if (bold !== undefined) {
      out.push(allowBold ? { type: 'strong', children: parseInline(bold, false) } : { type: 'text', text: bold });
    } else if (code !== undefined) {
      out.push({ type: 'code', text: code });
    } else if (linkText !== undefined && linkUrl !== undefined) {
      out.push(link(linkText, linkUrl));
    } else if (bareUrl !== undefined) {
      const trail = TRAILING_PUNCTUATION.exec(bareUrl)?.[0] ?? '';
      const url = trail ? bareUrl.slice(0, -trail.length) : bareUrl;
      out.push(link(url, url));
      if (trail) out.push({ type: 'text', text: trail });
    } else if (italic !== undefined) {
      out.push({ type: 'em', children: parseInline(italic, false) });
    }
    last = re.lastIndex;
  }
  if (last < text.length) out.push({ type: 'text', text: text.slice(last) });
  return out;
}

/** The blocks of a message; blank lines end a paragraph or list. */
export function parseMarkup(text: string): Block[] {
  const blocks: Block[] = [];
  let paragraph: Extract<Block, { type: 'paragraph' }> | null = null;
  let list: Extract<Block, { type: 'list' }> | null = null;
  let item: Inline[][] | null = null;

  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (BLANK.test(line)) {
      paragraph = null;
      list = null;
      item = null;
      continue;
    }
    const bullet = BULLET.exec(line);
    const number = bullet ? null : NUMBER.exec(line);
    if (bullet || number) {
      const ordered = number !== null;
      if (!list || list.ordered !== ordered) {
        paragraph = null;
        list = { type: 'list', ordered, start: number ? Number(number[1]) : 1, items: [] };
        blocks.push(list);
      }
      item = [parseInline((bullet ? bullet[1] : number?.[2]) ?? '')];
      list.items.push(item);
      continue;
    }
    if (list && item && CONTINUATION.test(line)) {
      item.push(parseInline(line.trim()));
      continue;
    }
    list = null;
    item = null;
    const heading = HEADING.exec(line);
    if (heading) {
      paragraph = null;
      blocks.push({ type: 'heading', content: parseInline(heading[1] ?? '', false) });
      continue;
    }
    if (!paragraph) {
      paragraph = { type: 'paragraph', lines: [] };
      blocks.push(paragraph);
    }
    paragraph.lines.push(parseInline(line));
  }
  return blocks;
}
