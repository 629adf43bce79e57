import { createPassageSplitter } from '../../src/adapters/local/passage-splitter.js';
import { type Answerer, createRetriever, type Embedder, type KnowledgeIndex } from '../../src/core/index.js';
import { silentLogger } from './silent-logger.js';

/**
 * What every test helpdesk shares, as main.ts wires it: retrieval over `knowledge`, the passage
 * splitter, a silent logger and the test settings (exchange "ExampleX", threshold 0.5, 4,000
 * characters). Spread into createHelpdesk beside the stores of the test at hand.
 */
export function testHelpdeskParts(options: {
  knowledge: KnowledgeIndex;
  embedder: Embedder;
  answerer?: Answerer | undefined;
  threshold?: number | undefined;
  maxMessageChars?: number | undefined;
}) {
  const { knowledge, embedder } = options;
  return {
    knowledge,
    embedder,
    retriever: createRetriever({ index: knowledge, embedder }),
    splitPassages: createPassageSplitter(),
    answerer: options.answerer,
    logger: silentLogger,
    settings: { exchangeName: 'ExampleX', answerThreshold: options.threshold ?? 0.5, maxMessageChars: options.maxMessageChars ?? 4000 },
  };
}
