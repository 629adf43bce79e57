/** Telegram's limit for one message, counted after entity parsing (we count UTF-16 units: never more). */
export const TELEGRAM_MAX_MESSAGE_CHARS = 4096;

const SENTENCE_END = /[.!?。！？…][)"'”’」』）\]]*(?=\s|$)|[。！？]/gu;

/** Where to cut `text` so that the first piece has at most `limit` characters. */
function findCut(text: string, limit: number): number {
  const window = text.slice(0, limit);
  // A boundary too close to the start would leave a tiny piece: only accept it past a third.
  const minimum = Math.floor(limit / 3);
  const paragraph = window.lastIndexOf('\n\n');
  if (paragraph >= minimum) return paragraph;
  let sentence = -1;
  for (const match of window.matchAll(SENTENCE_END)) sentence = (match.index ?? 0) + match[0].length;
  if (sentence >= minimum) return sentence;
  const line = window.lastIndexOf('\n');
  if (line >= minimum) return line;
  const space = Math.max(window.lastIndexOf(' '), window.lastIndexOf('\t'));
  if (space >= minimum) return space;
  // No boundary at all: cut hard, but never between the two halves of a surrogate pair.
  const code = text.charCodeAt(limit - 1);
  return code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit;
}

/**
 * Splits a reply into messages of at most `limit` characters, at paragraph boundaries first, then
 * sentence ends (Latin and Chinese punctuation), then line breaks, then spaces.
 */
export function splitMessage(text: string, limit = TELEGRAM_MAX_MESSAGE_CHARS): string[] {
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > limit) {
    const cut = findCut(rest, limit);
    const piece = rest.slice(0, cut).trimEnd();
    if (piece) parts.push(piece);
    rest = rest.slice(cut).trimStart();
  }
  if (rest) parts.push(rest);
  return parts;
}
