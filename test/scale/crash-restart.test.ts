import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { WebhookDelivery, WhatsAppSimulator } from '../../dev/simulator/whatsapp-simulator.ts';
import { KeyService } from '../../src/core/privacy/keys/key.service.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { openStore } from '../../src/store/open-store.ts';
import { KeyStore } from '../../src/store/sql/key.store.ts';
import { ProviderRefs } from '../../src/store/sql/provider-ref.ts';
import { configYaml, freePort, startWhatsAppSimulator } from '../support/instances.ts';
import { createPgDatabase, describeEachStore } from '../support/stores.ts';

/**
 * `sparsam start` (on SQLite, and on PostgreSQL when it is available) is killed with SIGKILL in the middle of a webhook storm and started again on the same data
 * dir (same database); the simulator retries what was not answered 200 (as Meta does). Every message the provider sent is stored
 * exactly once in the end, including those answered 200 just before the kill: nothing acknowledged is lost and no
 * retry stores a second copy.
 */

const BIN = path.resolve('bin/sparsam.js');
const MESSAGES = 300;
const CUSTOMERS = 30;

describeEachStore('crash and restart in the middle of a webhook storm', (dialect) => {
  const root = mkdtempSync(path.join(tmpdir(), 'sparsam-crash-'));
  const dataDir = path.join(root, 'data');
  const configFile = path.join(root, 'sparsam.yaml');
  let sim: WhatsAppSimulator | undefined;
  let child: ChildProcess | undefined;
  // On PostgreSQL the data and the key store live in a throwaway database; the data dir holds nothing that matters.
  let pgDb: { url: string; drop(): Promise<void> } | undefined;
  const storeEnv = (): Record<string, string> =>
    pgDb ? { SPARSAM_DATABASE_URL: pgDb.url, SPARSAM_KEYSTORE_URL: pgDb.url } : {};

  beforeAll(async () => {
    if (dialect === 'postgres') pgDb = await createPgDatabase();
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
    }
    await sim?.close();
    await pgDb?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  async function startServer(port: number): Promise<ChildProcess> {
    const proc = spawn(process.execPath, [BIN, 'start'], {
      env: {
        ...process.env,
        SPARSAM_CONFIG: configFile,
        SPARSAM_DATA_DIR: dataDir,
        SPARSAM_MASTER_KEY: masterKey,
        ...storeEnv(),
        SPARSAM_PORT: String(port),
        SPARSAM_HOST: '127.0.0.1',
        SPARSAM_LOG_LEVEL: 'error',
      },
      stdio: 'ignore',
    });
    const started = Date.now();
    while (Date.now() - started < 30_000) {
      const status = await fetch(`http://127.0.0.1:${port}/healthz`)
        .then((r) => r.status)
        .catch(() => 0);
      if (status === 200) return proc;
      if (proc.exitCode !== null) throw new Error(`sparsam start exited with ${proc.exitCode}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('sparsam start did not answer /healthz within 30 s');
  }

  const masterKey = randomBytes(32).toString('base64');

  it('stores every message exactly once after a SIGKILL and a restart on the same data dir', async () => {
    const port = await freePort();
    // Retries spread over about 40 s: enough for the restart even on a loaded machine (Meta keeps retrying for much
    // longer). The test may take a minute when the whole suite runs beside it.
    sim = await startWhatsAppSimulator({
      webhookUrl: `http://127.0.0.1:${port}/webhooks/whatsapp/wa-main`,
      retryDelaysMs: [500, 1000, 2000, 4000, 8000, 8000, 8000, 8000],
      autoStatuses: false,
    });
    writeFileSync(configFile, configYaml(sim.url));
    child = await startServer(port);

    // The storm: 300 messages from 30 customers, 20 in flight at a time.
    const ids = Array.from({ length: MESSAGES }, (_, i) => `wamid.STORM-${i}`);
    const deliveries: WebhookDelivery[] = [];
    let next = 0;
    const acknowledgedBeforeKill = new Set<string>();
    let killed = false;
    let restarted: Promise<void> | undefined;
    const worker = async () => {
      while (next < ids.length) {
        const i = next++;
        const delivery = sim!.sendCustomerMessage({
          from: `49151200000${String(i % CUSTOMERS).padStart(2, '0')}`,
          text: `Nachricht ${i}`,
          id: ids[i]!,
        });
        const done = await delivery;
        deliveries.push(done);
        if (!killed && done.attempts[0]?.status === 200) acknowledgedBeforeKill.add(done.messageId);
        // Kill after a third of the storm was acknowledged, while the rest is in flight; restart at once.
        if (!killed && acknowledgedBeforeKill.size >= MESSAGES / 3) {
          killed = true;
          child!.kill('SIGKILL');
          restarted = (async () => {
            await new Promise((r) => child!.once('exit', r));
            child = await startServer(port);
          })();
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    await restarted;
    expect(killed).toBe(true);

    // The kill was felt: some deliveries failed at least once and were retried.
    const retried = deliveries.filter((d) => d.attempts.length > 1);
    expect(retried.length).toBeGreaterThan(0);
    expect(deliveries.filter((d) => !d.delivered)).toEqual([]);

    // Stop cleanly, then count what the store holds.
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    const store = await openStore({ dataDir, databaseUrl: pgDb?.url, keystoreUrl: pgDb?.url });
    try {
      const rows = await store.db
        .selectFrom('messages')
        .select('provider_message_id')
        .where('direction', '=', 'in')
        .execute();
      const counts = new Map<string, number>();
      for (const r of rows) counts.set(r.provider_message_id!, (counts.get(r.provider_message_id!) ?? 0) + 1);
      expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
      // Provider ids are stored as keyed hashes (key derived from the key store's pepper).
      const keys = new KeyService(new KeyStore(store.keys), Buffer.from(masterKey, 'base64'), systemClock);
      await keys.init();
      const refs = new ProviderRefs(keys.pepper);
      expect([...counts.keys()].sort()).toEqual(ids.map((id) => refs.ref(id)).sort());
      for (const id of acknowledgedBeforeKill) expect(counts.get(refs.ref(id)), id).toBe(1);
      const contacts = await store.db.selectFrom('contacts').select('id').execute();
      expect(contacts).toHaveLength(CUSTOMERS);
    } finally {
      await store.close();
    }
    console.info(
      `[crash-restart ${dialect}] ${MESSAGES} messages, ${acknowledgedBeforeKill.size} acknowledged before the kill, ` +
        `${retried.length} needed retries, ${deliveries.reduce((n, d) => n + d.attempts.length, 0)} attempts`,
    );
  }, 120_000);
});
