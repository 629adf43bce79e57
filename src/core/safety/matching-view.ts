/**
 * The text the secret detector matches against, with a map back to the original. Letters that
 * only look like Latin ones (Cyrillic "а", Greek "ο"), full-width forms (ｐａｓｓ，１２３), styled
 * letters (𝐚𝐛𝐜), accents and compatibility forms are folded to plain ASCII, so that a phrase with a
 * look-alike letter is still a phrase; the firewall's own markers are blanked, so that screening
 * screened text finds nothing new. Built in one pass, linear in the text.
 */
export interface MatchingView {
  text: string;
  /** Converts a range of `text` to the range of the original it came from. */
  toOriginal(start: number, end: number): { start: number; end: number };
}

// Letters that look like Latin ones in common fonts (Unicode confusables, Cyrillic and Greek).
const CONFUSABLES: Record<string, string> = {
  а: 'a',
  в: 'b',
  е: 'e',
  і: 'i',
  ј: 'j',
  к: 'k',
  о: 'o',
  р: 'p',
  с: 'c',
  у: 'y',
  х: 'x',
  ѕ: 's',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  һ: 'h',
  ӏ: 'l',
  А: 'A',
  В: 'B',
  Е: 'E',
  К: 'K',
  М: 'M',
  Н: 'H',
  О: 'O',
  Р: 'P',
  С: 'C',
  Т: 'T',
  Х: 'X',
  У: 'Y',
  І: 'I',
  Ј: 'J',
  Ѕ: 'S',
  Ԛ: 'Q',
  Ԝ: 'W',
  Һ: 'H',
  Ӏ: 'I',
  α: 'a',
  ο: 'o',
  ρ: 'p',
  ν: 'v',
  ι: 'i',
  κ: 'k',
  υ: 'u',
  χ: 'x',
  ɡ: 'g',
  ı: 'i',
  Α: 'A',
  Β: 'B',
  Ε: 'E',
  Ζ: 'Z',
  Η: 'H',
  Ι: 'I',
  Κ: 'K',
  Μ: 'M',
  Ν: 'N',
  Ο: 'O',
  Ρ: 'P',
  Τ: 'T',
  Υ: 'Y',
  Χ: 'X',
};

const COMBINING = /\p{M}/gu;
const folded = new Map<number, string>();

/** The ASCII (or otherwise plain) form of one code point outside ASCII and the CJK ideographs. */
function fold(codePoint: number): string {
  let f = folded.get(codePoint);
  if (f === undefined) {
    const decomposed = String.fromCodePoint(codePoint).normalize('NFKD').replace(COMBINING, '');
    f = [...decomposed].map((c) => CONFUSABLES[c] ?? c).join('');
    // The cache holds at most one entry per code point seen; 4,096 keeps it small whatever the input.
    if (folded.size < 4096) folded.set(codePoint, f);
  }
  return f;
}

const needsFolding = (cp: number) => cp > 0x7e && !(cp >= 0x3400 && cp <= 0x9fff) && cp !== 0x3001 && cp !== 0x3002;

/** Builds the matching view of a text; `blank` lists literal strings (the markers) to blank out. */
export function toMatchingView(text: string, blank: readonly string[]): MatchingView {
  let source = text;
  for (const marker of blank) {
    if (source.includes(marker)) source = source.split(marker).join('\u25a0'.repeat(marker.length));
  }
  let simple = true;
  for (let i = 0; i < source.length; i++) {
    if (needsFolding(source.charCodeAt(i))) {
      simple = false;
      break;
    }
  }
  if (simple) return { text: source, toOriginal: (start, end) => ({ start, end }) };

  // starts[v] / ends[v]: the original range of the code point that view unit v came from.
  const parts: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < source.length; ) {
    const cp = source.codePointAt(i) as number;
    const size = cp > 0xffff ? 2 : 1;
    const out = needsFolding(cp) ? fold(cp) : source.slice(i, i + size);
    for (let k = 0; k < out.length; k++) {
      starts.push(i);
      ends.push(i + size);
    }
    parts.push(out);
    i += size;
  }
  return {
    text: parts.join(''),
    toOriginal(start, end) {
      if (end <= start) return { start: starts[start] ?? source.length, end: starts[start] ?? source.length };
      return { start: starts[start] as number, end: ends[end - 1] as number };
    },
  };
}
