import type { Logger } from '../shared/logger.ts';
import type { OutboundPort, OutboundTarget } from '../store/ports/outbound.port.ts';
import { Defer } from './job-errors.ts';
import { describeJobError, type Job, type JobHandler } from './job-queue.ts';

/**
 * How long a send waiting for an earlier message looks again by itself (±25 % jitter) in case the wake-up from the
 * earlier message's job is missed (another instance without a wake path, a wake lost to a crash). Short enough that
 * a missed wake costs about a second; each look is one indexed query.
 */
export const OUTBOUND_ORDER_POLL_MS = 1_500;

export interface OutboundOrderDeps {
  store: Pick<OutboundPort, 'load' | 'nextQueuedOutbound'>;
  /** JobQueue.wake: makes a deferred send job due now. */
  wake: (dedupeKey: string) => Promise<void>;
  /** The dedupe key of a message's send job (outboundDedupeKey). */
  dedupeKey: (messageId: string) => string;
  logger?: Logger | undefined;
  pollMs?: number;
}

/**
 * A send handler that takes the message as the order check read it (`loaded.target`, undefined when the message is
 * gone), so that it need not read it again; without `loaded` it reads the message itself.
 */
export type OrderedSendHandler = (
  job: Job,
  loaded?: { target: OutboundTarget | undefined },
) => Promise<SendEnd | undefined>;

/**
 * What a send that left its message sent knows already (OutboundPort.markSent, read after the outcome's commit): the
 * conversation's next queued message if its job waits to be woken, so that the turn is passed without asking again.
 */
export interface SendEnd {
  toWake: string | undefined;
}

/**
 * Keeps the outbound messages of a conversation (replies, templates, notices, greetings: directions 'out' and
 * 'system') leaving in the order they were created, across retries, workers and instances.
 *
 * Before the send handler runs, the message is read (OutboundPort.load, which carries the order check); a job whose
 * message has an earlier message of the same conversation still 'queued' or 'sending' throws Defer: the provider is not called and no attempt is used up, however long the earlier message
 * retries. After a job ends with its message sent or failed, the job of the conversation's next queued message is
 * woken (JobQueue.wake by its dedupe key), so that it goes out at once; the deferral's poll is the fallback.
 *
 * A failed earlier message does not block; an earlier message stuck 'sending' after a crash is settled by its own job
 * (SEND_UNCONFIRMED) and then unblocks. Messages of an erased conversation are gone and block nothing. The check is a
 * query on the shared database, so it holds with several instances. Read receipts are not ordered. When the earlier
 * message's send runs in this process, the later one waits for that send to end and then checks again, instead of
 * deferring (its slot is held meanwhile; sends are claimed in creation order, so such waits are short).
 */
export function inOutboundOrder(handler: OrderedSendHandler, deps: OutboundOrderDeps): JobHandler {
  const pollMs = deps.pollMs ?? OUTBOUND_ORDER_POLL_MS;
  // The ordered sends running in this process, by message id; each promise settles when its job has ended (outcome
  // written, next message woken). A send whose earlier message is one of these waits for it here instead of
  // deferring: no deferral, wake-up and second claim, each a write. Other instances' sends are waited for by Defer.
  const running = new Map<string, Promise<void>>();
  const isRunningHere = (id: string) => running.has(id);
  // Sends of this process that have ended, counted: a send that read its earlier message as pending while that
  // message's send here was ending (outcome committed, turn passed, gone from `running`) reads once more instead of
  // deferring, since the turn was passed while it was still running and no wake-up is left for it.
  let endedHere = 0;
  return async (job) => {
    const messageId = orderedMessageId(job);
    if (messageId === undefined) {
      await handler(job);
      return;
    }
    // The same message's send claimed again while its first run is still here (a lease lost to a stall): later.
    if (running.has(messageId)) throw new Defer(pollMs, `message ${messageId} is being sent by this process`);
    let ended!: () => void;
    running.set(messageId, new Promise<void>((resolve) => (ended = resolve)));
    try {
      let target: OutboundTarget | undefined;
      for (let waits = 0; ; waits += 1) {
        const endedBefore = endedHere;
        target = await deps.store.load(messageId);
        const earlier = target?.earlierPending;
        if (earlier === undefined) break;
        const here = running.get(earlier);
        if (here === undefined && endedHere !== endedBefore && waits < MAX_LOCAL_WAITS) continue;
        if (here === undefined || waits >= MAX_LOCAL_WAITS) {
          throw new Defer(Math.round(pollMs * (0.75 + Math.random() * 0.5)), `waiting for earlier message ${earlier}`);
        }
        await here;
      }
      let end: SendEnd | undefined;
      try {
        end = await handler(job, { target });
      } finally {
        await passTurn(messageId, deps, isRunningHere, end);
      }
    } finally {
      running.delete(messageId);
      endedHere += 1;
      ended();
    }
  };
}

/** How many earlier sends of this process one send waits for before it defers like any other. */
const MAX_LOCAL_WAITS = 8;

/**
 * After the message left the queue (sent or failed), wakes the send job of the next queued one, if any (`known`: as
 * the send read it after its outcome's commit; otherwise looked up). A next message whose send is running in this
 * process (`runningHere`) is waiting for this one already and looks again by itself: no wake-up is written for it.
 */
export async function passTurn(
  messageId: string,
  deps: OutboundOrderDeps,
  runningHere: (messageId: string) => boolean = () => false,
  known?: SendEnd,
): Promise<void> {
  try {
    const next = known ? known.toWake : await deps.store.nextQueuedOutbound(messageId);
    if (next !== undefined && !runningHere(next)) await deps.wake(deps.dedupeKey(next));
  } catch (error) {
    // Not fatal: the next message's deferral looks again by itself.
    deps.logger?.warn({ messageId, err: describeJobError(error) }, 'waking the next outbound message failed');
  }
}

function orderedMessageId(job: Job): string | undefined {
  const messageId = job.payload.messageId;
  if (typeof messageId !== 'string' || messageId === '' || job.payload.action === 'read') return undefined;
  return messageId;
}
