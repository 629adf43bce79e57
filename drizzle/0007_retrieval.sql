CREATE TABLE "kb_centroid" (
	"entry_id" text PRIMARY KEY NOT NULL,
	"embedder" text NOT NULL,
	"embedding" vector NOT NULL
);
--> statement-breakpoint
ALTER TABLE "kb_centroid" ADD CONSTRAINT "kb_centroid_entry_id_kb_entry_id_fk" FOREIGN KEY ("entry_id") REFERENCES "public"."kb_entry"("id") ON DELETE cascade ON UPDATE no action;
