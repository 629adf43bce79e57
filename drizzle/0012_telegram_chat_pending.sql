-- A chat's updates not handled yet, looked up when an update of that chat is stored: it waits for
-- them, since another instance (webhook mode behind a load balancer) may be handling them.
CREATE INDEX IF NOT EXISTS "channel_update_chat_pending_idx" ON "channel_update" USING btree ("source","chat_id","update_id") WHERE "channel_update"."status" = 'pending';
