import type { Helpdesk, CustomerOutcome } from '../helpdesk.js';
import type { Channel, EscalationReason, Priority } from '../model.js';
import type { Retriever } from '../retrieval/retrieve.js';
import { RateLimitedError } from '../safety/safety-gate.js';
import type { SecurityEvent, SecurityEventLog } from '../safety/security-events.js';

/** What became of one customer input: the helpdesk's outcome, or why it was refused. */
export type InputOutcome = CustomerOutcome['outcome'] | 'rate_limited' | 'failed';

/**
 * Receives what the helpdesk does, as it happens, for operational metrics. Implementations must
 * not throw and must not block: they are called on the request path. Core calls it through the
 * decorators below, so that neither the helpdesk nor any store knows about metrics.
 */
export interface HelpdeskObserver {
  /** A customer input was handled (or refused), on a channel. */
  customerInput(outcome: InputOutcome, channel: Channel | 'unknown'): void;
  /** A conversation was handed to humans. */
  escalated(reason: EscalationReason, priority: Priority, channel: Channel): void;
  /** One retrieval ran, taking `seconds`; `failed` when it threw. */
  retrieval(seconds: number, failed: boolean): void;
  /** A security event was recorded (secrets removed by the firewall, blocked outbound messages …). */
  securityEvent(event: SecurityEvent): void;
}

function safely(observe: () => void): void {
  try {
    observe();
  } catch {
    // An observer's failure never changes what the customer gets.
  }
}

/**
 * The helpdesk with every customer input reported to `observer`: its outcome, and the escalation
 * it made. The other operations are the helpdesk's own.
 */
export function observeHelpdesk(helpdesk: Helpdesk, observer: HelpdeskObserver): Helpdesk {
  const report = (outcome: CustomerOutcome) => {
    safely(() => observer.customerInput(outcome.outcome, outcome.conversation.channel));
    if (outcome.outcome !== 'escalated') return;
    const escalation = outcome.turns.find((t) => t.kind === 'escalation')?.escalation;
    if (escalation) safely(() => observer.escalated(escalation.reason, escalation.priority, outcome.conversation.channel));
  };
  const reportError = (error: unknown) => safely(() => observer.customerInput(error instanceof RateLimitedError ? 'rate_limited' : 'failed', 'unknown'));
  const observed =
    <I>(handle: (input: I) => Promise<CustomerOutcome>) =>
    async (input: I): Promise<CustomerOutcome> => {
      try {
        const outcome = await handle(input);
        report(outcome);
        return outcome;
      } catch (error) {
        reportError(error);
        throw error;
      }
    };
  return {
    ...helpdesk,
    handleCustomerInput: observed(helpdesk.handleCustomerInput),
    recordCustomerTurn: observed(helpdesk.recordCustomerTurn),
  };
}

/** The retriever with the duration of every retrieval reported to `observer`. */
export function observeRetriever(retriever: Retriever, observer: HelpdeskObserver): Retriever {
  return {
    async retrieve(text, limit) {
      const started = performance.now();
      try {
        const result = await retriever.retrieve(text, limit);
        safely(() => observer.retrieval((performance.now() - started) / 1000, false));
        return result;
      } catch (error) {
        safely(() => observer.retrieval((performance.now() - started) / 1000, true));
        throw error;
      }
    },
  };
}

/**
 * The security-event log with every event reported to `observer` as it is recorded (counted even
 * when writing it fails: the firewall caught the secret all the same).
 */
export function observeSecurityEvents(log: SecurityEventLog, observer: HelpdeskObserver): SecurityEventLog {
  return {
    ...log,
    record(event) {
      safely(() => observer.securityEvent(event));
      return log.record(event);
    },
    list: (options) => log.list(options),
  };
}
