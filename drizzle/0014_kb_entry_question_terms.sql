-- An entry's length as a document for BM25 over entries (its title and questions): the sum of the
-- term counts of its title and question chunks, written by sync with the entry. Entries synced
-- before this column have 0 until they are synced again (the index format version changed with it,
-- so the next sync rewrites every entry).
ALTER TABLE "kb_entry" ADD COLUMN "question_terms" integer DEFAULT 0 NOT NULL;
