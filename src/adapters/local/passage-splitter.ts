import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import type { PassageSplitter } from '../../core/index.js';

const PASSAGE_CHARS = 600;
const PASSAGE_OVERLAP_CHARS = 80;

/**
 * Splits an entry's answer into passages for retrieval with langchain's character splitter
 * (paragraphs, then lines, then sentences in both scripts). Character based on purpose: the token
 * splitters download tiktoken tables at run time and stall offline.
 */
export function createPassageSplitter(): PassageSplitter {
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: PASSAGE_CHARS,
    chunkOverlap: PASSAGE_OVERLAP_CHARS,
    separators: ['\n\n', '\n', '。', '. ', '！', '？', '! ', '? ', '；', '; ', '，', ', ', ' ', ''],
  });
  return (text) => splitter.splitText(text);
}
