CREATE TABLE "conversation" (
	"id" uuid PRIMARY KEY NOT NULL,
	"channel" text NOT NULL,
	"external_id" text NOT NULL,
	"token_hash" text,
	"language" text NOT NULL,
	"language_chosen" boolean DEFAULT false NOT NULL,
	"state" text DEFAULT 'bot' NOT NULL,
	"priority" text DEFAULT 'normal' NOT NULL,
	"escalation_reason" text,
	"customer_handle" text,
	"last_seq" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kb_chunk" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"entry_id" text NOT NULL,
	"kind" text NOT NULL,
	"text" text NOT NULL,
	"term_count" integer NOT NULL,
	"embedder" text NOT NULL,
	"embedding" vector NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kb_entry" (
	"id" text PRIMARY KEY NOT NULL,
	"topic" text NOT NULL,
	"lang" text NOT NULL,
	"title" text NOT NULL,
	"body" text NOT NULL,
	"questions" jsonb NOT NULL,
	"tags" jsonb NOT NULL,
	"links" jsonb NOT NULL,
	"translation" text,
	"source" text NOT NULL,
	"content_hash" text NOT NULL,
	"embedder" text NOT NULL,
	"version" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kb_entry_version" (
	"id" text NOT NULL,
	"version" integer NOT NULL,
	"content_hash" text NOT NULL,
	"title" text NOT NULL,
	"body" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "kb_entry_version_id_version_pk" PRIMARY KEY("id","version")
);
--> statement-breakpoint
CREATE TABLE "kb_term" (
	"chunk_id" bigint NOT NULL,
	"term" text NOT NULL,
	"tf" integer NOT NULL,
	CONSTRAINT "kb_term_term_chunk_id_pk" PRIMARY KEY("term","chunk_id")
);
--> statement-breakpoint
CREATE TABLE "turn" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"conversation_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"role" text NOT NULL,
	"kind" text NOT NULL,
	"text" text NOT NULL,
	"language" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"answer_mode" text,
	"escalation_reason" text,
	"escalation_priority" text,
	"escalation_detail" text,
	"external_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "kb_chunk" ADD CONSTRAINT "kb_chunk_entry_id_kb_entry_id_fk" FOREIGN KEY ("entry_id") REFERENCES "public"."kb_entry"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kb_term" ADD CONSTRAINT "kb_term_chunk_id_kb_chunk_id_fk" FOREIGN KEY ("chunk_id") REFERENCES "public"."kb_chunk"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "turn" ADD CONSTRAINT "turn_conversation_id_conversation_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversation"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "conversation_channel_external_idx" ON "conversation" USING btree ("channel","external_id");--> statement-breakpoint
CREATE INDEX "conversation_state_idx" ON "conversation" USING btree ("state","priority","updated_at");--> statement-breakpoint
CREATE INDEX "kb_chunk_entry_idx" ON "kb_chunk" USING btree ("entry_id");--> statement-breakpoint
CREATE INDEX "kb_entry_topic_idx" ON "kb_entry" USING btree ("topic");--> statement-breakpoint
CREATE INDEX "kb_term_chunk_idx" ON "kb_term" USING btree ("chunk_id");--> statement-breakpoint
CREATE UNIQUE INDEX "turn_conversation_seq_idx" ON "turn" USING btree ("conversation_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "turn_external_key_idx" ON "turn" USING btree ("external_key");