/**
 * Outbound pacing benchmark: sparsam's job queue + outbound-send against the WhatsApp Cloud API simulator
 * (dev/simulator), at a channel limit of 80 and 1,000 messages per second, beside two baselines in the same run:
 *   - "plain fetch loop": the same requests sent by a loop of fetch calls (16 in flight), no queue, no pacing;
 *   - "sleep-paced loop": one fetch after the other with a sleep of 1000/R ms in between (the naive way to pace).
 * The "injected 429" scenario puts the simulator into its 429 failure mode (130429 with Retry-After) for 300 ms a
 * third of the way through the run.
 *
 * With `--instances 2` (PostgreSQL only) the queue runs use two JobQueues, each with its own store (own connection
 * pool) and pacer, on one database, as two sparsam instances would; a further run pairs two per-process SendPacers
 * for comparison. On PostgreSQL the queue runs pace with the shared pacer (SharedSendPacer, a send_pacing row per
 * channel) unless `--pacer local`.
 *
 *   node --import tsx bench/outbound-pacing.ts [--dialect sqlite|postgres] [--rates 80,1000] [--seconds 5]
 *        [--instances 1|2] [--pacer shared|local] [--conversations 100]
 *
 * The messages are spread round-robin over `--conversations` customers (a conversation's messages leave in order,
 * one at a time).
 *
 * Reports messages accepted by the provider, 429s, lost (never accepted) and duplicates (accepted twice), the
 * achieved rate (accepted messages over the time from the first to the last acceptance), and the most messages
 * accepted in any one-second window (the provider's limit applies to that). Goal: rate within 5 % of the target,
 * never above it in any second, zero loss, zero duplicates.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { KeyService } from '../src/core/privacy/keys/key.service.ts';
import type { Pacer } from '../src/jobs/pacer.ts';
import { SendPacer } from '../src/jobs/send-pacer.ts';
import { SharedSendPacer } from '../src/jobs/shared-send-pacer.ts';
import { systemClock } from '../src/shared/clock.ts';
import { PgSendPacingStore } from '../src/store/postgres/send-pacing.store.ts';
import { KeyStore } from '../src/store/sql/key.store.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../src/store/database.ts';
import { openPostgres } from '../src/store/postgres/postgres.dialect.ts';
import { startSimulator, type WhatsAppSimulator } from '../dev/simulator/whatsapp-simulator.ts';
import { openStore } from '../src/store/open-store.ts';
import type { Store } from '../src/store/store.ts';
import { createPgDatabase } from '../test/support/stores.ts';
import { CUSTOMER, outboundWorld, PHONE_NUMBER_ID } from '../test/jobs/outbound-fixture.ts';
import { maxInAnySecond } from '../test/support/pacing.ts';

const { values } = parseArgs({
  options: {
    dialect: { type: 'string', default: 'sqlite' },
    rates: { type: 'string', default: '80,1000' },
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '64' },
    instances: { type: 'string', default: '1' },
    pacer: { type: 'string' },
    conversations: { type: 'string', default: '100' },
    /** Only the plain fetch loop and the queue without injected 429s (for bench/quick.ts). */
    quick: { type: 'boolean', default: false },
    /** Also write the results as JSON to this file. */
    json: { type: 'string' },
  },
});
const dialect = values.dialect === 'postgres' ? 'postgres' : 'sqlite';
const instances = Number(values.instances);
if (instances !== 1 && instances !== 2) throw new Error('--instances must be 1 or 2, e.g. --instances 2');
if (instances === 2 && dialect !== 'postgres') throw new Error('--instances 2 needs --dialect postgres');
const pacerKind = values.pacer ?? (dialect === 'postgres' ? 'shared' : 'local');
if (pacerKind !== 'shared' && pacerKind !== 'local') throw new Error('--pacer must be shared or local');
if (pacerKind === 'shared' && dialect !== 'postgres') throw new Error('--pacer shared needs --dialect postgres');
const rates = values.rates.split(',').map(Number);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const conversations = Number(values.conversations);
if (!Number.isInteger(conversations) || conversations < 1) throw new Error('--conversations must be ≥ 1, e.g. 100');
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
  /** Shared pacer only: database round trips (slot claims) per accepted message. */
  claimsPerSend?: number;
  /** Shared pacer only: claimed slots given up (released too late, or inside a hold-off). */
  droppedSlots?: number;
  pastOnArrival?: number;
  /** CPU time of this process (user + system, the in-process simulator included) per accepted message, in ms. */
  cpuMsPerMessage?: number;
}

/** CPU time used (a process.cpuUsage difference) per accepted message: depends less on the machine's load than rates. */
function cpuMsPer(used: NodeJS.CpuUsage, accepted: number): number {
  return Number(((used.user + used.system) / 1000 / Math.max(1, accepted)).toFixed(3));
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
  const maxPerSecond = maxInAnySecond(at);
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

async function freshStores(
  count: number,
): Promise<{ stores: Store[]; url: string | undefined; cleanup(): Promise<void> }> {
  const pg = dialect === 'postgres' ? await createPgDatabase() : undefined;
  const dirs: string[] = [];
  const stores: Store[] = [];
  // One after the other: the second finds the migrations done. Each store has its own connection pool.
  for (let i = 0; i < count; i += 1) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sparsam-bench-'));
    dirs.push(dataDir);
    stores.push(await openStore({ dataDir, databaseUrl: pg?.url, keystoreUrl: pg?.url }));
  }
  return {
    stores,
    url: pg?.url,
    async cleanup() {
      for (const close of extraPools.splice(0)) await close();
      for (const store of stores) await store.close();
      await pg?.drop();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

const extraPools: (() => Promise<void>)[] = [];

/** The shared pacer's own connection, as the composition root opens it: claims do not queue behind the jobs' queries. */
async function pacingDb(url: string): Promise<Kysely<Database>> {
  const { db } = await openPostgres<Database>({ url, max: 1 });
  extraPools.push(() => db.destroy());
  return db;
}

async function pacerFor(url: string | undefined, kind: 'shared' | 'local', made: SharedSendPacer[]): Promise<Pacer> {
  if (kind === 'local' || !url) return new SendPacer();
  const pacer = new SharedSendPacer(new PgSendPacingStore(await pacingDb(url)));
  made.push(pacer);
  return pacer;
}

function withClaims(result: Result, pacers: readonly SharedSendPacer[]): Result {
  if (pacers.length === 0) return result;
  const claims = pacers.reduce((n, p) => n + p.stats.claims, 0);
  return {
    ...result,
    claimsPerSend: Number((claims / Math.max(1, result.accepted)).toFixed(3)),
    droppedSlots: pacers.reduce((n, p) => n + p.stats.dropped, 0),
    pastOnArrival: pacers.reduce((n, p) => n + p.stats.pastOnArrival, 0),
  };
}

/**
 * The shared pacers alone (no queue, no HTTP): `count` pacers with their own pools release `total` slots of one
 * channel between them. `lookaheadMs` small enough for one slot per claim shows what one round trip per send costs.
 */
async function pacersOnly(rate: number, total: number, count: number, lookaheadMs?: number): Promise<Result> {
  const { stores, url, cleanup } = await freshStores(count);
  try {
    const pacers: SharedSendPacer[] = [];
    for (const _ of stores) {
      pacers.push(new SharedSendPacer(new PgSendPacingStore(await pacingDb(url!)), lookaheadMs ? { lookaheadMs } : {}));
    }
    const at: number[] = [];
    await Promise.all(
      Array.from({ length: total }, (_, i) =>
        pacers[i % count]!.acquire('wa-bench', rate).then(() => at.push(Date.now())),
      ),
    );
    at.sort((x, y) => x - y);
    const span = (at.at(-1)! - at[0]!) / 1000;
    const maxPerSecond = maxInAnySecond(at);
    const batch = lookaheadMs ? 'one slot per claim' : 'slots claimed in batches';
    return withClaims(
      {
        scenario: `${count} shared pacers only (no queue, no HTTP), ${batch}`,
        target: rate,
        accepted: at.length,
        rejected429: 0,
        lost: total - at.length,
        stillQueued: 0,
        duplicates: 0,
        seconds: Number(span.toFixed(2)),
        rate: span > 0 ? Number(((at.length - 1) / span).toFixed(1)) : 0,
        maxPerSecond,
      },
      pacers,
    );
  } finally {
    await cleanup();
  }
}

async function viaQueue(
  rate: number,
  total: number,
  inject429: boolean,
  count: number,
  kind: 'shared' | 'local',
): Promise<Result> {
  const { sim, close } = await simulator();
  const { stores, url, cleanup } = await freshStores(count);
  const pacers: SharedSendPacer[] = [];
  try {
    // Every instance opens the data keys with the same master key, as instances sharing a database must.
    const masterKey = randomBytes(32);
    const keysOf = (store: Store) => new KeyService(new KeyStore(store.keys), masterKey, systemClock);
    const first = await outboundWorld(stores[0]!, sim.url, {
      messagesPerSecond: rate,
      concurrency,
      instanceId: 'bench-1',
      keys: keysOf(stores[0]!),
      pacer: await pacerFor(url, kind, pacers),
    });
    const worlds = [first];
    for (let i = 1; i < count; i += 1) {
      worlds.push(
        await outboundWorld(stores[i]!, sim.url, {
          messagesPerSecond: rate,
          concurrency,
          instanceId: `bench-${i + 1}`,
          keys: keysOf(stores[i]!),
          pacer: await pacerFor(url, kind, pacers),
          reuse: first,
        }),
      );
    }
    // Spread over many customers, as a business sends: one conversation's messages leave one after the other, in
    // the order they were written, so one customer alone would measure the provider's round trip, not the pacing.
    const targets = [first.conversation];
    for (let i = 1; i < conversations; i += 1) {
      const address = `49151${String(i).padStart(8, '0')}`;
      // Each customer writes first, as the provider allows free text for 24 hours after that.
      await sim.sendCustomerMessage({ from: address, text: 'Hallo' });
      targets.push(await first.addConversation(address));
    }
    for (let i = 0; i < total; i += 1) {
      await first.queueMessage({ text: `Nachricht ${i}` }, { conversation: targets[i % targets.length]! });
    }
    const expectedMs = (total / rate) * 1000;
    const injection = inject429
      ? setTimeout(() => sim.failureMode({ status: 429, forMs: 300 }), expectedMs / 3)
      : undefined;
    const cpu = process.cpuUsage();
    for (const w of worlds) w.queue.start();
    const deadline = Date.now() + expectedMs * 4 + 20_000;
    const open = async () =>
      Number(
        (
          await first.store.db
            .selectFrom('messages')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('status', 'in', ['queued', 'sending'])
            .executeTakeFirstOrThrow()
        ).n,
      );
    while ((await open()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    clearTimeout(injection);
    for (const w of worlds) await w.queue.stop();
    const used = process.cpuUsage(cpu);
    const who = count === 1 ? 'queue' : `queue × ${count} instances`;
    const pacing = dialect === 'postgres' ? (kind === 'shared' ? ', shared pacer' : ', per-process pacer') : '';
    const scenario = `${who}${pacing}${inject429 ? ', 429 period injected' : ''}`;
    const summary = summarise(scenario, rate, total, sim, await open());
    return withClaims({ ...summary, cpuMsPerMessage: cpuMsPer(used, summary.accepted) }, pacers);
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
    const cpu = process.cpuUsage();
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const res = await send(sim, next++);
        await res.text();
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const summary = summarise('plain fetch loop (no queue, no pacing)', rate, total, sim);
    return { ...summary, cpuMsPerMessage: cpuMsPer(process.cpuUsage(cpu), summary.accepted) };
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
  if (values.quick) {
    results.push(await viaQueue(rate, total, false, instances, pacerKind));
    continue;
  }
  results.push(await sleepLoop(rate, total));
  results.push(await viaQueue(rate, total, false, instances, pacerKind));
  results.push(await viaQueue(rate, total, true, instances, pacerKind));
  // Two instances with a pacer each, for comparison: together they may send up to twice the limit.
  // The per-process pacer beside the shared one: with two instances they may together send up to twice the limit.
  if (dialect === 'postgres' && pacerKind === 'shared') {
    results.push(await viaQueue(rate, total, false, instances, 'local'));
  }
  if (pacerKind === 'shared') {
    results.push(await pacersOnly(rate, total, instances));
    results.push(await pacersOnly(rate, total, instances, 0.001));
  }
}

console.log(
  `outbound pacing, ${dialect}, ${seconds} s of messages per rate, ${instances} instance(s), queue concurrency ${concurrency} each`,
);
console.log(
  '| target msg/s | scenario | accepted | 429s | lost | still queued at deadline | duplicates | seconds | achieved msg/s | achieved / target | max in any 1 s | claims per send | dropped slots | CPU ms per message |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(
    `| ${r.target} | ${r.scenario} | ${r.accepted} | ${r.rejected429} | ${r.lost} | ${r.stillQueued} | ${r.duplicates} | ${r.seconds} | ${r.rate} | ${(r.rate / r.target).toFixed(3)} | ${r.maxPerSecond} | ${r.claimsPerSend ?? '–'} | ${r.droppedSlots ?? '–'} (${r.pastOnArrival ?? '-'}) | ${r.cpuMsPerMessage ?? '–'} |`,
  );
}

if (values.json) writeFileSync(values.json, JSON.stringify(results));
