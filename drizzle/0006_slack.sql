-- Human handoff: one row per conversation that ever went to humans, and how far it is mirrored into
-- the agents' Slack thread. The conversation's turns stay the record; this is delivery state.
CREATE TABLE "handoff" (
	"conversation_id" uuid PRIMARY KEY NOT NULL REFERENCES "conversation"("id"),
	"open" boolean DEFAULT true NOT NULL,
	"opened_seq" integer NOT NULL,
	"escalated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"claimed_by" text,
	"claimed_name" text,
	"claimed_at" timestamp with time zone,
	"reminded_at" timestamp with time zone,
	"delivered_seq" integer NOT NULL,
	"desk_channel" text,
	"desk_thread" text,
	"relayed_seq" integer NOT NULL,
	"root_dirty" boolean DEFAULT false NOT NULL,
	"lease_owner" text,
	"lease_until" timestamp with time zone,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "handoff_desk_thread_idx" ON "handoff" USING btree ("desk_channel","desk_thread");
--> statement-breakpoint
CREATE INDEX "handoff_open_idx" ON "handoff" USING btree ("open","escalated_at");
