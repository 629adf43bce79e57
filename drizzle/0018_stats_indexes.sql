CREATE TABLE IF NOT EXISTS "stats_activity" (
	"conversation_id" uuid NOT NULL,
	"day" date NOT NULL,
	"language" text NOT NULL,
	"channel" text NOT NULL,
	"customer" boolean NOT NULL,
	"solved" boolean NOT NULL,
	"human" boolean NOT NULL,
	"escalated" boolean NOT NULL,
	CONSTRAINT "stats_activity_pkey" PRIMARY KEY("conversation_id","day","language")
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "stats_citation" (
	"conversation_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"entry_id" text NOT NULL,
	"day" date NOT NULL,
	"channel" text NOT NULL,
	CONSTRAINT "stats_citation_pkey" PRIMARY KEY("conversation_id","seq","entry_id")
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "stats_handoff" (
	"conversation_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"escalated_at" timestamp with time zone NOT NULL,
	"channel" text NOT NULL,
	"reason" text,
	"priority" text,
	"reply_at" timestamp with time zone,
	"reply_agent" text,
	"reply_agent_name" text,
	"resolved_at" timestamp with time zone,
	"resolved_agent" text,
	"resolved_agent_name" text,
	CONSTRAINT "stats_handoff_pkey" PRIMARY KEY("conversation_id","seq")
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "stats_rating" (
	"conversation_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"rated_at" timestamp with time zone NOT NULL,
	"channel" text NOT NULL,
	"rating" smallint NOT NULL,
	"agent_id" text,
	"agent_name" text,
	CONSTRAINT "stats_rating_pkey" PRIMARY KEY("conversation_id","seq")
);
--> statement-breakpoint
ALTER TABLE "turn" ADD COLUMN IF NOT EXISTS "rating" smallint;--> statement-breakpoint
ALTER TABLE "turn" ADD COLUMN IF NOT EXISTS "action" text;--> statement-breakpoint
ALTER TABLE "turn" ADD COLUMN IF NOT EXISTS "handoff" text;--> statement-breakpoint
ALTER TABLE "turn" ADD COLUMN IF NOT EXISTS "agent_id" text;--> statement-breakpoint
ALTER TABLE "turn" ADD COLUMN IF NOT EXISTS "agent_name" text;--> statement-breakpoint
ALTER TABLE "turn" ADD COLUMN IF NOT EXISTS "cites" text[];--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "stats_activity_day_idx" ON "stats_activity" USING btree ("day");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "stats_citation_day_idx" ON "stats_citation" USING btree ("day","entry_id","channel");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "stats_handoff_escalated_idx" ON "stats_handoff" USING btree ("escalated_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "stats_rating_rated_idx" ON "stats_rating" USING btree ("rated_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "turn_resolved_seq_idx" ON "turn" USING btree ("conversation_id","seq") WHERE "turn"."kind" = 'handoff' AND "turn"."handoff" = 'resolved';
--> statement-breakpoint
-- The dashboard's roll-ups (schema/stats.ts) follow every new turn in its own transaction. Turns of
-- one conversation are appended in seq order, so "the latest escalation before this turn" is the
-- one whose span (until the next escalation) the turn falls in.
CREATE OR REPLACE FUNCTION turn_stats_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ch text;
  esc integer;
BEGIN
  IF NEW.role NOT IN ('customer', 'agent') AND NEW.kind <> 'escalation' AND NEW.cites IS NULL THEN
    RETURN NULL;
  END IF;
  SELECT channel INTO ch FROM conversation WHERE id = NEW.conversation_id;
  IF NEW.kind = 'answer' AND NEW.role = 'bot' AND NEW.cites IS NOT NULL THEN
    INSERT INTO stats_citation (conversation_id, seq, entry_id, day, channel)
    SELECT DISTINCT NEW.conversation_id, NEW.seq, e, (NEW.created_at AT TIME ZONE 'UTC')::date, ch FROM unnest(NEW.cites) AS e
    ON CONFLICT DO NOTHING;
  END IF;
  IF NEW.role NOT IN ('customer', 'agent') AND NEW.kind <> 'escalation' THEN
    RETURN NULL;
  END IF;
  IF NEW.kind = 'rating' AND NEW.rating IS NOT NULL THEN
    INSERT INTO stats_rating (conversation_id, seq, rated_at, channel, rating, agent_id, agent_name)
    SELECT NEW.conversation_id, NEW.seq, NEW.created_at, ch, NEW.rating, r.agent_id, r.agent_name
    FROM (SELECT NULL) one
    LEFT JOIN LATERAL (
      SELECT p.agent_id, p.agent_name FROM turn p
      WHERE p.conversation_id = NEW.conversation_id AND p.seq < NEW.seq AND p.kind = 'handoff' AND p.handoff = 'resolved'
      ORDER BY p.seq DESC LIMIT 1
    ) r ON true
    ON CONFLICT DO NOTHING;
  END IF;
  INSERT INTO stats_activity AS a (conversation_id, day, language, channel, customer, solved, human, escalated)
  VALUES (NEW.conversation_id, (NEW.created_at AT TIME ZONE 'UTC')::date, NEW.language, ch, NEW.role = 'customer',
          NEW.role = 'customer' AND NEW.kind = 'action' AND NEW.action IS NOT DISTINCT FROM 'solved', NEW.role = 'agent', NEW.kind = 'escalation')
  ON CONFLICT (conversation_id, day, language) DO UPDATE
    SET customer = a.customer OR EXCLUDED.customer, solved = a.solved OR EXCLUDED.solved,
        human = a.human OR EXCLUDED.human, escalated = a.escalated OR EXCLUDED.escalated
    WHERE (EXCLUDED.customer AND NOT a.customer) OR (EXCLUDED.solved AND NOT a.solved)
       OR (EXCLUDED.human AND NOT a.human) OR (EXCLUDED.escalated AND NOT a.escalated);
  IF NEW.kind = 'escalation' THEN
    INSERT INTO stats_handoff (conversation_id, seq, escalated_at, channel, reason, priority)
    VALUES (NEW.conversation_id, NEW.seq, NEW.created_at, ch, NEW.escalation_reason, NEW.escalation_priority)
    ON CONFLICT DO NOTHING;
  ELSIF NEW.role = 'agent' AND (NEW.kind = 'message' OR (NEW.kind = 'handoff' AND NEW.handoff IS NOT DISTINCT FROM 'resolved')) THEN
    SELECT max(seq) INTO esc FROM stats_handoff WHERE conversation_id = NEW.conversation_id AND seq < NEW.seq;
    IF esc IS NOT NULL THEN
      IF NEW.kind = 'message' THEN
        UPDATE stats_handoff SET reply_at = NEW.created_at, reply_agent = NEW.agent_id, reply_agent_name = NEW.agent_name
        WHERE conversation_id = NEW.conversation_id AND seq = esc AND reply_at IS NULL;
      ELSE
        UPDATE stats_handoff SET resolved_at = NEW.created_at, resolved_agent = NEW.agent_id, resolved_agent_name = NEW.agent_name
        WHERE conversation_id = NEW.conversation_id AND seq = esc AND resolved_at IS NULL;
      END IF;
    END IF;
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS turn_stats_rollup ON turn;
--> statement-breakpoint
CREATE TRIGGER turn_stats_rollup AFTER INSERT ON turn FOR EACH ROW EXECUTE FUNCTION turn_stats_rollup();
--> statement-breakpoint
ALTER TABLE turn ENABLE ALWAYS TRIGGER turn_stats_rollup;
--> statement-breakpoint
-- The roll-ups of the turns stored before: the same definitions over the whole table.
INSERT INTO stats_activity (conversation_id, day, language, channel, customer, solved, human, escalated)
SELECT t.conversation_id, (t.created_at AT TIME ZONE 'UTC')::date, t.language, c.channel,
       bool_or(t.role = 'customer'), bool_or(t.role = 'customer' AND t.kind = 'action' AND t.action IS NOT DISTINCT FROM 'solved'),
       bool_or(t.role = 'agent'), bool_or(t.kind = 'escalation')
FROM turn t JOIN conversation c ON c.id = t.conversation_id
WHERE t.role IN ('customer', 'agent') OR t.kind = 'escalation'
GROUP BY 1, 2, 3, 4
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO stats_handoff (conversation_id, seq, escalated_at, channel, reason, priority,
  reply_at, reply_agent, reply_agent_name, resolved_at, resolved_agent, resolved_agent_name)
SELECT t.conversation_id, t.seq, t.created_at, c.channel, t.escalation_reason, t.escalation_priority,
       fr.created_at, fr.agent_id, fr.agent_name, rs.created_at, rs.agent_id, rs.agent_name
FROM turn t
JOIN conversation c ON c.id = t.conversation_id
LEFT JOIN LATERAL (
  SELECT min(n.seq) AS seq FROM turn n WHERE n.conversation_id = t.conversation_id AND n.seq > t.seq AND n.kind = 'escalation'
) nx ON true
LEFT JOIN LATERAL (
  SELECT r.created_at, r.agent_id, r.agent_name FROM turn r
  WHERE r.conversation_id = t.conversation_id AND r.seq > t.seq AND (nx.seq IS NULL OR r.seq < nx.seq) AND r.role = 'agent' AND r.kind = 'message'
  ORDER BY r.seq LIMIT 1
) fr ON true
LEFT JOIN LATERAL (
  SELECT r.created_at, r.agent_id, r.agent_name FROM turn r
  WHERE r.conversation_id = t.conversation_id AND r.seq > t.seq AND (nx.seq IS NULL OR r.seq < nx.seq) AND r.role = 'agent' AND r.kind = 'handoff' AND r.handoff = 'resolved'
  ORDER BY r.seq LIMIT 1
) rs ON true
WHERE t.kind = 'escalation'
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO stats_rating (conversation_id, seq, rated_at, channel, rating, agent_id, agent_name)
SELECT t.conversation_id, t.seq, t.created_at, c.channel, t.rating, r.agent_id, r.agent_name
FROM turn t
JOIN conversation c ON c.id = t.conversation_id
LEFT JOIN LATERAL (
  SELECT p.agent_id, p.agent_name FROM turn p
  WHERE p.conversation_id = t.conversation_id AND p.seq < t.seq AND p.kind = 'handoff' AND p.handoff = 'resolved'
  ORDER BY p.seq DESC LIMIT 1
) r ON true
WHERE t.kind = 'rating' AND t.rating IS NOT NULL
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO stats_citation (conversation_id, seq, entry_id, day, channel)
SELECT DISTINCT t.conversation_id, t.seq, e, (t.created_at AT TIME ZONE 'UTC')::date, c.channel
FROM turn t JOIN conversation c ON c.id = t.conversation_id CROSS JOIN LATERAL unnest(t.cites) AS e
WHERE t.kind = 'answer' AND t.role = 'bot' AND t.cites IS NOT NULL
ON CONFLICT DO NOTHING;
