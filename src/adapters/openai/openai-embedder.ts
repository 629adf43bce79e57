import type OpenAI from 'openai';
import type { Embedder } from '../../core/index.js';

/** Embeddings through the OpenAI SDK (or any compatible server). */
export function createOpenAIEmbedder(client: OpenAI, model: string): Embedder {
  return {
    id: `openai:${model}`,
    async embed(texts) {
      if (texts.length === 0) return [];
      // Float explicitly: the SDK's default base64 turns into garbage on float-only servers.
      const response = await client.embeddings.create({ model, input: texts, encoding_format: 'float' });
      const vectors: number[][] = new Array(texts.length);
      for (const item of response.data) vectors[item.index] = item.embedding as number[];
      if (vectors.some((v) => !Array.isArray(v) || v.length === 0)) {
        throw new Error(`embedding server returned ${response.data.length} vectors for ${texts.length} texts`);
      }
      return vectors;
    },
  };
}
