/**
 * Short versions of the performance measurements, for checks from outside (`npm run bench:quick`, a few minutes):
 *   1. webhook ingest (bench/webhook-ingest.ts) on SQLite and PostgreSQL, one message per webhook, beside the bare
 *      server and the plain baseline (what a user would write: signature, plaintext insert, 200), including the open
 *      loop at 1,000 webhooks/s and the status storm (sent, delivered, read for a burst of sent messages); every
 *      server gets two seconds of the same load before its first measurement (webhook-ingest's `--warm-up`);
 *   2. outbound at a channel limit of 1,000 msg/s through the WhatsApp simulator, SQLite (bench/outbound-pacing.ts);
 *   3. idle resident memory of a started sparsam (SQLite, job queue running, nothing to do) after garbage collection
 *      settled, beside a bare Node HTTP server started the same way.
 * Each part prints its Markdown tables; the last line is one JSON object with the headline figures:
 *   ingestSqliteVsBare, ingestPgVsBare  sparsam / bare msg/s, consented customers, one message per webhook
 *   pgP99MsAt1000                       PostgreSQL ack latency p99 (ms) in the open loop at 1,000 webhooks/s
 *   statusStormVsBare                   sparsam / bare statuses/s in the status storm, PostgreSQL
 *   outbound1000                        achieved / target at a limit of 1,000 msg/s, SQLite, one instance
 *   idleRssMiB                          VmRSS of the idle sparsam process, MiB
 *
 *   npm run bench:quick [-- --seconds 3]
 */
import { fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    idle: { type: 'string' },
    seconds: { type: 'string', default: '3' },
    /** Only the idle RSS measurement (for comparing builds side by side); prints the two figures. */
    'idle-only': { type: 'boolean', default: false },
  },
});

const here = path.dirname(fileURLToPath(import.meta.url));
/** How long an idle process is left alone before and between the garbage collections. */
const SETTLE_MS = 3000;

function rssMiB(pid: number | undefined = process.pid): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** In the idle child: lets start-up work finish, collects garbage until RSS settles, reports it. */
async function settleAndReport(): Promise<void> {
  await sleep(SETTLE_MS);
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(500);
  }
  await sleep(SETTLE_MS);
  gc?.();
  await sleep(500);
  process.send?.({ rss: rssMiB() });
}

async function idleSparsam(): Promise<void> {
  // As bin/sparsam.js does before it loads the server; startSparsam releases the hold once it listens.
  const { youngGeneration } = await import('../src/shared/young-generation.ts');
  youngGeneration.hold();
  const { loadConfig } = await import('../src/config/config.ts');
  const { startSparsam } = await import('../src/main.ts');
  const { createLogger } = await import('../src/shared/logger.ts');
  const pino = (await import('pino')).pino;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sparsam-bench-idle-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const yaml = `
organisation: { name: Bench GmbH, contact: datenschutz@example.org }
inboxes:
  - id: service
    language: de
channels:
  - id: wa-bench
    kind: whatsapp-cloud
    inbox: service
    phoneNumberId: "106540352242922"
    accessToken: bench-token
    appSecret: bench-app-secret-0123456789abcdef
    verifyToken: bench-verify
    graphBaseUrl: http://127.0.0.1:9
`;
  const config = loadConfig({
    env: {
      SPARSAM_DATA_DIR: dir,
      SPARSAM_CONFIG: '/bench/sparsam.yaml',
      SPARSAM_PORT: '0',
      SPARSAM_HOST: '127.0.0.1',
      SPARSAM_LOG_LEVEL: 'info',
      SPARSAM_MASTER_KEY: randomBytes(32).toString('base64'),
    },
    readFile: () => yaml,
  });
  const logger = createLogger({ level: 'info', destination: pino.destination('/dev/null') });
  // As `sparsam start` does: listening, with the job queue running.
  await startSparsam(config, { logger });
  await settleAndReport();
}

async function idleBare(): Promise<void> {
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  void (server.address() as AddressInfo).port;
  await settleAndReport();
}

/** Starts an idle process of `kind` (through tsx, as the benches start their servers) and returns its settled RSS. */
function idleRss(kind: 'sparsam' | 'bare'): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--idle', kind], {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (m: { rss: number }) => {
      child.kill('SIGTERM');
      resolve(m.rss);
    });
    child.once('exit', (code) => reject(new Error(`idle ${kind} process exited with ${code}`)));
  });
}

function run(script: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, script), ...args], {
      stdio: 'inherit',
    });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${script} exited with ${code}`))));
  });
}

interface IngestRow {
  scenario: string;
  bare: { messagesPerSecond: number };
  plain: { messagesPerSecond: number };
  sparsam: { messagesPerSecond: number };
}
interface IngestConfig {
  dialect: 'sqlite' | 'postgres';
  instances: number;
  rows: IngestRow[];
  latency: { rate: number; sparsam: { p99: { ms: number; atLeast: boolean } } }[];
}
interface OutboundRow {
  scenario: string;
  target: number;
  rate: number;
  lost: number;
  duplicates: number;
  maxPerSecond: number;
}

const round = (n: number, digits = 3) => Number(n.toFixed(digits));

async function main(): Promise<void> {
  const seconds = values.seconds!;
  const began = Date.now();
  const load = () =>
    os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  const loadBefore = load();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sparsam-bench-quick-'));
  try {
    const ingestJson = path.join(tmp, 'ingest.json');
    const outboundJson = path.join(tmp, 'outbound.json');
    await run('webhook-ingest.ts', [
      '--dialect',
      'sqlite,postgres',
      '--batch',
      '1',
      '--rate',
      '1000',
      '--seconds',
      seconds,
      '--storm-per-second',
      '1500',
      '--json',
      ingestJson,
    ]);
    await run('outbound-pacing.ts', [
      '--dialect',
      'sqlite',
      '--rates',
      '1000',
      '--seconds',
      seconds,
      '--quick',
      '--json',
      outboundJson,
    ]);
    const bareRss = await idleRss('bare');
    const sparsamRss = await idleRss('sparsam');
    console.log('\nIdle resident set size (VmRSS) after start, 6 s idle and forced garbage collection, MiB:\n');
    console.log('| process | idle RSS |\n| --- | --- |');
    console.log(`| bare Node HTTP server (tsx) | ${bareRss.toFixed(0)} |`);
    console.log(`| sparsam (SQLite, job queue running) | ${sparsamRss.toFixed(0)} |`);

    const ingest = JSON.parse(readFileSync(ingestJson, 'utf8')) as IngestConfig[];
    const outbound = JSON.parse(readFileSync(outboundJson, 'utf8')) as OutboundRow[];
    const config = (d: IngestConfig['dialect']) => ingest.find((c) => c.dialect === d && c.instances === 1)!;
    const row = (d: IngestConfig['dialect'], prefix: string) =>
      config(d).rows.find((r) => r.scenario.startsWith(prefix))!;
    const vsBare = (r: IngestRow) => r.sparsam.messagesPerSecond / r.bare.messagesPerSecond;
    const vsPlain = (r: IngestRow) => r.sparsam.messagesPerSecond / r.plain.messagesPerSecond;
    const p99 = config('postgres').latency.find((l) => l.rate === 1000)!.sparsam.p99;
    const queue = outbound.find((r) => r.scenario === 'queue')!;
    const result = {
      ingestSqliteVsBare: round(vsBare(row('sqlite', 'consented, 1 per webhook'))),
      ingestPgVsBare: round(vsBare(row('postgres', 'consented, 1 per webhook'))),
      pgP99MsAt1000: round(p99.ms, 1),
      statusStormVsBare: round(vsBare(row('postgres', 'status storm'))),
      outbound1000: round(queue.rate / queue.target),
      idleRssMiB: round(sparsamRss, 1),
    };
    // Message search over its bound (10,000 messages), in this process; not part of the JSON line.
    // Imported here, not at the top: the idle children fork this file and must not carry sparsam's modules.
    const { runSearchBench } = await import('./search.ts');
    const search = await runSearchBench('sqlite', 550, 20, 5);
    console.log(`\nSummary (goals in brackets):\n`);
    console.log('| figure | value | goal |\n| --- | --- | --- |');
    console.log(`| ingest SQLite, sparsam / bare | ${result.ingestSqliteVsBare} | ≥ 0.25 |`);
    console.log(`| ingest SQLite, sparsam / plain | ${round(vsPlain(row('sqlite', 'consented, 1 per webhook')))} | |`);
    console.log(`| ingest PostgreSQL, sparsam / bare | ${result.ingestPgVsBare} | ≥ 0.15 |`);
    console.log(
      `| ingest PostgreSQL, sparsam / plain | ${round(vsPlain(row('postgres', 'consented, 1 per webhook')))} | |`,
    );
    console.log(
      `| PostgreSQL p99 at 1,000 webhooks/s | ${p99.atLeast ? '≥ ' : ''}${result.pgP99MsAt1000} ms | ≤ 50 ms |`,
    );
    console.log(`| status storm PostgreSQL, sparsam / bare | ${result.statusStormVsBare} | ≥ 0.15 |`);
    console.log(`| status storm PostgreSQL, sparsam / plain | ${round(vsPlain(row('postgres', 'status storm')))} | |`);
    console.log(
      `| outbound at 1,000 msg/s, SQLite, achieved / target | ${result.outbound1000} (max ${queue.maxPerSecond} in 1 s, ` +
        `${queue.lost} lost, ${queue.duplicates} duplicates) | ≥ 0.9 |`,
    );
    console.log(`| idle RSS, MiB | ${result.idleRssMiB} (bare ${bareRss.toFixed(0)}) | ≤ 150 |`);
    console.log(
      `| message search, SQLite, ${search.scanned} messages (bound ${search.bound}) | ${search.searchMs} ms ` +
        `(plain in-memory ${search.baselineMs} ms, ${search.ratio}×) | ≤ 300 ms |`,
    );
    console.log(
      `\n${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${os.cpus().length} CPUs, ` +
        `load average (1/5/15 min) ${loadBefore} before and ${load()} after, ${((Date.now() - began) / 1000).toFixed(0)} s in all.`,
    );
    console.log(JSON.stringify(result));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (values.idle) process.on('SIGTERM', () => process.exit(0));
if (values.idle === 'sparsam') await idleSparsam();
else if (values.idle === 'bare') await idleBare();
else if (values['idle-only']) {
  const bare = await idleRss('bare');
  const sparsam = await idleRss('sparsam');
  console.log(JSON.stringify({ bareRssMiB: round(bare, 1), idleRssMiB: round(sparsam, 1) }));
} else await main();
