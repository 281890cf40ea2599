/** What processing a webhook delivery came to: the answer's status and body, and the audit row's result. */

/** The outcome of one delivery. */
export interface WebhookOutcome {
  /** 200: processed (something recorded, or nothing needed recording); 202: received and ignored. */
  status: 200 | 202;
  /** `recorded`: the ledger was written; `ignored`: nothing was (the note says why). */
  result: 'recorded' | 'ignored';
  /** Why nothing was recorded, or what more the sender should know. */
  note?: string;
  /** The ids of the deployments written. */
  deployments?: string[];
  /** The ids of the rollbacks written. */
  rollbacks?: string[];
  /** How many changes (commits) were recorded (those the ledger had already are kept as they were). */
  changes?: number;
}

/** A delivery received and deliberately not recorded. */
export function ignored(note: string, status: 200 | 202 = 202): WebhookOutcome {
  return { status, result: 'ignored', note };
}
