CREATE TABLE "admin_account" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"password_hash" text NOT NULL,
	"failed_logins" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp with time zone,
	"last_login_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "admin_account_role_check" CHECK ("admin_account"."role" IN ('admin', 'kb_editor', 'agent', 'lead'))
);
--> statement-breakpoint
CREATE TABLE "admin_session" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"account_id" bigint NOT NULL,
	"csrf_token" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kb_conflict" (
	"entry_id" text PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"kind" text NOT NULL,
	"file_hash" text,
	"file" jsonb,
	"head_version" integer NOT NULL,
	"detected_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "kb_conflict_kind_check" CHECK ("kb_conflict"."kind" IN ('changed', 'deleted', 'both_new'))
);
--> statement-breakpoint
CREATE TABLE "kb_file_state" (
	"entry_id" text PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"content_hash" text NOT NULL,
	"version" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kb_revision" (
	"entry_id" text NOT NULL,
	"version" integer NOT NULL,
	"status" text NOT NULL,
	"lang" text NOT NULL,
	"title" text NOT NULL,
	"questions" jsonb NOT NULL,
	"tags" jsonb NOT NULL,
	"links" jsonb NOT NULL,
	"translation" text,
	"body" text NOT NULL,
	"content_hash" text NOT NULL,
	"translation_sync" integer,
	"author" text NOT NULL,
	"origin" text NOT NULL,
	"restored_from" integer,
	"log_idx" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "kb_revision_pkey" PRIMARY KEY("entry_id","version"),
	CONSTRAINT "kb_revision_status_check" CHECK ("kb_revision"."status" IN ('draft', 'published', 'removed'))
);
--> statement-breakpoint
ALTER TABLE "admin_session" ADD CONSTRAINT "admin_session_account_id_admin_account_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."admin_account"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "admin_account_name_idx" ON "admin_account" USING btree ("name");--> statement-breakpoint
CREATE INDEX "admin_session_account_idx" ON "admin_session" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "admin_session_expires_idx" ON "admin_session" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "kb_revision_created_idx" ON "kb_revision" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "turn_gap_signal_idx" ON "turn" USING btree ("created_at") WHERE "turn"."kind" IN ('escalation', 'rating', 'clarify', 'choice');--> statement-breakpoint
-- Knowledge-base revisions are the history an auditor compares with the turn log: the database
-- refuses to change or remove one (as for turns, drizzle/0002). ENABLE ALWAYS keeps the triggers
-- active under session_replication_role = replica.
CREATE OR REPLACE FUNCTION kb_revision_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'kb_revision is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER kb_revision_no_update_delete BEFORE UPDATE OR DELETE ON kb_revision FOR EACH ROW EXECUTE FUNCTION kb_revision_refuse_change();
--> statement-breakpoint
CREATE TRIGGER kb_revision_no_truncate BEFORE TRUNCATE ON kb_revision FOR EACH STATEMENT EXECUTE FUNCTION kb_revision_refuse_change();
--> statement-breakpoint
ALTER TABLE kb_revision ENABLE ALWAYS TRIGGER kb_revision_no_update_delete;
--> statement-breakpoint
ALTER TABLE kb_revision ENABLE ALWAYS TRIGGER kb_revision_no_truncate;
