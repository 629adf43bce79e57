-- The inbox keeps an update's content only until it is handled: a settled update keeps its ids
-- (a redelivery is still recognised) and loses its payload. Payloads of updates settled before
-- (raw Telegram updates, with customers' texts and names) are purged now.
ALTER TABLE "channel_update" ALTER COLUMN "payload" DROP NOT NULL;--> statement-breakpoint
UPDATE "channel_update" SET "payload" = NULL WHERE "status" <> 'pending';
