CREATE TABLE IF NOT EXISTS "stats_citation_day" (
	"day" date NOT NULL,
	"channel" text NOT NULL,
	"entry_id" text NOT NULL,
	"answers" integer NOT NULL,
	CONSTRAINT "stats_citation_day_pkey" PRIMARY KEY("day","channel","entry_id")
);
--> statement-breakpoint
-- The cited entries of the answers stored before, per day and channel (each answer once per entry).
INSERT INTO stats_citation_day (day, channel, entry_id, answers)
SELECT a.day, a.channel, a.entry_id, count(*)::int
FROM (
  SELECT DISTINCT t.conversation_id, t.seq, e AS entry_id, (t.created_at AT TIME ZONE 'UTC')::date AS day, c.channel
  FROM turn t JOIN conversation c ON c.id = t.conversation_id CROSS JOIN LATERAL unnest(t.cites) AS e
  WHERE t.kind = 'answer' AND t.role = 'bot' AND t.cites IS NOT NULL
) a
GROUP BY 1, 2, 3
ON CONFLICT DO NOTHING;
--> statement-breakpoint
DROP TABLE IF EXISTS "stats_citation";
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "stats_conversation_day" (
	"conversation_id" uuid NOT NULL,
	"day" date NOT NULL,
	"channel" text NOT NULL,
	"next_day" date,
	"customer_day" date,
	"solved_day" date,
	"human_day" date,
	"escalated_day" date,
	CONSTRAINT "stats_conversation_day_pkey" PRIMARY KEY("conversation_id","day")
);
--> statement-breakpoint
-- The conversation days of the turns stored before: each day's kinds of turn, then along each
-- conversation's days the next day and the running latest day of each kind.
INSERT INTO stats_conversation_day (conversation_id, day, channel, next_day, customer_day, solved_day, human_day, escalated_day)
SELECT d.conversation_id, d.day, c.channel, lead(d.day) OVER w,
       max(CASE WHEN d.customer THEN d.day END) OVER w, max(CASE WHEN d.solved THEN d.day END) OVER w,
       max(CASE WHEN d.human THEN d.day END) OVER w, max(CASE WHEN d.escalated THEN d.day END) OVER w
FROM (
  SELECT t.conversation_id, (t.created_at AT TIME ZONE 'UTC')::date AS day,
         bool_or(t.role = 'customer') AS customer,
         bool_or(t.role = 'customer' AND t.kind = 'action' AND t.action IS NOT DISTINCT FROM 'solved') AS solved,
         bool_or(t.role = 'agent') AS human, bool_or(t.kind = 'escalation') AS escalated
  FROM turn t
  WHERE t.role IN ('customer', 'agent') OR t.kind = 'escalation'
  GROUP BY 1, 2
) d
JOIN conversation c ON c.id = d.conversation_id
WINDOW w AS (PARTITION BY d.conversation_id ORDER BY d.day)
ON CONFLICT DO NOTHING;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "stats_conversation_day_day_idx" ON "stats_conversation_day" USING btree ("day");--> statement-breakpoint
-- stats_activity keeps the customer days only (the totals read stats_conversation_day).
DELETE FROM "stats_activity" WHERE NOT "customer";--> statement-breakpoint
DROP INDEX IF EXISTS "stats_activity_day_idx";--> statement-breakpoint
ALTER TABLE "stats_activity" DROP COLUMN IF EXISTS "customer";--> statement-breakpoint
ALTER TABLE "stats_activity" DROP COLUMN IF EXISTS "solved";--> statement-breakpoint
ALTER TABLE "stats_activity" DROP COLUMN IF EXISTS "human";--> statement-breakpoint
ALTER TABLE "stats_activity" DROP COLUMN IF EXISTS "escalated";--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "stats_activity_day_idx" ON "stats_activity" USING btree ("day","channel","language");--> statement-breakpoint
-- The customer days of the turns stored before (already there after the delete above; this is the
-- statement that rebuilds them from the turns alone).
INSERT INTO stats_activity (conversation_id, day, language, channel)
SELECT DISTINCT t.conversation_id, (t.created_at AT TIME ZONE 'UTC')::date, t.language, c.channel
FROM turn t JOIN conversation c ON c.id = t.conversation_id
WHERE t.role = 'customer'
ON CONFLICT DO NOTHING;
--> statement-breakpoint
-- The roll-ups (schema/stats.ts) follow every new turn in its transaction, under its conversation's
-- lock: the turns of one conversation are appended one transaction at a time, in seq order, so
-- "the latest escalation before this turn" is the one whose span (until the next escalation) the
-- turn falls in. Bot turns other than cited answers cost nothing; the common turn (a customer or
-- agent turn on a day its conversation already has) costs one primary-key read, two for a
-- customer turn, and nothing is written unless a figure changes. A day may
-- arrive before a day already rolled up (clocks of several instances): it is linked in between,
-- and what it carries is raised on the later days.
CREATE OR REPLACE FUNCTION turn_stats_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  d date;
  is_customer boolean := NEW.role = 'customer';
  is_solved boolean;
  is_human boolean := NEW.role = 'agent';
  is_escalation boolean := NEW.kind = 'escalation';
  cur stats_conversation_day%ROWTYPE;
  fresh boolean;
BEGIN
  d := (NEW.created_at AT TIME ZONE 'UTC')::date;
  IF NOT (is_customer OR is_human OR is_escalation) THEN
    IF NEW.kind = 'answer' AND NEW.role = 'bot' AND NEW.cites IS NOT NULL THEN
      -- One more answer citing each entry (once per answer), that day on that channel.
      INSERT INTO stats_citation_day AS s (day, channel, entry_id, answers)
      SELECT d, c.channel, e.entry_id, 1 FROM conversation c CROSS JOIN (SELECT DISTINCT unnest(NEW.cites) AS entry_id) e WHERE c.id = NEW.conversation_id
      ON CONFLICT (day, channel, entry_id) DO UPDATE SET answers = s.answers + 1;
    END IF;
    RETURN NULL;
  END IF;
  is_solved := is_customer AND NEW.kind = 'action' AND NEW.action IS NOT DISTINCT FROM 'solved';

  SELECT * INTO cur FROM stats_conversation_day WHERE conversation_id = NEW.conversation_id AND day = d;
  fresh := NOT FOUND;
  IF fresh THEN
    INSERT INTO stats_conversation_day (conversation_id, day, channel, next_day, customer_day, solved_day, human_day, escalated_day)
    SELECT NEW.conversation_id, d, c.channel,
           (SELECT min(n.day) FROM stats_conversation_day n WHERE n.conversation_id = NEW.conversation_id AND n.day > d),
           p.customer_day, p.solved_day, p.human_day, p.escalated_day
    FROM conversation c
    LEFT JOIN LATERAL (
      SELECT q.customer_day, q.solved_day, q.human_day, q.escalated_day FROM stats_conversation_day q
      WHERE q.conversation_id = NEW.conversation_id AND q.day < d ORDER BY q.day DESC LIMIT 1
    ) p ON true
    WHERE c.id = NEW.conversation_id;
    -- The day before it now leads here.
    UPDATE stats_conversation_day SET next_day = d
    WHERE conversation_id = NEW.conversation_id AND day < d AND (next_day IS NULL OR next_day > d);
  END IF;
  IF fresh OR (is_customer AND cur.customer_day IS DISTINCT FROM d) OR (is_solved AND cur.solved_day IS DISTINCT FROM d)
     OR (is_human AND cur.human_day IS DISTINCT FROM d) OR (is_escalation AND cur.escalated_day IS DISTINCT FROM d) THEN
    UPDATE stats_conversation_day s
    SET customer_day = CASE WHEN is_customer THEN greatest(s.customer_day, d) ELSE s.customer_day END,
        solved_day = CASE WHEN is_solved THEN greatest(s.solved_day, d) ELSE s.solved_day END,
        human_day = CASE WHEN is_human THEN greatest(s.human_day, d) ELSE s.human_day END,
        escalated_day = CASE WHEN is_escalation THEN greatest(s.escalated_day, d) ELSE s.escalated_day END
    WHERE s.conversation_id = NEW.conversation_id AND s.day >= d
      AND ((is_customer AND (s.customer_day IS NULL OR s.customer_day < d)) OR (is_solved AND (s.solved_day IS NULL OR s.solved_day < d))
        OR (is_human AND (s.human_day IS NULL OR s.human_day < d)) OR (is_escalation AND (s.escalated_day IS NULL OR s.escalated_day < d)));
  END IF;

  IF is_customer THEN
    PERFORM FROM stats_activity WHERE conversation_id = NEW.conversation_id AND day = d AND language = NEW.language;
    IF NOT FOUND THEN
      INSERT INTO stats_activity (conversation_id, day, language, channel)
      SELECT NEW.conversation_id, d, NEW.language, c.channel FROM conversation c WHERE c.id = NEW.conversation_id
      ON CONFLICT DO NOTHING;
    END IF;
  END IF;
  IF NEW.kind = 'rating' AND NEW.rating IS NOT NULL THEN
    INSERT INTO stats_rating (conversation_id, seq, rated_at, channel, rating, agent_id, agent_name)
    SELECT NEW.conversation_id, NEW.seq, NEW.created_at, c.channel, NEW.rating, r.agent_id, r.agent_name
    FROM conversation c
    LEFT JOIN LATERAL (
      SELECT p.agent_id, p.agent_name FROM turn p
      WHERE p.conversation_id = NEW.conversation_id AND p.seq < NEW.seq AND p.kind = 'handoff' AND p.handoff = 'resolved'
      ORDER BY p.seq DESC LIMIT 1
    ) r ON true
    WHERE c.id = NEW.conversation_id
    ON CONFLICT DO NOTHING;
  END IF;
  IF is_escalation THEN
    INSERT INTO stats_handoff (conversation_id, seq, escalated_at, channel, reason, priority)
    SELECT NEW.conversation_id, NEW.seq, NEW.created_at, c.channel, NEW.escalation_reason, NEW.escalation_priority
    FROM conversation c WHERE c.id = NEW.conversation_id
    ON CONFLICT DO NOTHING;
  ELSIF is_human AND NEW.kind = 'message' THEN
    -- An agent's message: the first reply to the latest escalation, if it has none yet.
    UPDATE stats_handoff SET reply_at = NEW.created_at, reply_agent = NEW.agent_id, reply_agent_name = NEW.agent_name
    WHERE conversation_id = NEW.conversation_id AND reply_at IS NULL
      AND seq = (SELECT max(h.seq) FROM stats_handoff h WHERE h.conversation_id = NEW.conversation_id AND h.seq < NEW.seq);
  ELSIF is_human AND NEW.kind = 'handoff' AND NEW.handoff IS NOT DISTINCT FROM 'resolved' THEN
    UPDATE stats_handoff SET resolved_at = NEW.created_at, resolved_agent = NEW.agent_id, resolved_agent_name = NEW.agent_name
    WHERE conversation_id = NEW.conversation_id AND resolved_at IS NULL
      AND seq = (SELECT max(h.seq) FROM stats_handoff h WHERE h.conversation_id = NEW.conversation_id AND h.seq < NEW.seq);
  END IF;
  RETURN NULL;
END;
$$;
