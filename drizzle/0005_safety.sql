-- Security events (issue 7): secrets removed by kind (never the value), access denials, rate
-- limiting, truncations, blocked outbound messages, rejected knowledge entries. Append-only.
CREATE TABLE "security_event" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"channel" text,
	"conversation_id" uuid,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "security_event_type_idx" ON "security_event" ("type", "id");
--> statement-breakpoint
CREATE INDEX "security_event_conversation_idx" ON "security_event" ("conversation_id");
--> statement-breakpoint
CREATE FUNCTION security_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'security_event is append-only';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER security_event_no_update BEFORE UPDATE OR DELETE ON "security_event"
	FOR EACH ROW EXECUTE FUNCTION security_event_append_only();
