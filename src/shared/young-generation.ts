import v8 from 'node:v8';

/** V8's own growth factor of the young generation (Node 20: 2), set back by {@link youngGeneration.release}. */
const DEFAULT_GROWTH_FACTOR = 2;

/** A semi-space flag given on the command line or in NODE_OPTIONS: the operator's choice, left alone. */
const chosenByOperator = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((arg) =>
  arg.includes('semi-space'),
);

let held = false;

/**
 * Keeps V8's young generation at its initial size while a sparsam server loads and starts, and lets it grow again
 * once the server listens.
 *
 * V8 allocates new objects in two semi-spaces that start at 1 MiB each and double, up to 16 MiB each (Node 20,
 * 64-bit), whenever many objects survive a scavenge. Loading sparsam (some 650 modules compiled) and opening its
 * stores is such a burst: it left the young generation at 2 × 16 MiB, and an idle server kept those pages (25 to
 * 30 MiB of VmRSS) until V8's memory reducer shrank them, 30 to 110 s after start; a garbage collection at a moment V8
 * judged busy kept them longer. The maximum can only be set on the command line (`--max-semi-space-size`:
 * `v8.setFlagsFromString` comes too late for it, the heap is configured when the process starts), but V8 reads the
 * growth factor at each growth, so a factor of 1 holds the young generation where it is.
 *
 * Under load it must grow: with 1 MiB semi-spaces, short-lived request objects reach the old generation and the
 * webhook ingest lost about a quarter of its throughput. Hence only {@link hold} before the server's modules load
 * (bin/sparsam.js, for `start` and `demo`) and {@link release} once it listens (startSparsam); from then on V8 sizes the
 * young generation as usual, and shrinks it again when the server has been idle for a while.
 */
export const youngGeneration = {
  /** Stops the young generation from growing (until {@link release}). */
  hold(): void {
    if (chosenByOperator || held) return;
    v8.setFlagsFromString('--semi-space-growth-factor=1');
    held = true;
  },
  /** Lets the young generation grow as V8 decides; does nothing unless {@link hold} was called. */
  release(): void {
    if (!held) return;
    v8.setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH_FACTOR}`);
    held = false;
  },
  /** Whether the young generation is held (for tests). */
  get held(): boolean {
    return held;
  },
};
