import { createLocalEmbedder } from './adapters/local/local-embedder.js';
import { createOpenAIClient } from './adapters/openai/openai-client.js';
import { createOpenAIEmbedder } from './adapters/openai/openai-embedder.js';
import type { Config } from './config.js';
import type { Embedder } from './core/index.js';

/** The configured embedder: OpenAI-compatible when chosen (or by default with a key), else local. */
export function createEmbedder(config: Config): Embedder {
  return config.embedder === 'openai' && config.openai
    ? createOpenAIEmbedder(createOpenAIClient(config.openai), config.openai.embeddingModel)
    : createLocalEmbedder();
}
