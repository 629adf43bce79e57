-- Each chunk and centroid carries its entry's topic and version (written with the chunk: a sync
-- rewrites an entry's chunks whenever it stores the entry), so that a search ranks chunks without
-- joining kb_entry for every hit: the join was about a third of the vector statement's time.
ALTER TABLE "kb_chunk" ADD COLUMN "topic" text;
--> statement-breakpoint
ALTER TABLE "kb_chunk" ADD COLUMN "version" integer;
--> statement-breakpoint
ALTER TABLE "kb_centroid" ADD COLUMN "topic" text;
--> statement-breakpoint
UPDATE "kb_chunk" AS c SET "topic" = e."topic", "version" = e."version" FROM "kb_entry" AS e WHERE e."id" = c."entry_id";
--> statement-breakpoint
UPDATE "kb_centroid" AS k SET "topic" = e."topic" FROM "kb_entry" AS e WHERE e."id" = k."entry_id";
--> statement-breakpoint
ALTER TABLE "kb_chunk" ALTER COLUMN "topic" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "kb_chunk" ALTER COLUMN "version" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "kb_centroid" ALTER COLUMN "topic" SET NOT NULL;
