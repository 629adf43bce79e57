-- Telegram channel: a durable inbox of updates (a redelivered update_id is recognised, unfinished
-- work resumes after a restart) and a durable outbox of replies (stored before they are sent).
CREATE TABLE "channel_update" (
	"source" text NOT NULL,
	"update_id" bigint NOT NULL,
	"chat_id" text NOT NULL,
	"message_id" bigint,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"settled_at" timestamp with time zone,
	CONSTRAINT "channel_update_pk" PRIMARY KEY ("source", "update_id")
);
--> statement-breakpoint
CREATE INDEX "channel_update_pending_idx" ON "channel_update" ("source", "update_id") WHERE "status" = 'pending';
--> statement-breakpoint
CREATE INDEX "channel_update_message_idx" ON "channel_update" ("source", "chat_id", "message_id");
--> statement-breakpoint
CREATE TABLE "channel_outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"channel" text NOT NULL,
	"chat_id" text NOT NULL,
	"dedupe_key" text NOT NULL,
	"method" text NOT NULL,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_until" timestamp with time zone,
	"last_error" text,
	"result" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "channel_outbox_dedupe_idx" ON "channel_outbox" ("dedupe_key");
--> statement-breakpoint
CREATE INDEX "channel_outbox_pending_idx" ON "channel_outbox" ("channel", "chat_id", "id") WHERE "status" = 'pending';
