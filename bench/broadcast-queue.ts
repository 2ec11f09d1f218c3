/**
 * Broadcast queueing benchmark: MarketingService.broadcast to N opted-in contacts (default 100,000) of one channel,
 * in batches of `--batch` contacts, each batch in its own transaction, beside the same broadcast written in one
 * transaction (`--batch` = every contact: what broadcasts did before they were batched, though with the batched
 * consent queries). Each measurement runs in a fresh process (a sparsam without its job queue running, so that
 * nothing is sent), after seeding the contacts directly into the database.
 *
 *   node --expose-gc --import tsx bench/broadcast-queue.ts [--dialect sqlite|postgres] [--contacts 100000]
 *        [--batch 1000] [--runs 1]
 *
 * Per run: time to queue (the broadcast call, report included), peak RSS growth over the RSS before the call
 * (sampled every 10 ms), RSS and V8 heap kept after a forced collection at the end (over the same before the call),
 * the number of queueing transactions (outbox.queue calls; the campaign row and the final mark are two more single
 * statements), recipients queued. Contacts: the seed writes 2 × N contacts, every third without a marketing opt-in
 * and every sixth withdrawn, so that N are opted in.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    dialect: { type: 'string', default: 'sqlite' },
    contacts: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '1' },
    child: { type: 'string' },
  },
});

interface Result {
  batch: number;
  recipients: number;
  skipped: number;
  queueMs: number;
  rssBeforeMiB: number;
  rssPeakGrowthMiB: number;
  /** RSS and V8 heap after a forced collection at the end, over the same before the call: what stays. */
  rssKeptMiB: number;
  heapKeptMiB: number;
  transactions: number;
}

const mib = (n: number) => Math.round((n / 1048576) * 10) / 10;

async function child(batch: number): Promise<void> {
  const { startMarketingWorld, seedContacts } = await import('../test/marketing/marketing-world.ts');
  const { MarketingService } = await import('../src/core/marketing/marketing.service.ts');
  const w = await startMarketingWorld(values.dialect as 'sqlite' | 'postgres', false);
  try {
    const wanted = Number(values.contacts);
    await seedContacts(w, wanted * 2);
    const deps = w.sparsam.marketing['deps'];
    let transactions = 0;
    const outbox = {
      queue: (...args: Parameters<typeof deps.outbox.queue>) => {
        transactions += 1;
        return deps.outbox.queue(...args);
      },
    } as typeof deps.outbox;
    const service = new MarketingService({ ...deps, outbox, batchSize: batch });
    const gc = () => (globalThis as { gc?: () => void }).gc?.();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const t = performance.now();
    const report = await service.broadcast(
      { channelId: 'wa-main', template: { name: 'spring_offer', language: 'de', parameters: ['10 % auf Reifen'] } },
      'user:bench',
    );
    const queueMs = performance.now() - t;
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    gc();
    const after = process.memoryUsage();
    const result: Result = {
      batch,
      recipients: report.recipients,
      skipped: report.skipped,
      queueMs: Math.round(queueMs),
      rssBeforeMiB: mib(before),
      rssPeakGrowthMiB: mib(peak - before),
      rssKeptMiB: mib(after.rss - before),
      heapKeptMiB: mib(after.heapUsed - heapBefore),
      transactions,
    };
    console.log(JSON.stringify(result));
  } finally {
    await w.close();
  }
}

if (values.child) {
  await child(Number(values.child));
} else {
  const n = Number(values.contacts);
  const batch = Number(values.batch);
  const rows: (Result & { load: string })[] = [];
  for (let r = 0; r < Number(values.runs); r++) {
    // Alternate the order from run to run.
    const order = r % 2 ? [n * 2, batch] : [batch, n * 2];
    for (const b of order) {
      const load0 = loadavg()[0]!.toFixed(1);
      const out = execFileSync(
        process.execPath,
        [
          '--expose-gc',
          '--import',
          'tsx',
          'bench/broadcast-queue.ts',
          '--dialect',
          values.dialect!,
          '--contacts',
          String(n),
          '--child',
          String(b),
        ],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      const line = out.trim().split('\n').at(-1)!;
      rows.push({ ...(JSON.parse(line) as Result), load: `${load0} → ${loadavg()[0]!.toFixed(1)}` });
    }
  }
  console.log(`\nbroadcast to about ${n} opted-in contacts, ${values.dialect}, ${new Date().toISOString()}\n`);
  console.log(
    '| batch | recipients | skipped | time to queue | per 1,000 | RSS before | peak RSS growth | RSS kept | heap kept | transactions | load average |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const x of rows) {
    const label = x.batch >= x.recipients + x.skipped ? 'one transaction' : String(x.batch);
    console.log(
      `| ${label} | ${x.recipients} | ${x.skipped} | ${(x.queueMs / 1000).toFixed(1)} s | ${((x.queueMs / x.recipients) * 1000).toFixed(0)} ms | ${x.rssBeforeMiB} MiB | ${x.rssPeakGrowthMiB} MiB | ${x.rssKeptMiB} MiB | ${x.heapKeptMiB} MiB | ${x.transactions} | ${x.load} |`,
    );
  }
}
