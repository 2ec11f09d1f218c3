/**
 * Outbound pacing benchmark: sparsam's job queue + outbound-send against the WhatsApp Cloud API simulator
 * (src/simulator), at a channel limit of 80 and 1,000 messages per second, beside two baselines in the same run:
 *   - "plain fetch loop": the same requests sent by a loop of fetch calls (16 in flight), no queue, no pacing;
 *   - "sleep-paced loop": one fetch after the other with a sleep of 1000/R ms in between (the naive way to pace).
 * The "injected 429" scenario puts the simulator into its 429 failure mode (130429 with Retry-After) for 300 ms a
 * third of the way through the run.
 *
 *   node --import tsx bench/outbound-pacing.ts [--dialect sqlite|postgres] [--rates 80,1000] [--seconds 5]
 *
 * Reports messages accepted by the provider, 429s, lost (never accepted) and duplicates (accepted twice), the
 * achieved rate (accepted messages over the time from the first to the last acceptance), and the most messages
 * accepted in any one-second window (the provider's limit applies to that). Goal: rate within 5 % of the target,
 * never above it in any second, zero loss, zero duplicates.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { startSimulator, type WhatsAppSimulator } from '../src/simulator/whatsapp-simulator.ts';
import { openStore } from '../src/store/open-store.ts';
import type { Store } from '../src/store/store.ts';
import { createPgDatabase } from '../test/support/stores.ts';
import { CUSTOMER, outboundWorld, PHONE_NUMBER_ID } from '../test/jobs/outbound-fixture.ts';

const { values } = parseArgs({
  options: {
    dialect: { type: 'string', default: 'sqlite' },
    rates: { type: 'string', default: '80,1000' },
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '64' },
  },
});
const dialect = values.dialect === 'postgres' ? 'postgres' : 'sqlite';
const rates = values.rates.split(',').map(Number);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const TOKEN = 'test-access-token';

interface Result {
  scenario: string;
  target: number;
  accepted: number;
  rejected429: number;
  lost: number;
  /** Queue runs only: messages still queued when the run's deadline passed (not lost: they go out later). */
  stillQueued: number;
  duplicates: number;
  seconds: number;
  rate: number;
  maxPerSecond: number;
}

async function simulator(): Promise<{ sim: WhatsAppSimulator; close(): Promise<void> }> {
  const hooks = Fastify({ logger: false });
  hooks.post('/hook', async () => ({ ok: true }));
  const hookUrl = await hooks.listen({ port: 0, host: '127.0.0.1' });
  const sim = await startSimulator({
    appSecret: 'test-app-secret',
    accessToken: TOKEN,
    phoneNumberId: PHONE_NUMBER_ID,
    webhookUrl: `${hookUrl}/hook`,
    verifyToken: 'test-verify-token',
    autoStatuses: false,
  });
  // The customer writes first: free text is allowed for 24 hours after that.
  await sim.sendCustomerMessage({ from: CUSTOMER, text: 'Hallo' });
  return {
    sim,
    async close() {
      await sim.close();
      await hooks.close();
    },
  };
}

function summarise(scenario: string, target: number, total: number, sim: WhatsAppSimulator, stillQueued = 0): Result {
  const ok = sim.sentMessages();
  const texts = ok.map((m) => m.text ?? '');
  const unique = new Set(texts);
  const at = ok.map((m) => m.at).sort((a, b) => a - b);
  const span = ((at.at(-1) ?? 0) - (at[0] ?? 0)) / 1000;
  let maxPerSecond = 0;
  for (let i = 0, j = 0; i < at.length; i += 1) {
    while (at[j]! <= at[i]! - 1000) j += 1;
    maxPerSecond = Math.max(maxPerSecond, i - j + 1);
  }
  return {
    scenario,
    target,
    accepted: ok.length,
    rejected429: sim.refused.filter((r) => r.status === 429).length,
    lost: total - unique.size - stillQueued,
    stillQueued,
    duplicates: texts.length - unique.size,
    seconds: Number(span.toFixed(2)),
    // n accepted requests span n-1 intervals.
    rate: span > 0 ? Number(((ok.length - 1) / span).toFixed(1)) : 0,
    maxPerSecond,
  };
}

async function freshStore(): Promise<{ store: Store; cleanup(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sparsam-bench-'));
  const pg = dialect === 'postgres' ? await createPgDatabase() : undefined;
  const store = await openStore({ dataDir, databaseUrl: pg?.url, keystoreUrl: pg?.url });
  return {
    store,
    async cleanup() {
      await store.close();
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function viaQueue(rate: number, total: number, inject429: boolean): Promise<Result> {
  const { sim, close } = await simulator();
  const { store, cleanup } = await freshStore();
  try {
    const w = await outboundWorld(store, sim.url, { messagesPerSecond: rate, concurrency });
    for (let i = 0; i < total; i += 1) await w.queueMessage({ text: `Nachricht ${i}` });
    const expectedMs = (total / rate) * 1000;
    const injection = inject429
      ? setTimeout(() => sim.failureMode({ status: 429, forMs: 300 }), expectedMs / 3)
      : undefined;
    w.queue.start();
    const deadline = Date.now() + expectedMs * 4 + 20_000;
    const open = async () =>
      Number(
        (
          await store.db
            .selectFrom('messages')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('status', 'in', ['queued', 'sending'])
            .executeTakeFirstOrThrow()
        ).n,
      );
    while ((await open()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    clearTimeout(injection);
    await w.queue.stop();
    return summarise(inject429 ? 'queue, 429 period injected' : 'queue', rate, total, sim, await open());
  } finally {
    await close();
    await cleanup();
  }
}

function send(sim: WhatsAppSimulator, i: number): Promise<Response> {
  return fetch(`${sim.url}/v23.0/${PHONE_NUMBER_ID}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: CUSTOMER,
      type: 'text',
      text: { preview_url: false, body: `Nachricht ${i}` },
    }),
  });
}

async function plainLoop(rate: number, total: number): Promise<Result> {
  const { sim, close } = await simulator();
  try {
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const res = await send(sim, next++);
        await res.text();
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    return summarise('plain fetch loop (no queue, no pacing)', rate, total, sim);
  } finally {
    await close();
  }
}

async function sleepLoop(rate: number, total: number): Promise<Result> {
  const { sim, close } = await simulator();
  try {
    for (let i = 0; i < total; i += 1) {
      const res = await send(sim, i);
      await res.text();
      await new Promise((resolve) => setTimeout(resolve, 1000 / rate));
    }
    return summarise('sleep-paced loop (no queue)', rate, total, sim);
  } finally {
    await close();
  }
}

const results: Result[] = [];
for (const rate of rates) {
  const total = Math.round(rate * seconds);
  results.push(await plainLoop(rate, total));
  results.push(await sleepLoop(rate, total));
  results.push(await viaQueue(rate, total, false));
  results.push(await viaQueue(rate, total, true));
}

console.log(`outbound pacing, ${dialect}, ${seconds} s of messages per rate, queue concurrency ${concurrency}`);
console.log(
  '| target msg/s | scenario | accepted | 429s | lost | still queued at deadline | duplicates | seconds | achieved msg/s | achieved / target | max in any 1 s |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(
    `| ${r.target} | ${r.scenario} | ${r.accepted} | ${r.rejected429} | ${r.lost} | ${r.stillQueued} | ${r.duplicates} | ${r.seconds} | ${r.rate} | ${(r.rate / r.target).toFixed(3)} | ${r.maxPerSecond} |`,
  );
}
