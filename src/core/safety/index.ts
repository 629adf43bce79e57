export { detectSecrets, maskSecrets, SECRET_MARKERS, type DetectOptions, type SecretFinding, type SecretType, type MaskedText } from './detect-secrets.js';
export {
  createFirewall,
  withoutMarkers,
  SCREEN_MARGIN_CHARS,
  PREVIOUS_TAIL_CHARS,
  type Firewall,
  type RawAttachment,
  type RawCustomerMessage,
} from './firewall.js';
export { hasValidChecksum, BIP39_WORDLISTS, PHRASE_LENGTHS } from './bip39.js';
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
export {
  reviewOutbound,
  blockReasons,
  asksForSecret,
  asksForPayment,
  findContacts,
  CONTACT_REMOVED,
  type OutboundBlockReason,
  type OutboundReview,
  type FoundContact,
} from './outbound-guard.js';
export { createRateLimiter, type RateLimiter, type RateLimitSettings } from './rate-limiter.js';
export {
  createAggregatingEventLog,
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
export { createSafetyGate, RateLimitedError, DEFAULT_RATE_LIMIT, type HelpdeskSafety, type SafetyGate } from './safety-gate.js';
