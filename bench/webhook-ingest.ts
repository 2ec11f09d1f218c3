/**
 * Webhook ingest benchmark: signed WhatsApp Cloud API webhooks POSTed over HTTP to a real sparsam (signature check,
 * parse, pseudonymous contact lookup, consent check, sealing, commit, then 200) beside a bare Node HTTP server that
 * reads the body and answers 200 without doing anything, in the same run, on the same machine, with the same
 * pre-signed payloads and the same load generator. Each server runs in its own child process; the load generator
 * runs in this process (it shares the CPU with the server under test, for both servers alike).
 *
 *   node --import tsx bench/webhook-ingest.ts [--dialect sqlite|postgres] [--seconds 5] [--batch 1,50]
 *        [--connections 32] [--customers 200] [--rate 1000]
 *
 * Scenarios:
 *   - throughput: closed loop, `connections` requests in flight, each webhook carrying `batch` messages (Meta batches
 *     several messages per POST), from `customers` customers who have consented (steady state: their conversation
 *     is open). Reports webhooks/s and messages/s for both servers and the ratio.
 *   - first contact: the same with a new customer per message (contact created, conversation opened pending
 *     consent, the notice queued as a job).
 *   - latency: open loop at `rate` messages/s (one message per webhook), latency measured from each request's
 *     scheduled start (no coordinated omission); reports p50/p99/max.
 * The job queue of the sparsam child is stopped, so that queued notices are not sent during the measurement.
 * Goals: ≥ 50 % of the bare server's rate, ≥ 5,000 msg/s on SQLite, p99 ≤ 25 ms at 1,000 msg/s.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { signWhatsAppBody } from '../src/channels/whatsapp-cloud/whatsapp-cloud.signature.ts';

const { values } = parseArgs({
  options: {
    serve: { type: 'string' },
    port: { type: 'string' },
    dir: { type: 'string' },
    'pg-url': { type: 'string' },
    dialect: { type: 'string', default: 'sqlite' },
    seconds: { type: 'string', default: '5' },
    batch: { type: 'string', default: '1,50' },
    connections: { type: 'string', default: '32' },
    customers: { type: 'string', default: '200' },
    rate: { type: 'string', default: '1000' },
    /** Write a CPU profile of the sparsam server to this directory (for finding hot spots). */
    profile: { type: 'string' },
  },
});

const APP_SECRET = 'bench-app-secret-0123456789abcdef';
const PHONE_NUMBER_ID = '106540352242922';
const AGREE_ID = 'sparsam-consent-agree';

// ------------------------------------------------------------------------------------------ child servers

async function serveBare(port: number): Promise<void> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  process.send?.('ready');
}

async function serveSparsam(port: number, dir: string, pgUrl: string | undefined): Promise<void> {
  const { loadConfig } = await import('../src/config/config.ts');
  const { createSparsam } = await import('../src/main.ts');
  const { createLogger } = await import('../src/shared/logger.ts');
  const pino = (await import('pino')).pino;
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
  await sparsam.http.listen({ port, host: '127.0.0.1' });
  process.send?.('ready');
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

const customer = (i: number) => `49151${String(i).padStart(8, '0')}`;

// ------------------------------------------------------------------------------------------ load generator

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function post(port: number, s: Signed, channel: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `/webhooks/whatsapp/${channel}`,
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': s.body.length,
          'x-hub-signature-256': s.signature,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(s.body);
  });
}

interface Throughput {
  webhooksPerSecond: number;
  messagesPerSecond: number;
  errors: number;
}

async function closedLoop(port: number, payloads: Signed[], connections: number, channel: string): Promise<Throughput> {
  let next = 0;
  let messages = 0;
  let webhooks = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < payloads.length) {
        const s = payloads[next++]!;
        const status = await post(port, s, channel);
        if (status === 200) {
          messages += s.messages;
          webhooks += 1;
        } else errors += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { webhooksPerSecond: webhooks / seconds, messagesPerSecond: messages / seconds, errors };
}

interface Latency {
  p50: number;
  p99: number;
  max: number;
  achieved: number;
  errors: number;
}

async function openLoop(port: number, payloads: Signed[], ratePerSecond: number, channel: string): Promise<Latency> {
  const latencies: number[] = [];
  let errors = 0;
  const interval = 1000 / ratePerSecond;
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < payloads.length; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inflight.push(
      post(port, payloads[i]!, channel).then((status) => {
        if (status !== 200) errors += 1;
        latencies.push(performance.now() - due);
      }),
    );
  }
  await Promise.all(inflight);
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { p50: at(0.5), p99: at(0.99), max: latencies.at(-1)!, achieved: payloads.length / seconds, errors };
}

// -------------------------------------------------------------------------------------------------- run

async function startChild(args: string[], profileDir?: string): Promise<ChildProcess> {
  const child = fork(fileURLToPath(import.meta.url), args, {
    execArgv: ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`server child exited with ${code}`)));
  });
  return child;
}

async function main(): Promise<void> {
  const seconds = Number(values.seconds);
  const batches = values.batch!.split(',').map(Number);
  const connections = Number(values.connections);
  const customers = Number(values.customers);
  const rate = Number(values.rate);
  const dialect = values.dialect === 'postgres' ? 'postgres' : 'sqlite';

  const dir = mkdtempSync(path.join(tmpdir(), 'sparsam-bench-ingest-'));
  let pg: { url: string; drop(): Promise<void> } | undefined;
  if (dialect === 'postgres') {
    const { createPgDatabase } = await import('../test/support/stores.ts');
    pg = await createPgDatabase();
  }
  const barePort = 18_700 + (process.pid % 500);
  const sparsamPort = barePort + 1;
  const bare = await startChild(['--serve', 'bare', '--port', String(barePort)]);
  const server = await startChild(
    ['--serve', 'sparsam', '--port', String(sparsamPort), '--dir', dir, ...(pg ? ['--pg-url', pg.url] : [])],
    values.profile,
  );

  try {
    // Steady state: every customer has written and agreed, so their conversation is open.
    const setup = await closedLoop(
      sparsamPort,
      Array.from({ length: customers }, (_, i) => webhook([{ from: customer(i), text: 'Hallo' }])),
      8,
      'wa-bench',
    );
    const agreed = await closedLoop(
      sparsamPort,
      Array.from({ length: customers }, (_, i) => webhook([{ from: customer(i), button: AGREE_ID }])),
      8,
      'wa-bench',
    );
    if (setup.errors + agreed.errors > 0) throw new Error('set-up webhooks failed');

    console.log(`webhook ingest, ${dialect}, ${connections} connections, ${customers} consented customers`);
    console.log(
      'scenario                         | bare webhooks/s | bare msg/s | sparsam webhooks/s | sparsam msg/s | ratio',
    );
    const rows: string[] = [];
    for (const batch of batches) {
      const target = Math.max(200, Math.round((seconds * 6000) / batch));
      const make = (offset: number) =>
        Array.from({ length: target }, (_, i) =>
          webhook(Array.from({ length: batch }, (_, j) => ({ from: customer((offset + i * batch + j) % customers) }))),
        );
      // Warm-up, then the measured runs (same payload shapes, fresh wamids for sparsam).
      await closedLoop(sparsamPort, make(0).slice(0, 50), connections, 'wa-bench');
      const b = await closedLoop(barePort, make(0), connections, 'wa-bench');
      const s = await closedLoop(sparsamPort, make(0), connections, 'wa-bench');
      if (s.errors > 0) console.log(`  (sparsam answered ${s.errors} webhooks with an error)`);
      rows.push(
        `consented, batch ${String(batch).padStart(3)}            | ${fmt(b.webhooksPerSecond)} | ${fmt(b.messagesPerSecond)} | ${fmt(s.webhooksPerSecond)} | ${fmt(s.messagesPerSecond)} | ${(s.messagesPerSecond / b.messagesPerSecond).toFixed(2)}`,
      );
      console.log(rows.at(-1));
    }
    {
      const batch = batches.at(-1)!;
      // New customers cost several key-store and contact commits each: a smaller sample keeps the run short.
      const target = Math.max(4, Math.round((seconds * 200) / batch));
      let n = customers + 1;
      const make = () =>
        Array.from({ length: target }, () =>
          webhook(Array.from({ length: batch }, () => ({ from: customer(n++), text: 'Erste Nachricht' }))),
        );
      const b = await closedLoop(barePort, make(), connections, 'wa-bench');
      const s = await closedLoop(sparsamPort, make(), connections, 'wa-bench');
      console.log(
        `first contact, batch ${String(batch).padStart(3)}        | ${fmt(b.webhooksPerSecond)} | ${fmt(b.messagesPerSecond)} | ${fmt(s.webhooksPerSecond)} | ${fmt(s.messagesPerSecond)} | ${(s.messagesPerSecond / b.messagesPerSecond).toFixed(2)}`,
      );
    }
    {
      const count = rate * seconds;
      const make = () => Array.from({ length: count }, (_, i) => webhook([{ from: customer(i % customers) }]));
      const b = await openLoop(barePort, make(), rate, 'wa-bench');
      const s = await openLoop(sparsamPort, make(), rate, 'wa-bench');
      console.log(`\nack latency at ${rate} msg/s (one message per webhook, open loop, ${count} webhooks)`);
      console.log('server  | achieved/s | p50 ms | p99 ms | max ms | errors');
      for (const [name, l] of [
        ['bare', b],
        ['sparsam', s],
      ] as const) {
        console.log(
          `${name.padEnd(7)} | ${l.achieved.toFixed(0).padStart(10)} | ${l.p50.toFixed(2).padStart(6)} | ${l.p99.toFixed(2).padStart(6)} | ${l.max.toFixed(1).padStart(6)} | ${l.errors}`,
        );
      }
    }
  } finally {
    bare.kill();
    server.kill();
    agent.destroy();
    await new Promise((r) => setTimeout(r, 300));
    await pg?.drop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

function fmt(n: number): string {
  return n.toFixed(0).padStart(10);
}

if (values.serve) {
  process.on('SIGTERM', () => process.exit(0));
  const port = Number(values.port);
  if (values.serve === 'bare') await serveBare(port);
  else await serveSparsam(port, values.dir!, values['pg-url']);
} else {
  await main();
}
