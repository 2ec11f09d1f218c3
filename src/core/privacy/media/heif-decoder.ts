import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Result of decoding a HEIC/HEIF file: RGBA pixels, or why not. */
export type HeifDecodeResult =
  { ok: true; pixels: Buffer; width: number; height: number } | { ok: false; reason: 'corrupt' | 'too-many-pixels' };

/**
 * The worker's code: heic-decode (libheif compiled to WebAssembly) runs synchronously and would block sparsam's
 * event loop for seconds per photo, so it runs in a worker thread. The image size is read from the header and
 * checked against the pixel limit before any pixel is decoded. Plain JavaScript evaluated in the worker, so it
 * needs no build step and no loader.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const decode = require(workerData.modulePath);
parentPort.postMessage({ ready: true });
parentPort.on('message', async ({ id, buffer, maxPixels }) => {
  let images;
  try {
    images = await decode.all({ buffer: new Uint8Array(buffer) });
    const first = images[0];
    if (!first) return parentPort.postMessage({ id, error: 'corrupt' });
    if (first.width * first.height > maxPixels) return parentPort.postMessage({ id, error: 'too-many-pixels' });
    const out = await first.decode();
    parentPort.postMessage({ id, width: out.width, height: out.height, data: out.data }, [out.data.buffer]);
  } catch {
    parentPort.postMessage({ id, error: 'corrupt' });
  } finally {
    if (images) images.dispose();
  }
});
`;

interface Pending {
  resolve(result: HeifDecodeResult): void;
  timer: NodeJS.Timeout | undefined;
  /** Sent once the worker has loaded libheif; the timeout runs from then. */
  job: { id: number; buffer: Uint8Array; maxPixels: number };
}

/**
 * Decodes HEIC/HEIF in one long-lived worker thread (started on first use, not keeping the process alive). A decode
 * that takes longer than the timeout terminates the worker (a new one starts for the next file) and is refused as
 * corrupt: a crafted file cannot hold a thread forever.
 */
export class HeifDecoder {
  private worker: Worker | undefined;
  private ready = false;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(private readonly timeoutMs: number) {}

  decode(data: Buffer, maxPixels: number): Promise<HeifDecodeResult> {
    this.ensureWorker();
    const id = ++this.nextId;
    return new Promise<HeifDecodeResult>((resolve) => {
      // A copy goes to the worker; the caller's buffer stays usable.
      const pending: Pending = { resolve, timer: undefined, job: { id, buffer: new Uint8Array(data), maxPixels } };
      this.pending.set(id, pending);
      if (this.ready) this.dispatch(pending);
    });
  }

  /** Posts a job to the ready worker and starts its timeout (the worker's start-up, loading libheif, is not counted). */
  private dispatch(pending: Pending): void {
    pending.timer = setTimeout(() => this.restart(), this.timeoutMs);
    this.worker?.postMessage(pending.job);
  }

  /** Stops the worker (tests; sparsam itself relies on the worker not keeping the process alive). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.resolve({ ok: false, reason: 'corrupt' });
      this.pending.delete(id);
    }
    await worker?.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const modulePath = createRequire(import.meta.url).resolve('heic-decode');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { modulePath } });
    worker.unref();
    worker.on(
      'message',
      (message: {
        id: number;
        error?: 'corrupt' | 'too-many-pixels';
        width?: number;
        height?: number;
        data?: Uint8ClampedArray;
        ready?: true;
      }) => {
        if (message.ready) {
          this.ready = true;
          for (const pending of this.pending.values()) if (!pending.timer) this.dispatch(pending);
          return;
        }
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        clearTimeout(pending.timer);
        if (message.error || !message.data || !message.width || !message.height) {
          pending.resolve({ ok: false, reason: message.error ?? 'corrupt' });
          return;
        }
        const data = message.data;
        pending.resolve({
          ok: true,
          pixels: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
          width: message.width,
          height: message.height,
        });
      },
    );
    worker.on('error', () => this.failAll());
    worker.on('exit', () => {
      if (this.worker !== worker) return; // replaced after a timeout: its jobs were settled then
      this.worker = undefined;
      this.ready = false;
      this.failAll();
    });
    this.worker = worker;
    this.ready = false;
    return worker;
  }

  private restart(): void {
    const worker = this.worker;
    this.worker = undefined;
    this.ready = false;
    void worker?.terminate();
    // Jobs already sent to the stopped worker are refused with it; jobs still waiting get a fresh worker.
    for (const [id, pending] of this.pending) {
      if (!pending.timer) continue;
      clearTimeout(pending.timer);
      pending.resolve({ ok: false, reason: 'corrupt' });
      this.pending.delete(id);
    }
    if ([...this.pending.values()].some((p) => !p.timer)) this.ensureWorker();
  }

  private failAll(): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.resolve({ ok: false, reason: 'corrupt' });
      this.pending.delete(id);
    }
  }
}
