export { detectSecrets, maskSecrets, SECRET_MARKERS, type SecretFinding, type SecretType, type MaskedText } from './detect-secrets.js';
export { hasValidChecksum, BIP39_WORDLISTS } from './bip39.js';
export { normalizeInput, toStorableJson, type NormalizedInput } from './normalize-input.js';
export {
  checkOfficialChannel,
  createOfficialAllowlist,
  withKnowledgeLinks,
  isAllowedContact,
  toContactKind,
  type ChannelKind,
  type OfficialAllowlist,
  type OfficialChannelCheck,
  type OfficialChannelsInput,
} from './official-channels.js';
export { reviewOutbound, asksForSecret, asksForPayment, findContacts, CONTACT_REMOVED, type OutboundReview, type FoundContact } from './outbound-guard.js';
export { createRateLimiter, type RateLimiter, type RateLimitSettings } from './rate-limiter.js';
export {
  createMemorySecurityEventLog,
  type SecurityEvent,
  type SecurityEventLog,
  type SecurityEventType,
  type RecordedSecurityEvent,
} from './security-events.js';
export { checkEntryContacts, rejectUnlistedContacts, toKnowledgeLinks } from './check-knowledge-contacts.js';
export {
  toSecretWarning,
  toTruncationNotice,
  toRateLimitReply,
  toOfficialChannelsLine,
  toOfficialChannelReply,
} from './safety-messages.js';
export { createSafetyGate, RateLimitedError, DEFAULT_RATE_LIMIT, type HelpdeskSafety, type SafetyGate, type ScreenedText } from './safety-gate.js';
