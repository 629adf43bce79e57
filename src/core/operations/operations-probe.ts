/** Pending messages of one channel's outbox (or updates of one inbox source). */
export interface QueueDepth {
  /** The channel (outbox) or update source (inbox), e.g. "telegram". */
  name: string;
  pending: number;
  /** Age of the oldest pending item in seconds, by the database's clock; 0 when none is pending. */
  oldestAgeSeconds: number;
}

/** What the database holds that an operator watches: queues, the turn log's progress, open handoffs. */
export interface OperationsSnapshot {
  outbox: QueueDepth[];
  inbox: QueueDepth[];
  turnLog: {
    /** Entries in the Merkle log. */
    size: number;
    /** Entries covered by the latest signed checkpoint (0 before the first). */
    checkpointSize: number;
    /** Seconds since the latest checkpoint was signed; null before the first. */
    checkpointAgeSeconds: number | null;
  };
  handoffs: {
    /** Open handoffs no agent has claimed yet. */
    unclaimed: number;
    /** Open handoffs an agent has claimed. */
    claimed: number;
    /** Seconds the longest-waiting unclaimed handoff has waited; 0 when none waits. */
    oldestUnclaimedAgeSeconds: number;
  };
}

/** Reads the operations snapshot from storage: a few aggregate reads, meant to run at most every few seconds. */
export interface OperationsProbe {
  read(): Promise<OperationsSnapshot>;
}
