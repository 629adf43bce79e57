-- A value sealed or wrapped under a master key version the last rotation retired is refused, so
-- that a writer that sealed before a rotation and stored after it (its insert waited on the
-- rotation's lock) gets an error and seals again, instead of leaving a row that nothing can open.
-- The live versions are those in content_master (the rotation deletes the older ones in its
-- locked transaction); with no row there, nothing was ever rotated and everything is live.
-- Formats (src/adapters/postgres/db/content-keys.ts): a tag byte (1 wrapped key, 2 sealed payload)
-- then the version as 4 bytes big-endian; payloads as {"sealed": base64}, handles as "sealed:" base64.
CREATE OR REPLACE FUNCTION refuse_retired_master() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  head bytea;
  v bigint;
  live integer;
BEGIN
  IF TG_TABLE_NAME = 'conversation_key' THEN
    IF octet_length(NEW.key) >= 5 AND get_byte(NEW.key, 0) = 1 THEN head := NEW.key; END IF;
  ELSIF TG_TABLE_NAME = 'conversation' THEN
    IF NEW.customer_handle LIKE 'sealed:%' THEN head := decode(substr(NEW.customer_handle, 8, 8), 'base64'); END IF;
  ELSIF jsonb_typeof(NEW.payload -> 'sealed') = 'string' THEN
    head := decode(left(NEW.payload ->> 'sealed', 8), 'base64');
  END IF;
  IF head IS NULL OR octet_length(head) < 5 THEN
    RETURN NEW;
  END IF;
  SELECT min(version) INTO live FROM content_master;
  v := (get_byte(head, 1)::bigint << 24) | (get_byte(head, 2) << 16) | (get_byte(head, 3) << 8) | get_byte(head, 4);
  IF live IS NOT NULL AND v < live THEN
    RAISE EXCEPTION 'sealed under the retired content master key v% (live keys start at v%): seal it again', v, live
      USING ERRCODE = 'P0001';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS conversation_key_live_master ON conversation_key;
--> statement-breakpoint
CREATE TRIGGER conversation_key_live_master BEFORE INSERT OR UPDATE OF key ON conversation_key
  FOR EACH ROW EXECUTE FUNCTION refuse_retired_master();
--> statement-breakpoint
DROP TRIGGER IF EXISTS conversation_handle_live_master ON conversation;
--> statement-breakpoint
CREATE TRIGGER conversation_handle_live_master BEFORE INSERT OR UPDATE OF customer_handle ON conversation
  FOR EACH ROW WHEN (NEW.customer_handle IS NOT NULL) EXECUTE FUNCTION refuse_retired_master();
--> statement-breakpoint
DROP TRIGGER IF EXISTS channel_update_live_master ON channel_update;
--> statement-breakpoint
CREATE TRIGGER channel_update_live_master BEFORE INSERT OR UPDATE OF payload ON channel_update
  FOR EACH ROW EXECUTE FUNCTION refuse_retired_master();
--> statement-breakpoint
DROP TRIGGER IF EXISTS channel_outbox_live_master ON channel_outbox;
--> statement-breakpoint
CREATE TRIGGER channel_outbox_live_master BEFORE INSERT OR UPDATE OF payload ON channel_outbox
  FOR EACH ROW EXECUTE FUNCTION refuse_retired_master();
