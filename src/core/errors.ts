/** Error codes of unexpected failures. Expected outcomes are returned values, not errors. */
export type HelpdeskErrorCode =
  | 'conversation_not_found'
  | 'forbidden'
  | 'invalid_input'
  | 'storage_failure'
  | 'model_failure'
  | 'knowledge_invalid'
  | 'data_dir_locked'
  /** No valid staff session or token (missing, expired, signed out). */
  | 'unauthenticated'
  /** Wrong user name or password. */
  | 'login_failed'
  /** Too many failed sign-ins (the account, or the client): try again later. */
  | 'login_locked'
  /** An account that exists already, or that does not exist. */
  | 'account_exists'
  | 'account_not_found'
  | 'entry_not_found'
  /** The entry changed since the version the caller started from (or exists already, for a create). */
  | 'version_conflict'
  | 'conflict_not_found'
  /** A saved reply of the agents' inbox: none of that id, or one of that title exists already. */
  | 'reply_not_found'
  | 'reply_exists'
  /** The outbound guard refuses the text (a saved reply that would not be sent to customers). */
  | 'reply_blocked';

/**
 * The one error type core throws. `message` is for logs; `userMessage` is safe to show a customer
 * or an API client.
 */
export class HelpdeskError extends Error {
  constructor(
    readonly code: HelpdeskErrorCode,
    message: string,
    readonly userMessage: string = message,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HelpdeskError';
  }
}
