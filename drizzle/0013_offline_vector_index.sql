-- The offline embedder's HNSW index, declared in the schema. Databases that synced with the offline
-- embedder before have it already (the knowledge index made it at sync under the same name).
CREATE INDEX IF NOT EXISTS "kb_chunk_hnsw_e1c895f710b1" ON "kb_chunk" USING hnsw (("embedding"::vector(512)) vector_cosine_ops) WHERE "kb_chunk"."embedder" = 'local-hash-v1-512';
