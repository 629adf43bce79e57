ALTER TABLE "turn" ADD COLUMN IF NOT EXISTS "rating" smallint;--> statement-breakpoint
ALTER TABLE "turn" ADD COLUMN IF NOT EXISTS "action" text;--> statement-breakpoint
ALTER TABLE "turn" ADD COLUMN IF NOT EXISTS "handoff" text;--> statement-breakpoint
ALTER TABLE "turn" ADD COLUMN IF NOT EXISTS "agent_id" text;--> statement-breakpoint
ALTER TABLE "turn" ADD COLUMN IF NOT EXISTS "agent_name" text;--> statement-breakpoint
ALTER TABLE "turn" ADD COLUMN IF NOT EXISTS "cites" text[];--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "turn_role_created_idx" ON "turn" USING btree ("role","created_at","conversation_id","language");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "turn_kind_created_idx" ON "turn" USING btree ("kind","created_at","conversation_id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "turn_escalation_seq_idx" ON "turn" USING btree ("conversation_id","seq") WHERE "turn"."kind" = 'escalation';--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "turn_agent_reply_seq_idx" ON "turn" USING btree ("conversation_id","seq") WHERE "turn"."role" = 'agent' AND "turn"."kind" = 'message';--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "turn_resolved_seq_idx" ON "turn" USING btree ("conversation_id","seq") WHERE "turn"."kind" = 'handoff' AND "turn"."handoff" = 'resolved';