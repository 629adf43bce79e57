// The whole schema, one file per concern. drizzle-kit reads the files of this folder; the app and
// the migrations agree with it (test/integration/schema-drift.test.ts).
export * from './admin.js';
export * from './channels.js';
export * from './conversations.js';
export * from './files.js';
export * from './handoff.js';
export * from './knowledge.js';
export * from './safety.js';
export * from './turn-log.js';
export * from './stats.js';
