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
