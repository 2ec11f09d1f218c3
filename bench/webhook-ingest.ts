/**
 * Webhook ingest benchmark: signed WhatsApp Cloud API webhooks POSTed over HTTP to a real sparsam (signature check,
 * parse, pseudonymous contact lookup, consent check, sealing, commit, then 200) beside a bare Node HTTP server that
 * reads the body and answers 200 without doing anything, in the same run, on the same machine, with the same
 * pre-signed payloads and the same load generator. Each server runs in its own child process; the load generator
 * runs in this process (it shares the CPU with the servers under test, for both servers alike).
 *
 *   node --import tsx bench/webhook-ingest.ts [--dialect sqlite,postgres] [--instances 1,2] [--seconds 5] [--warm-up 2]
 *        [--batch 1,50] [--connections 32] [--customers 200] [--rate 1000,100] [--profile DIR] [--consented-only]
 *
 * Every combination of `dialect` and `instances` is one configuration, run in turn with fresh sparsam processes and a
 * fresh database (SQLite file, or a PostgreSQL database created for the run and dropped at the end, also on error and
 * on Ctrl-C; what a run killed outright leaves behind, the next run removes). With two instances, two sparsam
 * processes share one PostgreSQL database (as behind a load balancer) and the load generator sends the requests
 * round-robin to both; the baseline is two bare servers addressed the same way. SQLite is embedded in one process, so
 * two instances are skipped on SQLite.
 *
 * Scenarios, each run for `seconds` against the bare servers, the plain baseline and then sparsam. Before the first
 * scenario each server gets `warm-up` seconds of the same closed-loop load (fresh messages, not measured; 0: none), right
 * before its own measurement: a server measured from its first request would be measured while its code is still being
 * compiled and its database connections and statements made, which in a 3-second measurement costs sparsam a third more
 * CPU per message than it needs in steady state.
 *   - throughput: closed loop, `connections` requests in flight (fewer for large batches: at most 400 messages, so
 *     that the requests still in flight at the end of the time do not drag on), each webhook carrying `batch`
 *     messages (Meta batches several messages per POST), from `customers` customers who have consented (steady
 *     state: their conversation is open; with two instances each customer's messages reach both). Reports
 *     messages/s for both servers, the ratio sparsam / bare and, for two instances, the ratio to one instance in the
 *     same run. Beside the rates, the CPU time (user + system, all threads) the plain and the sparsam processes used
 *     per message answered: on a shared VM, where the rate of every server moves with the neighbours' load, the
 *     cost per message moves less. With `--consented-only` the run ends after this scenario.
 *   - first contact: the same with a new customer per message (contact created, conversation opened pending
 *     consent, the notice queued as a job), with the last batch size and at most 100 messages in flight.
 *   - latency: open loop at each `rate` (messages/s in total, one message per webhook), latency measured from each
 *     request's scheduled start (no coordinated omission); reports p50/p99/max. Requests still unanswered 2 s after
 *     the last one was due are aborted and reported; percentiles they may affect are marked "≥".
 * The resident set size (VmRSS) of every server process is sampled every 100 ms: at idle after start, peak, and at the
 * end. The job queue of each sparsam child is stopped, so that queued notices are not sent during the measurement.
 * At the end the results are printed as Markdown tables, with the command, the commit and the load average.
 * Goals: ≥ 50 % of the bare server's rate, ≥ 5,000 msg/s on SQLite, p99 ≤ 25 ms at 1,000 msg/s.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { signWhatsAppBody } from '../src/channels/whatsapp-cloud/whatsapp-cloud.signature.ts';

const { values } = parseArgs({
  options: {
    serve: { type: 'string' },
    dir: { type: 'string' },
    'pg-url': { type: 'string' },
    dialect: { type: 'string', default: 'sqlite' },
    instances: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '5' },
    'warm-up': { type: 'string', default: '2' },
    batch: { type: 'string', default: '1,50' },
    connections: { type: 'string', default: '32' },
    customers: { type: 'string', default: '200' },
    rate: { type: 'string', default: '1000,100' },
    /** Sent messages whose delivery statuses (sent, delivered, read) make the status storm, per second of measurement. */
    'storm-per-second': { type: 'string', default: '4000' },
    /** Also write the results as JSON to this file (for bench/quick.ts). */
    json: { type: 'string' },
    /** Write a CPU profile of each sparsam server to this directory (for finding hot spots). */
    profile: { type: 'string' },
    /** Measure the consented scenario only (A/B runs of an ingest change: more pairs in the same time). */
    'consented-only': { type: 'boolean', default: false },
  },
});

const APP_SECRET = 'bench-app-secret-0123456789abcdef';
const PHONE_NUMBER_ID = '106540352242922';
const AGREE_ID = 'sparsam-consent-agree';
/** PostgreSQL server the bench creates its throwaway databases on (the same variable as the tests'). */
const PG_ADMIN_URL = process.env.SPARSAM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PG_DB_PREFIX = 'sparsam_bench_ingest_';
/** Pre-signed payloads per second of measurement: more than any server here reaches, so that sparsam never runs dry. */
const POOL_MESSAGES_PER_SECOND = 20_000;
const FIRST_CONTACT_POOL_PER_SECOND = 3_000;
const FIRST_CONTACT_MAX_IN_FLIGHT = 100;
const CONSENTED_MAX_IN_FLIGHT = 400;
/** How long a server that fell behind in the open loop gets to answer after the last request was due. */
const DRAIN_SECONDS = 2;

// ------------------------------------------------------------------------------------------ child servers

/** Messages from a server process: its code is loaded (sparsam), it listens on `port`. */
interface ServerMessage {
  loaded?: true;
  port?: number;
  /** The outbound messages of the status storm are in the database. */
  seeded?: true;
}

/** From the parent: write these outbound messages (provider ids) as sent, for the status storm. */
interface SeedMessage {
  seed: string[];
}

function tell(m: ServerMessage): void {
  process.send?.(m);
}

function ready(port: number): void {
  tell({ port });
}

async function serveBare(): Promise<void> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  server.keepAliveTimeout = 600_000; // longer than a run: idle keep-alive connections are not closed under the client
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ready((server.address() as AddressInfo).port);
}

function onSeed(seed: (ids: string[]) => Promise<void>): void {
  process.on('message', (m: SeedMessage | string) => {
    if (typeof m !== 'object' || !Array.isArray(m.seed)) return;
    void seed(m.seed).then(() => tell({ seeded: true }));
  });
}

/**
 * The second baseline: what a user would write without sparsam. Checks the signature, parses the body, inserts each
 * message in plain text (sender's phone number and text) into the same database sparsam uses (the SQLite file with
 * sparsam's pragmas, or the PostgreSQL database), moves a status forward by provider id, and answers 200 after the
 * commit. No pseudonyms, no consent, no sealing, no batching across requests.
 */
async function servePlain(dir: string, pgUrl: string | undefined): Promise<void> {
  const { createHmac, timingSafeEqual } = await import('node:crypto');
  const verified = (body: Buffer, header: string | string[] | undefined) => {
    const given = typeof header === 'string' ? Buffer.from(header.replace(/^sha256=/, ''), 'hex') : Buffer.alloc(0);
    const expected = createHmac('sha256', APP_SECRET).update(body).digest();
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  const ddl =
    'CREATE TABLE IF NOT EXISTS plain_messages (id TEXT PRIMARY KEY, sender TEXT NOT NULL, body TEXT, ' +
    "status TEXT NOT NULL DEFAULT 'received', at BIGINT NOT NULL)";
  let insert: (id: string, sender: string, body: string | null, at: number) => Promise<void>;
  let update: (id: string, status: string) => Promise<void>;
  let seedAll: (ids: string[]) => Promise<void>;
  if (pgUrl) {
    const pool = new pg.Pool({ connectionString: pgUrl, max: 10 });
    // Two plain servers start at once: IF NOT EXISTS does not keep the second from failing on PostgreSQL's catalogue.
    await pool.query(ddl).catch((error: { code?: string }) => {
      if (error.code !== '23505' && error.code !== '42P07') throw error;
    });
    insert = async (id, sender, body, at) => {
      await pool.query(
        'INSERT INTO plain_messages (id, sender, body, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [id, sender, body, at],
      );
    };
    update = async (id, status) => {
      await pool.query('UPDATE plain_messages SET status = $2 WHERE id = $1', [id, status]);
    };
    seedAll = async (ids) => {
      await pool.query(
        "INSERT INTO plain_messages (id, sender, status, at) SELECT id, 'business', 'sent', $2 FROM unnest($1::text[]) AS id",
        [ids, Date.now()],
      );
    };
  } else {
    const Sqlite = (await import('better-sqlite3')).default;
    const db = new Sqlite(path.join(dir, 'sparsam.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.exec(ddl);
    const ins = db.prepare('INSERT OR IGNORE INTO plain_messages (id, sender, body, at) VALUES (?, ?, ?, ?)');
    const upd = db.prepare('UPDATE plain_messages SET status = ? WHERE id = ?');
    insert = async (id, sender, body, at) => void ins.run(id, sender, body, at);
    update = async (id, status) => void upd.run(status, id);
    const seed = db.prepare("INSERT INTO plain_messages (id, sender, status, at) VALUES (?, 'business', 'sent', ?)");
    seedAll = async (ids) => db.transaction(() => ids.forEach((id) => seed.run(id, Date.now())))();
  }
  onSeed(seedAll);
  interface Hook {
    entry?: {
      changes?: {
        value?: {
          messages?: { id: string; from: string; text?: { body?: string } }[];
          statuses?: { id: string; status: string }[];
        };
      }[];
    }[];
  }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        if (!verified(body, req.headers['x-hub-signature-256'])) {
          res.writeHead(401).end();
          return;
        }
        const hook = JSON.parse(body.toString('utf8')) as Hook;
        for (const e of hook.entry ?? []) {
          for (const c of e.changes ?? []) {
            for (const m of c.value?.messages ?? []) await insert(m.id, m.from, m.text?.body ?? null, Date.now());
            for (const st of c.value?.statuses ?? []) await update(st.id, st.status);
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      })().catch(() => res.writeHead(500).end());
    });
  });
  server.keepAliveTimeout = 600_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ready((server.address() as AddressInfo).port);
}

async function serveSparsam(dir: string, pgUrl: string | undefined): Promise<void> {
  // As bin/sparsam.js and startSparsam do: the young generation is held while the server loads and starts.
  const { youngGeneration } = await import('../src/shared/young-generation.ts');
  youngGeneration.hold();
  const { loadConfig } = await import('../src/config/config.ts');
  const { createSparsam } = await import('../src/main.ts');
  const { createLogger } = await import('../src/shared/logger.ts');
  const pino = (await import('pino')).pino;
  // Loading the code takes seconds: instances load in parallel, and then start one after the other when told to.
  tell({ loaded: true });
  await new Promise((resolve) => process.once('message', resolve));
  const yaml = `
organisation: { name: Bench GmbH, contact: datenschutz@example.org }
inboxes:
  - id: service
    language: de
channels:
  - id: wa-bench
    kind: whatsapp-cloud
    inbox: service
    phoneNumberId: "${PHONE_NUMBER_ID}"
    accessToken: bench-token
    appSecret: ${APP_SECRET}
    verifyToken: bench-verify
    graphBaseUrl: http://127.0.0.1:9
`;
  const env: Record<string, string> = {
    SPARSAM_DATA_DIR: dir,
    SPARSAM_CONFIG: '/bench/sparsam.yaml',
    SPARSAM_LOG_LEVEL: 'info',
    // Instances on one database must share the master key; the parent makes a random one per run.
    SPARSAM_MASTER_KEY: process.env.SPARSAM_BENCH_MASTER_KEY!,
  };
  if (pgUrl) {
    env.SPARSAM_DATABASE_URL = pgUrl;
    env.SPARSAM_KEYSTORE_URL = pgUrl;
  }
  const config = loadConfig({ env, readFile: () => yaml });
  // Production log level, written to /dev/null: the cost of logging is part of the measurement.
  const logger = createLogger({ level: 'info', destination: pino.destination('/dev/null') });
  const sparsam = await createSparsam(config, { logger });
  await sparsam.jobs.stop();
  const { MessageStore } = await import('../src/store/sql/message.store.ts');
  const { ProviderRefs } = await import('../src/store/sql/provider-ref.ts');
  const { newId } = await import('../src/shared/ids.ts');
  const messages = new MessageStore(sparsam.store.db, new ProviderRefs(sparsam.keys.pepper));
  onSeed(async (ids) => {
    // Outbound messages the channel accepted, spread over the open conversations, as after a broadcast.
    const conversations = await sparsam.store.db.selectFrom('conversations').select('id').execute();
    const now = Date.now();
    for (let i = 0; i < ids.length; i += 200) {
      await messages.insertManyUnlessDuplicate(
        ids.slice(i, i + 200).map((providerId, j) => ({
          id: newId(),
          conversation_id: conversations[(i + j) % conversations.length]!.id,
          channel_id: 'wa-bench',
          direction: 'out' as const,
          kind: 'text',
          provider_message_id: providerId,
          status: 'sent' as const,
          body_enc: null,
          media_id: null,
          author_id: null,
          error_code: null,
          error_reason: null,
          created_at: now,
          updated_at: now,
          edited: false,
          deleted: false,
          handled: true,
        })),
      );
    }
  });
  await sparsam.http.listen({ port: 0, host: '127.0.0.1' });
  youngGeneration.release();
  ready((sparsam.http.server.address() as AddressInfo).port);
}

// ---------------------------------------------------------------------------------------------- payloads

let wamid = 0;
const nowSeconds = () => String(Math.floor(Date.now() / 1000));

interface Signed {
  body: Buffer;
  signature: string;
  messages: number;
}

function sign(payload: unknown, messages: number): Signed {
  const body = Buffer.from(JSON.stringify(payload));
  return { body, signature: signWhatsAppBody(APP_SECRET, body), messages };
}

function webhook(messages: { from: string; text?: string; button?: string }[]): Signed {
  return sign(
    {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550783881', phone_number_id: PHONE_NUMBER_ID },
                contacts: [...new Set(messages.map((m) => m.from))].map((from) => ({
                  profile: { name: 'Kunde' },
                  wa_id: from,
                })),
                messages: messages.map((m) => ({
                  from: m.from,
                  id: `wamid.BENCH${process.pid}x${++wamid}`,
                  timestamp: nowSeconds(),
                  ...(m.button
                    ? {
                        type: 'interactive',
                        interactive: { type: 'button_reply', button_reply: { id: m.button, title: 'Zustimmen' } },
                      }
                    : { type: 'text', text: { body: m.text ?? 'Guten Tag, ich habe eine Frage zu meiner Rechnung.' } }),
                })),
              },
            },
          ],
        },
      ],
    },
    messages.length,
  );
}

/** One delivery status webhook, as Meta sends them (one status per POST). */
function statusWebhook(id: string, status: 'sent' | 'delivered' | 'read', recipient: string): Signed {
  return sign(
    {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550783881', phone_number_id: PHONE_NUMBER_ID },
                statuses: [
                  {
                    id,
                    status,
                    timestamp: nowSeconds(),
                    recipient_id: recipient,
                    ...(status === 'read'
                      ? {}
                      : { pricing: { billable: true, pricing_model: 'CBP', category: 'service' } }),
                  },
                ],
              },
            },
          ],
        },
      ],
    },
    1,
  );
}

const customer = (i: number) => `49151${String(i).padStart(8, '0')}`;

/**
 * Payloads are signed once before the first configuration and reused by every configuration: each one starts on a
 * fresh database, so a message id seen by one configuration is new to the next.
 */
interface Pools {
  setup: Signed[];
  agree: Signed[];
  warm: Map<number, Signed[]>;
  consented: Map<number, Signed[]>;
  firstContact: Signed[];
  open: Map<number, Signed[]>;
  /** Provider ids of the outbound messages the status storm reports on, and its webhooks (sent, delivered, read). */
  sentIds: string[];
  storm: Signed[];
}

function makePools(o: Options): Pools {
  // The k-th consented message comes from this customer: all of them in turn, shifted by one each round, so that with
  // two instances (webhook i goes to instance i mod 2) every customer's messages reach both instances.
  const consentedCustomer = (k: number) => customer((k + Math.floor(k / o.customers)) % o.customers);
  const consentedBatch = (count: number, batch: number, offset: number) =>
    Array.from({ length: count }, (_, i) =>
      webhook(Array.from({ length: batch }, (_, j) => ({ from: consentedCustomer(offset + i * batch + j) }))),
    );
  const firstBatch = o.batches.at(-1)!;
  let n = o.customers + 1;
  const sentIds = Array.from(
    { length: Math.ceil(o.seconds * o.stormPerSecond) },
    (_, i) => `wamid.SENT${process.pid}x${i}`,
  );
  // A burst: the three statuses of each message arrive close together, in order, spread over the customers.
  const storm = sentIds.flatMap((id, i) =>
    (['sent', 'delivered', 'read'] as const).map((st) => statusWebhook(id, st, customer(i % o.customers))),
  );
  return {
    sentIds,
    storm,
    setup: Array.from({ length: o.customers }, (_, i) => webhook([{ from: customer(i), text: 'Hallo' }])),
    agree: Array.from({ length: o.customers }, (_, i) => webhook([{ from: customer(i), button: AGREE_ID }])),
    warm: new Map(
      o.batches.map((b) => [b, consentedBatch(Math.ceil((o.warmUp * POOL_MESSAGES_PER_SECOND) / b), b, 0)]),
    ),
    consented: new Map(
      o.batches.map((b) => [b, consentedBatch(Math.ceil((o.seconds * POOL_MESSAGES_PER_SECOND) / b), b, 0)]),
    ),
    firstContact: Array.from({ length: Math.ceil((o.seconds * FIRST_CONTACT_POOL_PER_SECOND) / firstBatch) }, () =>
      webhook(Array.from({ length: firstBatch }, () => ({ from: customer(n++), text: 'Erste Nachricht' }))),
    ),
    open: new Map(
      o.rates.map((r) => [
        r,
        Array.from({ length: Math.max(1, Math.round(r * o.seconds)) }, (_, i) =>
          webhook([{ from: consentedCustomer(i) }]),
        ),
      ]),
    ),
  };
}

// ------------------------------------------------------------------------------------------ load generator

const newAgent = () => new http.Agent({ keepAlive: true, maxSockets: 256 });
/** Replaced for each configuration, so that no connection idles from one configuration into the next. */
let agent = newAgent();

/** POSTs one webhook; resolves with the HTTP status, or 0 if the connection failed. */
function post(port: number, s: Signed, signal?: AbortSignal): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/webhooks/whatsapp/wa-bench',
        agent,
        signal,
        headers: {
          'content-type': 'application/json',
          'content-length': s.body.length,
          'x-hub-signature-256': s.signature,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(s.body);
  });
}

interface Throughput {
  webhooksPerSecond: number;
  messagesPerSecond: number;
  messages: number;
  /** CPU time (user + system, all threads) of the server processes per message answered, in µs; Linux only. */
  cpuMicrosPerMessage?: number | undefined;
  errors: number;
  /** The pool ran out before the time was up (the rate is still right, over a shorter time). */
  exhausted: boolean;
}

/**
 * Closed loop for `seconds` (or until every payload was sent once, when `cycle` is false): request i goes to port
 * i mod ports (round-robin). The bare servers may `cycle` through the pool (they ignore message ids); sparsam must not,
 * since a repeated message id is a cheap duplicate.
 */
async function closedLoop(
  ports: number[],
  pool: Signed[],
  connections: number,
  seconds: number,
  cycle: boolean,
): Promise<Throughput> {
  let next = 0;
  let messages = 0;
  let webhooks = 0;
  let errors = 0;
  let exhausted = false;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const i = next++;
        if (i >= pool.length && !cycle) {
          exhausted = true;
          break;
        }
        const s = pool[i % pool.length]!;
        const status = await post(ports[i % ports.length]!, s);
        if (status === 200) {
          messages += s.messages;
          webhooks += 1;
        } else errors += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { webhooksPerSecond: webhooks / elapsed, messagesPerSecond: messages / elapsed, messages, errors, exhausted };
}

interface Latency {
  p50: Percentile;
  p99: Percentile;
  max: Percentile;
  /** Answered requests per second, over the time from the first due time to the last answer (or the cut-off). */
  achieved: number;
  errors: number;
  /** Requests still unanswered `cutoffMs` after the last one was due (aborted). */
  unanswered: number;
  cutoffMs: number;
}

/** A latency percentile; `atLeast` when unanswered requests (whose latency is only known to be at least their
 * waiting time at the cut-off) may rank below it, so that the true value can only be higher. */
interface Percentile {
  ms: number;
  atLeast: boolean;
}

/**
 * Open loop: request i is due at start + i / rate and goes to port i mod ports; latency counts from the due time (or
 * from the moment it was sent, if that was a little early). A server that cannot keep up builds a backlog; requests
 * still unanswered `drainSeconds` after the last one was due are aborted; each counts with the time it had waited, a
 * lower bound of its latency, and percentiles that such a bound can affect are marked as lower bounds.
 */
async function openLoop(
  ports: number[],
  payloads: Signed[],
  ratePerSecond: number,
  drainSeconds: number,
): Promise<Latency> {
  const latencies: number[] = [];
  let errors = 0;
  let answered = 0;
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // one listener per request in flight
  let closed = false;
  const interval = 1000 / ratePerSecond;
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  const pending: { from: number; done: boolean }[] = [];
  for (let i = 0; i < payloads.length; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const request = { from: Math.min(due, performance.now()), done: false };
    pending.push(request);
    inflight.push(
      post(ports[i % ports.length]!, payloads[i]!, abort.signal).then((status) => {
        if (closed) return;
        if (status !== 200) errors += 1;
        answered += 1;
        request.done = true;
        latencies.push(performance.now() - request.from);
      }),
    );
  }
  const cutoffMs = drainSeconds * 1000;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(inflight),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, cutoffMs);
    }),
  ]);
  clearTimeout(timer);
  const seconds = (performance.now() - started) / 1000;
  const unanswered = payloads.length - answered;
  const cutAt = performance.now();
  closed = true;
  abort.abort();
  await Promise.all(inflight);
  const bounds = pending.filter((p) => !p.done).map((p) => cutAt - p.from);
  const lowest = Math.min(Infinity, ...bounds);
  const all = [...latencies, ...bounds].sort((a, b) => a - b);
  const at = (q: number): Percentile => {
    const v = all[Math.min(all.length - 1, Math.floor(q * all.length))]!;
    return { ms: v, atLeast: v >= lowest };
  };
  return {
    p50: at(0.5),
    p99: at(0.99),
    max: at(1),
    achieved: answered / seconds,
    errors,
    unanswered,
    cutoffMs,
  };
}

// ---------------------------------------------------------------------------------------- server processes

interface Server {
  kind: 'bare' | 'plain' | 'sparsam';
  index: number;
  child: ChildProcess;
  port: number;
  /** Set when the process ended; a server that ends during a scenario fails the run. */
  exit?: string;
  /** VmRSS in MiB: right after start, the highest sample, the last sample. */
  rss: { idle: number; peak: number; last: number };
}

/** Every server process of the run, so that a signal or an error can stop all of them. */
const servers = new Set<Server>();

/** A server's CPU time per message, as printed. */
function cpu(t: Throughput): string {
  return t.cpuMicrosPerMessage === undefined ? '–' : t.cpuMicrosPerMessage.toFixed(0);
}

function readRssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined; // not Linux, or the process is gone
  }
}

/** CPU time (user + system, all threads) a process has used, in ms; undefined when /proc is not there. */
function readCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // The fields after the command name (which may hold spaces), from field 3 on: utime and stime are 14 and 15.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** The kernel's clock ticks per second for /proc/<pid>/stat (USER_HZ, 100 on Linux on every common architecture). */
const CLOCK_TICKS_PER_SECOND = 100;

/** Runs a closed loop and adds the servers' CPU time per message to its result. */
async function withCpu(list: Server[], run: () => Promise<Throughput>): Promise<Throughput> {
  const cpuOf = () =>
    list.reduce<number | undefined>((sum, s) => {
      const ms = readCpuMs(s.child.pid);
      return sum === undefined || ms === undefined ? undefined : sum + ms;
    }, 0);
  const before = cpuOf();
  const result = await run();
  const after = cpuOf();
  if (before === undefined || after === undefined || result.messages === 0) return result;
  return { ...result, cpuMicrosPerMessage: ((after - before) * 1000) / result.messages };
}

function sampleRss(): void {
  for (const s of servers) {
    const rss = readRssMiB(s.exit === undefined ? s.child.pid : undefined);
    if (rss === undefined) continue;
    s.rss.last = rss;
    s.rss.peak = Math.max(s.rss.peak, rss);
  }
}

/** Resolves with the next message from `s` that has `key`; rejects if the process ends first. */
function nextMessage(s: Server, key: keyof ServerMessage): Promise<ServerMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: ServerMessage) => {
      if (m[key] === undefined) return;
      off();
      resolve(m);
    };
    const onExit = (code: number | null, signal: string | null) => {
      off();
      reject(new Error(`${s.kind} server ${s.index} exited with ${signal ?? code} while starting`));
    };
    const off = () => {
      s.child.off('message', onMessage);
      s.child.off('exit', onExit);
    };
    s.child.on('message', onMessage);
    s.child.once('exit', onExit);
  });
}

/**
 * Forks a server process. `loaded`: its code is loaded; `go()` lets a sparsam process start (a bare one starts at
 * once) and resolves once it listens.
 */
function forkServer(
  kind: Server['kind'],
  index: number,
  args: string[],
  masterKey: string,
): { server: Server; loaded: Promise<unknown>; go(): Promise<Server> } {
  const profile = kind === 'sparsam' && values.profile;
  const child = fork(fileURLToPath(import.meta.url), ['--serve', kind, ...args], {
    execArgv: ['--import', 'tsx', ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [])],
    env: { ...process.env, SPARSAM_BENCH_MASTER_KEY: masterKey },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const server: Server = { kind, index, child, port: 0, rss: { idle: 0, peak: 0, last: 0 } };
  servers.add(server);
  child.once('exit', (code, signal) => {
    server.exit = signal ?? `code ${code}`;
  });
  const listening = (m: Promise<ServerMessage>) =>
    m.then(({ port }) => {
      server.port = port!;
      const rss = readRssMiB(child.pid) ?? 0;
      server.rss = { idle: rss, peak: rss, last: rss };
      return server;
    });
  if (kind !== 'sparsam') {
    const started = listening(nextMessage(server, 'port'));
    return { server, loaded: started, go: () => started };
  }
  return {
    server,
    loaded: nextMessage(server, 'loaded'),
    go: () => {
      const started = listening(nextMessage(server, 'port'));
      child.send('go');
      return started;
    },
  };
}

/** Stops every server process of the run, also one whose start has not finished. */
async function stopAllServers(): Promise<void> {
  await Promise.all([...servers].map(stopServer));
}

async function stopServer(s: Server): Promise<void> {
  servers.delete(s);
  if (s.exit !== undefined || s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => s.child.once('exit', () => resolve()));
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

function assertAlive(list: Server[]): void {
  const dead = list.find((s) => s.exit !== undefined);
  if (dead) throw new Error(`${dead.kind} server ${dead.index} ended during the run (${dead.exit})`);
}

// ------------------------------------------------------------------------------------- throwaway databases

function pgUrlFor(database: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function pgAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
  await c.connect().catch((e: unknown) => {
    throw new Error(`PostgreSQL does not answer at ${PG_ADMIN_URL} (set SPARSAM_TEST_PG_URL): ${String(e)}`);
  });
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const DIR_PREFIX = 'sparsam-bench-ingest-';

/** Removes data directories left by earlier runs that were killed before they could clean up (their process is gone). */
function removeStaleDirectories(): void {
  for (const name of readdirSync(os.tmpdir())) {
    const pid = Number(/^sparsam-bench-ingest-(\d+)-/.exec(name)?.[1]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid)) {
      rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
      console.log(`(removed ${name}, left by an earlier run)`);
    }
  }
}

/** Drops databases left by earlier runs that were killed before they could clean up (their process is gone). */
async function dropStaleDatabases(): Promise<void> {
  await pgAdmin(async (c) => {
    const { rows } = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE '${PG_DB_PREFIX}%'`,
    );
    for (const { datname } of rows) {
      const pid = Number(datname.slice(PG_DB_PREFIX.length).split('_')[0]);
      if (Number.isInteger(pid) && pid !== process.pid && !alive(pid)) {
        await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
        console.log(`(dropped ${datname}, left by an earlier run)`);
      }
    }
  });
}

async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${PG_DB_PREFIX}${process.pid}_${randomBytes(4).toString('hex')}`;
  await pgAdmin((c) => c.query(`CREATE DATABASE ${name}`));
  return {
    url: pgUrlFor(name),
    drop: () => pgAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** Clean-up steps of the configuration that is running; run on success, on error and on SIGINT/SIGTERM. */
const cleanups: (() => Promise<void>)[] = [];

let cleaning: Promise<void> | undefined;

/** Runs the clean-up steps, last first; a second caller (a signal during an error) waits for the same run. */
function runCleanups(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length > 0) {
      const step = cleanups.pop()!;
      await step().catch((e: unknown) => console.error(`clean-up failed: ${String(e)}`));
    }
  })().finally(() => {
    cleaning = undefined;
  });
  return cleaning;
}

// -------------------------------------------------------------------------------------------------- run

type Dialect = 'sqlite' | 'postgres';

interface Options {
  dialects: Dialect[];
  instances: number[];
  seconds: number;
  /** Seconds of closed-loop load each server gets before its first measurement (not measured). */
  warmUp: number;
  batches: number[];
  connections: number;
  customers: number;
  rates: number[];
  stormPerSecond: number;
}

interface Row {
  scenario: string;
  bare: Throughput;
  /** The plain baseline: what a user would write (signature, plaintext insert, 200). */
  plain: Throughput;
  sparsam: Throughput;
}

interface ConfigResult {
  dialect: Dialect;
  instances: number;
  rows: Row[];
  latency: { rate: number; bare: Latency; plain: Latency; sparsam: Latency }[];
  servers: { kind: Server['kind']; index: number; rss: Server['rss'] }[];
}

/**
 * Runs one configuration. The bare servers are shared by all configurations (they keep no state); the first
 * `instances` of them are used. sparsam processes and the database are new for each configuration.
 */
async function runConfig(
  o: Options,
  pools: Pools,
  bareServers: Server[],
  dialect: Dialect,
  instances: number,
): Promise<ConfigResult> {
  const began = performance.now();
  agent.destroy();
  agent = newAgent();
  const masterKey = randomBytes(32).toString('base64');
  let pgDb: { url: string; drop(): Promise<void> } | undefined;
  if (dialect === 'postgres') {
    pgDb = await createDatabase();
    const db = pgDb;
    cleanups.push(() => db.drop());
  }
  const forked: ReturnType<typeof forkServer>[] = [];
  cleanups.push(async () => {
    await Promise.all(forked.map((f) => stopServer(f.server)));
  });
  const dirs: string[] = [];
  for (let i = 0; i < instances; i++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), `${DIR_PREFIX}${process.pid}-`));
    dirs.push(dir);
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    forked.push(forkServer('sparsam', i + 1, ['--dir', dir, ...(pgDb ? ['--pg-url', pgDb.url] : [])], masterKey));
  }
  await Promise.all(forked.map((f) => f.loaded));
  // One after the other: each runs the migrations under their lock and mirrors the configuration into the database.
  const sparsam: Server[] = [];
  for (const [i, f] of forked.entries()) {
    // Instances of one database share the epoch secrets (docs/deployment.md): the others get the file the first made.
    if (i > 0) copyFileSync(path.join(dirs[0]!, 'epoch.key'), path.join(dirs[i]!, 'epoch.key'));
    sparsam.push(await f.go());
  }
  // The plain baseline writes into the same database (its own table): the first instance's SQLite file, or PostgreSQL.
  const plainForked = Array.from({ length: instances }, (_, i) =>
    forkServer('plain', i + 1, ['--dir', dirs[0]!, ...(pgDb ? ['--pg-url', pgDb.url] : [])], ''),
  );
  cleanups.push(async () => {
    await Promise.all(plainForked.map((f) => stopServer(f.server)));
  });
  const plain: Server[] = [];
  for (const f of plainForked) plain.push(await f.go());
  const startedIn = since(began);
  const bare = bareServers.slice(0, instances);
  for (const s of bare) {
    const rss = readRssMiB(s.child.pid) ?? 0;
    s.rss = { idle: rss, peak: rss, last: rss };
  }
  const barePorts = bare.map((s) => s.port);
  const plainPorts = plain.map((s) => s.port);
  const sparsamPorts = sparsam.map((s) => s.port);
  const all = [...bare, ...plain, ...sparsam];

  // Steady state: every customer has written and agreed, so their conversation is open.
  const setup = await closedLoop(sparsamPorts, pools.setup, o.connections, Infinity, false);
  const agreed = await closedLoop(sparsamPorts, pools.agree, o.connections, Infinity, false);
  if (setup.errors + agreed.errors > 0) throw new Error('set-up webhooks failed');
  assertAlive(all);

  const label = `${dialect}, ${instances} instance${instances > 1 ? 's' : ''}`;
  const rows: Row[] = [];
  const measure = async (scenario: string, pool: Signed[], connections: number, warm?: Signed[]) => {
    // Each server gets the same warm-up right before its measurement: its code compiled and optimised, its database
    // connections and prepared statements made, as in a server that has been running for a while.
    const warmUp = async (ports: number[], cycle: boolean) => {
      if (warm && o.warmUp > 0) await closedLoop(ports, warm, connections, o.warmUp, cycle);
    };
    await warmUp(barePorts, true);
    const b = await closedLoop(barePorts, pool, connections, o.seconds, true);
    await warmUp(plainPorts, false);
    const p = await withCpu(plain, () => closedLoop(plainPorts, pool, connections, o.seconds, false));
    await warmUp(sparsamPorts, false);
    const s = await withCpu(sparsam, () => closedLoop(sparsamPorts, pool, connections, o.seconds, false));
    assertAlive(all);
    rows.push({ scenario, bare: b, plain: p, sparsam: s });
    console.log(
      `  ${scenario.padEnd(34)} bare ${fmt(b.messagesPerSecond)} msg/s   plain ${fmt(p.messagesPerSecond)} msg/s` +
        `   sparsam ${fmt(s.messagesPerSecond)} msg/s` +
        `   sparsam / bare ${ratio(s.messagesPerSecond, b.messagesPerSecond)}` +
        `   sparsam / plain ${ratio(s.messagesPerSecond, p.messagesPerSecond)}` +
        `   CPU µs/msg plain ${cpu(p)} sparsam ${cpu(s)}` +
        (p.errors > 0 ? `   (plain: ${p.errors} errors)` : '') +
        (s.errors > 0 ? `   (${s.errors} webhooks answered with an error)` : '') +
        (s.exhausted ? '   (payload pool ran out: raise POOL_MESSAGES_PER_SECOND)' : '') +
        `   sparsam peak RSS ${sparsam.map((x) => x.rss.peak.toFixed(0)).join(' / ')} MiB`,
    );
  };

  console.log(`\n${label}: sparsam started in ${startedIn}, ${o.customers} customers consented after ${since(began)}`);
  for (const batch of o.batches) {
    const connections = Math.max(2, Math.min(o.connections, Math.floor(CONSENTED_MAX_IN_FLIGHT / batch)));
    const inFlight = connections < o.connections ? ` (${connections} in flight)` : '';
    const scenario = `consented, ${batch} per webhook${inFlight}`;
    await measure(scenario, pools.consented.get(batch)!, connections, pools.warm.get(batch)!);
  }
  if (values['consented-only']) {
    sampleRss();
    return {
      dialect,
      instances,
      rows,
      latency: [],
      servers: all.map((s) => ({ kind: s.kind, index: s.index, rss: { ...s.rss } })),
    };
  }
  const firstBatch = o.batches.at(-1)!;
  // New customers cost several key-store and contact commits each: few in flight keep the tail of the run short
  // (at least two, the same for one and two instances, so that two instances both get work).
  const firstConnections = Math.max(2, Math.min(o.connections, Math.floor(FIRST_CONTACT_MAX_IN_FLIGHT / firstBatch)));
  await measure(
    `first contact, ${firstBatch} per webhook (${firstConnections} in flight)`,
    pools.firstContact,
    firstConnections,
  );

  // Status storm: delivery statuses for a burst of sent messages. Each server has the messages in its database first.
  const seed = async (list: Server[]) => {
    // One database for all instances: the first writes the messages.
    const done = nextMessage(list[0]!, 'seeded');
    list[0]!.child.send({ seed: pools.sentIds } satisfies SeedMessage);
    await done;
  };
  const seeding = performance.now();
  await seed(sparsam);
  await seed(plain);
  console.log(`  ${pools.sentIds.length} sent messages written for the status storm in ${since(seeding)}`);
  await measure(`status storm (sent, delivered, read)`, pools.storm, o.connections);

  // A server that falls behind gets this long after the last request was due; the rest is aborted and reported.
  const drain = DRAIN_SECONDS;
  const latency: ConfigResult['latency'] = [];
  for (const rate of o.rates) {
    const r = {
      rate,
      bare: await openLoop(barePorts, pools.open.get(rate)!, rate, drain),
      sparsam: await openLoop(sparsamPorts, pools.open.get(rate)!, rate, drain),
      // Last: a plain server that fell behind keeps writing its backlog into the shared database after the cut-off.
      plain: await openLoop(plainPorts, pools.open.get(rate)!, rate, drain),
    };
    assertAlive(all);
    latency.push(r);
    for (const name of ['bare', 'plain', 'sparsam'] as const) {
      const l = r[name];
      console.log(
        `  open loop ${rate}/s, ${name.padEnd(7)}   achieved ${l.achieved.toFixed(0)}/s   p50 ${ms(l.p50)}` +
          `   p99 ${ms(l.p99)}   max ${ms(l.max)}   errors ${l.errors}   unanswered ${l.unanswered}`,
      );
    }
  }
  sampleRss();
  console.log(`  ${label} done in ${since(began)}`);
  return {
    dialect,
    instances,
    rows,
    latency,
    servers: all.map((s) => ({ kind: s.kind, index: s.index, rss: { ...s.rss } })),
  };
}

function parseList(name: string, raw: string): number[] {
  const list = raw.split(',').map(Number);
  if (list.length === 0 || list.some((n) => !Number.isFinite(n) || n <= 0)) {
    throw new Error(`--${name} must be a positive number or a comma-separated list of them, e.g. 1,2 (got "${raw}")`);
  }
  return list;
}

function parseOptions(): Options {
  const dialects = values.dialect!.split(',').map((d) => d.trim());
  for (const d of dialects) {
    if (d !== 'sqlite' && d !== 'postgres') throw new Error(`--dialect must be sqlite, postgres or both (got "${d}")`);
  }
  const instances = parseList('instances', values.instances!);
  if (instances.some((n) => n !== 1 && n !== 2)) throw new Error('--instances takes 1, 2 or 1,2');
  const one = (name: string, raw: string) => parseList(name, raw)[0]!;
  return {
    dialects: dialects as Dialect[],
    instances,
    seconds: one('seconds', values.seconds!),
    warmUp: values['warm-up'] === '0' ? 0 : one('warm-up', values['warm-up']!),
    batches: parseList('batch', values.batch!).map(Math.round),
    connections: Math.round(one('connections', values.connections!)),
    customers: Math.round(one('customers', values.customers!)),
    // Lowest rate first: a server that falls behind at a high rate is still working off its backlog after the cut-off,
    // which would disturb the next measurement; after the highest rate the configuration ends.
    rates: parseList('rate', values.rate!).sort((a, b) => a - b),
    stormPerSecond: one('storm-per-second', values['storm-per-second']!),
  };
}

async function main(): Promise<void> {
  const o = parseOptions();
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.error(`\n${signal}: stopping the servers, dropping the bench database`);
      void runCleanups()
        .then(stopAllServers)
        .finally(() => process.exit(130));
    });
  }
  const sampler = setInterval(sampleRss, 100);
  sampler.unref();

  const loadBefore = os.loadavg();
  const pressureBefore = cpuPressure();
  const began = Date.now();
  removeStaleDirectories();
  if (o.dialects.includes('postgres')) await dropStaleDatabases();
  const signing = performance.now();
  const pools = makePools(o);
  console.log(`payloads signed in ${((performance.now() - signing) / 1000).toFixed(1)} s`);

  const results: ConfigResult[] = [];
  const skipped: string[] = [];
  try {
    const bareCount = Math.max(1, ...o.instances.filter((n) => o.dialects.includes('postgres') || n === 1));
    const bareServers = await Promise.all(
      Array.from({ length: bareCount }, (_, i) => forkServer('bare', i + 1, [], '').go()),
    );
    for (const dialect of o.dialects) {
      for (const instances of o.instances) {
        if (dialect === 'sqlite' && instances > 1) {
          const note =
            'sqlite, 2 instances: skipped. SQLite is embedded in one sparsam process; several instances share a PostgreSQL database.';
          console.log(`\n${note}`);
          skipped.push(note);
          continue;
        }
        try {
          results.push(await runConfig(o, pools, bareServers, dialect, instances));
        } finally {
          await runCleanups();
        }
      }
    }
  } finally {
    clearInterval(sampler);
    agent.destroy();
    await stopAllServers();
  }
  const loadAfter = os.loadavg();
  const pressureAfter = cpuPressure();
  if (values.json) writeFileSync(values.json, JSON.stringify(results));
  console.log(`\n${'-'.repeat(40)} Markdown\n`);
  console.log(
    report(o, results, skipped, {
      loadBefore,
      loadAfter,
      pressure: pressureBefore && pressureAfter ? [pressureBefore, pressureAfter] : undefined,
      seconds: (Date.now() - began) / 1000,
    }),
  );
}

// ----------------------------------------------------------------------------------------------- report

function since(t: number): string {
  return `${((performance.now() - t) / 1000).toFixed(1)} s`;
}

function fmt(n: number): string {
  return n.toFixed(0).padStart(7);
}

function ms(p: Percentile): string {
  return `${p.atLeast ? '≥ ' : ''}${p.ms < 10 ? p.ms.toFixed(1) : p.ms.toFixed(0)} ms`;
}

function ratio(a: number, b: number): string {
  if (!(b > 0)) return '–';
  const r = a / b;
  return r >= 0.1 ? r.toFixed(2) : r.toPrecision(2);
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(3, h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Share of the last 60 s in which some runnable task waited for a CPU (Linux pressure stall information). */
function cpuPressure(): string | undefined {
  try {
    return /^some avg10=[\d.]+ avg60=([\d.]+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

function commit(): string {
  try {
    const dir = path.dirname(fileURLToPath(import.meta.url));
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: dir,
      encoding: 'utf8',
    });
    return dirty.trim() ? `${head} with local changes` : head;
  } catch {
    return 'unknown commit';
  }
}

function report(
  o: Options,
  results: ConfigResult[],
  skipped: string[],
  run: { loadBefore: number[]; loadAfter: number[]; pressure: string[] | undefined; seconds: number },
): string {
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const out: string[] = [
    `    node --import tsx bench/webhook-ingest.ts ${process.argv.slice(2).join(' ')}`,
    '',
    `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${commit()}, Node ${process.version}, ` +
      `${os.cpus().length} CPUs, load average (1/5/15 min) ${load(run.loadBefore)} before and ${load(run.loadAfter)} ` +
      `after the run${run.pressure ? `; some task waited for a CPU during ${run.pressure[0]} % of the minute before and ${run.pressure[1]} % of the minute after (/proc/pressure/cpu)` : ''}, ` +
      `${run.seconds.toFixed(0)} s in all. ${o.seconds} s per measurement (the consented ones after ${o.warmUp} s of warm-up), ${o.connections} connections, ` +
      `${o.customers} consented customers.`,
    '',
  ];
  const oneOf = (r: ConfigResult) => results.find((x) => x.dialect === r.dialect && x.instances === 1);
  const rows: string[][] = [];
  for (const r of results) {
    const one = r.instances > 1 ? oneOf(r) : undefined;
    for (const row of r.rows) {
      const base = one?.rows.find((x) => x.scenario === row.scenario);
      rows.push([
        r.dialect,
        String(r.instances),
        row.scenario,
        row.bare.messagesPerSecond.toFixed(0),
        row.plain.messagesPerSecond.toFixed(0) + (row.plain.errors > 0 ? ` (${row.plain.errors} errors)` : ''),
        row.sparsam.messagesPerSecond.toFixed(0) + (row.sparsam.errors > 0 ? ` (${row.sparsam.errors} errors)` : ''),
        ratio(row.sparsam.messagesPerSecond, row.bare.messagesPerSecond),
        ratio(row.sparsam.messagesPerSecond, row.plain.messagesPerSecond),
        `${cpu(row.plain)} / ${cpu(row.sparsam)}`,
        base ? ratio(row.bare.messagesPerSecond, base.bare.messagesPerSecond) : '',
        base ? ratio(row.sparsam.messagesPerSecond, base.sparsam.messagesPerSecond) : '',
      ]);
    }
  }
  out.push(
    table(
      [
        'store',
        'instances',
        'scenario',
        'bare msg/s',
        'plain msg/s',
        'sparsam msg/s',
        'sparsam / bare',
        'sparsam / plain',
        'CPU µs/msg plain / sparsam',
        'bare 2 / 1',
        'sparsam 2 / 1',
      ],
      rows,
    ),
  );
  out.push('', 'Ack latency, open loop (rate in messages/s in total, one message per webhook):', '');
  out.push(
    table(
      ['store', 'instances', 'rate', 'server', 'achieved msg/s', 'p50', 'p99', 'max', 'errors', 'unanswered'],
      results.flatMap((r) =>
        r.latency
          .flatMap((x) => (['bare', 'plain', 'sparsam'] as const).map((name) => [x.rate, name, x[name]] as const))
          .map(([rate, name, l]) => {
            return [
              r.dialect,
              String(r.instances),
              String(rate),
              name,
              l.achieved.toFixed(0),
              ms(l.p50),
              ms(l.p99),
              ms(l.max),
              String(l.errors),
              l.unanswered > 0 ? `${l.unanswered} after ${(l.cutoffMs / 1000).toFixed(0)} s` : '0',
            ];
          }),
      ),
    ),
  );
  out.push('', 'Resident set size (VmRSS) of each server process, MiB:', '');
  out.push(
    table(
      ['store', 'instances', 'server', 'idle after start', 'peak', 'at the end'],
      results.flatMap((r) =>
        r.servers.map((s) => [
          r.dialect,
          String(r.instances),
          `${s.kind} ${s.index}`,
          s.rss.idle.toFixed(0),
          s.rss.peak.toFixed(0),
          s.rss.last.toFixed(0),
        ]),
      ),
    ),
  );
  for (const note of skipped) out.push('', note);
  return out.join('\n');
}

if (values.serve) {
  process.on('SIGTERM', () => process.exit(0));
  // Die with the parent: the IPC channel closes when it exits, even on SIGKILL.
  process.on('disconnect', () => process.exit(0));
  if (values.serve === 'bare') await serveBare();
  else if (values.serve === 'plain') await servePlain(values.dir!, values['pg-url']);
  else await serveSparsam(values.dir!, values['pg-url']);
} else {
  try {
    await main();
  } catch (e) {
    await runCleanups();
    await stopAllServers();
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
