-- The verifiable turn log (RFC 6962 Merkle tree). log_head is the one serialization point: every
-- append locks it, so indexes are contiguous across processes. Entries, stored subtree hashes and
-- checkpoints are append-only; the head may only grow. ENABLE ALWAYS keeps the triggers active under
-- session_replication_role = replica.
CREATE TABLE log_head (
  id smallint PRIMARY KEY CHECK (id = 1),
  size bigint NOT NULL,
  root bytea NOT NULL,
  frontier bytea NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
INSERT INTO log_head (id, size, root, frontier) VALUES (1, 0, sha256(''::bytea), ''::bytea);
--> statement-breakpoint
CREATE TABLE log_entry (
  idx bigint PRIMARY KEY,
  leaf_hash bytea NOT NULL,
  header bytea NOT NULL,
  kind text NOT NULL,
  conversation_id uuid NOT NULL,
  seq integer,
  created_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE UNIQUE INDEX log_entry_turn_idx ON log_entry (conversation_id, seq) WHERE kind = 'turn';
--> statement-breakpoint
CREATE INDEX log_entry_conversation_idx ON log_entry (conversation_id, idx);
--> statement-breakpoint
CREATE TABLE log_node (
  level smallint NOT NULL,
  idx bigint NOT NULL,
  hash bytea NOT NULL,
  PRIMARY KEY (level, idx)
);
--> statement-breakpoint
CREATE TABLE log_checkpoint (
  size bigint PRIMARY KEY,
  root bytea NOT NULL,
  note text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE TABLE conversation_key (
  conversation_id uuid PRIMARY KEY REFERENCES conversation(id),
  key bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE TABLE turn_content (
  conversation_id uuid NOT NULL,
  seq integer NOT NULL,
  sealed bytea NOT NULL,
  PRIMARY KEY (conversation_id, seq)
);
--> statement-breakpoint
CREATE TABLE legal_hold (
  conversation_id uuid PRIMARY KEY REFERENCES conversation(id),
  reason text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION log_head_only_grows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' OR NEW.id <> OLD.id OR NEW.size < OLD.size OR (NEW.size = OLD.size AND NEW.root <> OLD.root) THEN
    RAISE EXCEPTION 'log_head only grows: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER log_entry_no_change BEFORE UPDATE OR DELETE ON log_entry FOR EACH ROW EXECUTE FUNCTION log_refuse_change();
--> statement-breakpoint
CREATE TRIGGER log_entry_no_truncate BEFORE TRUNCATE ON log_entry FOR EACH STATEMENT EXECUTE FUNCTION log_refuse_change();
--> statement-breakpoint
CREATE TRIGGER log_node_no_change BEFORE UPDATE OR DELETE ON log_node FOR EACH ROW EXECUTE FUNCTION log_refuse_change();
--> statement-breakpoint
CREATE TRIGGER log_node_no_truncate BEFORE TRUNCATE ON log_node FOR EACH STATEMENT EXECUTE FUNCTION log_refuse_change();
--> statement-breakpoint
CREATE TRIGGER log_checkpoint_no_change BEFORE UPDATE OR DELETE ON log_checkpoint FOR EACH ROW EXECUTE FUNCTION log_refuse_change();
--> statement-breakpoint
CREATE TRIGGER log_checkpoint_no_truncate BEFORE TRUNCATE ON log_checkpoint FOR EACH STATEMENT EXECUTE FUNCTION log_refuse_change();
--> statement-breakpoint
CREATE TRIGGER log_head_guard BEFORE UPDATE OR DELETE ON log_head FOR EACH ROW EXECUTE FUNCTION log_head_only_grows();
--> statement-breakpoint
CREATE TRIGGER log_head_no_truncate BEFORE TRUNCATE ON log_head FOR EACH STATEMENT EXECUTE FUNCTION log_refuse_change();
--> statement-breakpoint
ALTER TABLE log_entry ENABLE ALWAYS TRIGGER log_entry_no_change;
--> statement-breakpoint
ALTER TABLE log_entry ENABLE ALWAYS TRIGGER log_entry_no_truncate;
--> statement-breakpoint
ALTER TABLE log_node ENABLE ALWAYS TRIGGER log_node_no_change;
--> statement-breakpoint
ALTER TABLE log_node ENABLE ALWAYS TRIGGER log_node_no_truncate;
--> statement-breakpoint
ALTER TABLE log_checkpoint ENABLE ALWAYS TRIGGER log_checkpoint_no_change;
--> statement-breakpoint
ALTER TABLE log_checkpoint ENABLE ALWAYS TRIGGER log_checkpoint_no_truncate;
--> statement-breakpoint
ALTER TABLE log_head ENABLE ALWAYS TRIGGER log_head_guard;
--> statement-breakpoint
ALTER TABLE log_head ENABLE ALWAYS TRIGGER log_head_no_truncate;
--> statement-breakpoint
-- Erasure redacts a turn's text in place, only inside the transaction that logs the erasure (which
-- sets helpdesk.erasure to that entry's index), only for turns in its scope, and only text, data
-- and escalation detail. Everything else about turns stays refused.
CREATE OR REPLACE FUNCTION turn_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  erasure text := current_setting('helpdesk.erasure', true);
BEGIN
  IF TG_OP = 'UPDATE' AND erasure IS NOT NULL AND erasure <> ''
     AND NEW.id = OLD.id AND NEW.conversation_id = OLD.conversation_id AND NEW.seq = OLD.seq
     AND NEW.role = OLD.role AND NEW.kind = OLD.kind AND NEW.language = OLD.language
     AND NEW.created_at = OLD.created_at AND NEW.text = ''
     AND NEW.answer_mode IS NOT DISTINCT FROM OLD.answer_mode
     AND NEW.escalation_reason IS NOT DISTINCT FROM OLD.escalation_reason
     AND NEW.escalation_priority IS NOT DISTINCT FROM OLD.escalation_priority
     AND NEW.external_key IS NOT DISTINCT FROM OLD.external_key
     AND NEW.escalation_detail IS NULL
     AND EXISTS (
       SELECT 1 FROM log_entry e
       WHERE e.idx = erasure::bigint AND e.kind = 'erasure' AND e.conversation_id = OLD.conversation_id AND e.seq >= OLD.seq
     ) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'turn is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
