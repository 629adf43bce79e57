CREATE INDEX "turn_role_created_idx" ON "turn" USING btree ("role","created_at","conversation_id","language");--> statement-breakpoint
CREATE INDEX "turn_kind_created_idx" ON "turn" USING btree ("kind","created_at","conversation_id");--> statement-breakpoint
CREATE INDEX "turn_escalation_seq_idx" ON "turn" USING btree ("conversation_id","seq") WHERE "turn"."kind" = 'escalation';--> statement-breakpoint
CREATE INDEX "turn_agent_reply_seq_idx" ON "turn" USING btree ("conversation_id","seq") WHERE "turn"."role" = 'agent' AND "turn"."kind" = 'message';--> statement-breakpoint
CREATE INDEX "turn_resolved_seq_idx" ON "turn" USING btree ("conversation_id","seq") WHERE "turn"."kind" = 'handoff' AND ("turn"."data" ->> 'handoff') = 'resolved';