/**
 * What a job handler throws to steer the queue (src/jobs/job-queue.ts). Any other error is retried with
 * exponential backoff until the job's attempts run out. Reasons end up in `jobs.last_error` and in logs, so they
 * must be content-free: codes, ids and the provider's short reason, never message text or addresses.
 */

/** Run the job again after `delayMs` (the provider asked us to wait, or a resource is busy). Counts as an attempt. */
export class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    readonly reason: string,
  ) {
    super(`retry in ${Math.round(delayMs)} ms: ${reason}`);
    this.name = 'RetryLater';
  }
}

/** Never run the job again: it is marked 'failed' with `reason` at once, whatever attempts remain. */
export class PermanentFailure extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'PermanentFailure';
  }
}

/**
 * Not yet: run the job again after `delayMs` WITHOUT counting this run as an attempt (the job waits for other work,
 * e.g. an earlier message of the same conversation). A `JobQueue.wake(dedupeKey)` brings it forward, also when it
 * arrives while this run is still deciding to defer; `delayMs` is the fallback poll in case no wake comes.
 */
export class Defer extends Error {
  constructor(
    readonly delayMs: number,
    readonly reason: string,
  ) {
    super(`deferred for ${Math.round(delayMs)} ms: ${reason}`);
    this.name = 'Defer';
  }
}
