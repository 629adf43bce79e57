CREATE TABLE "saved_reply" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"language" text NOT NULL,
	"title" text NOT NULL,
	"body" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by" text NOT NULL,
	"updated_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "saved_reply_language_check" CHECK ("saved_reply"."language" IN ('zh', 'en'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "saved_reply_title_idx" ON "saved_reply" USING btree ("language","title");--> statement-breakpoint
CREATE INDEX "handoff_closed_idx" ON "handoff" USING btree ("updated_at") WHERE NOT "handoff"."open";