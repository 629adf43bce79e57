/** Error codes of unexpected failures. Expected outcomes are returned values, not errors. */
export type HelpdeskErrorCode =
  | 'conversation_not_found'
  | 'forbidden'
  | 'invalid_input'
  | 'storage_failure'
  | 'model_failure'
  | 'knowledge_invalid'
  | 'data_dir_locked';

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
