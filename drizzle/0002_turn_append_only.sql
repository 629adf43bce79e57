-- Turns are the record of what was said: the database itself refuses to change or remove one.
-- ENABLE ALWAYS keeps the triggers active even under session_replication_role = replica.
CREATE OR REPLACE FUNCTION turn_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'turn is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER turn_no_update_delete BEFORE UPDATE OR DELETE ON turn FOR EACH ROW EXECUTE FUNCTION turn_refuse_change();
--> statement-breakpoint
CREATE TRIGGER turn_no_truncate BEFORE TRUNCATE ON turn FOR EACH STATEMENT EXECUTE FUNCTION turn_refuse_change();
--> statement-breakpoint
ALTER TABLE turn ENABLE ALWAYS TRIGGER turn_no_update_delete;
--> statement-breakpoint
ALTER TABLE turn ENABLE ALWAYS TRIGGER turn_no_truncate;
