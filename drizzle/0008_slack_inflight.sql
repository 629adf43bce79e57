-- A Slack post that may have reached Slack without its answer reaching us (a crash, or a lost
-- response): 'root:<opened_seq>' or 'turn:<seq>'. Before posting it again the mirror looks for it in
-- Slack (by the message metadata it carries), so that nothing is posted twice.
ALTER TABLE "handoff" ADD COLUMN "mirror_inflight" text;
