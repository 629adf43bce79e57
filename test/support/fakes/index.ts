export { createMemoryConversationStore, createMemorySecurityEventLog } from '../../../src/core/index.js';
export { createMemoryHandoffStore } from './memory-handoff-store.js';
export { createMemoryKnowledgeIndex } from './memory-knowledge-index.js';
export { createRecordingChannel } from './recording-channel.js';
export { createMemorySavedReplyStore } from './memory-saved-reply-store.js';
export { createMemoryInboxStore } from './memory-inbox-store.js';
