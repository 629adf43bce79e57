-- Embeddings stay in the row (PLAIN) instead of TOAST: a 512-dimension embedding is 2 KB, just over
-- the TOAST threshold, and every k-NN query then read each one out of line (about 2.5x the cost of
-- the vector statement). Rows already stored are rewritten inline; an embedding too large for a row
-- (over about 2,000 dimensions) keeps TOAST: the knowledge index switches the column back to
-- EXTENDED before it stores one (pg-knowledge-index.ts).
ALTER TABLE "kb_chunk" ALTER COLUMN "embedding" SET STORAGE PLAIN;
--> statement-breakpoint
ALTER TABLE "kb_centroid" ALTER COLUMN "embedding" SET STORAGE PLAIN;
--> statement-breakpoint
UPDATE "kb_chunk" SET "embedding" = "embedding"::text::vector WHERE vector_dims("embedding") <= 1900;
--> statement-breakpoint
UPDATE "kb_centroid" SET "embedding" = "embedding"::text::vector WHERE vector_dims("embedding") <= 1900;
