export * from './canonical-json.js';
export * from './merkle.js';
export * from './signed-note.js';
export * from './log-entry.js';
export * from './verify-log.js';
export * from './knowledge-event.js';
export * from './transcript.js';
export * from './transcript-text.js';
