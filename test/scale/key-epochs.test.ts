import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { channelKindFacts } from '../../src/channels/registry.ts';
import { FileEpochSecretStore } from '../../src/core/privacy/keys/epoch-secrets.ts';
import { KeyService } from '../../src/core/privacy/keys/key.service.ts';
import { ContactDirectory } from '../../src/core/privacy/pseudonym/contact-directory.ts';
import { systemClock } from '../../src/shared/clock.ts';
import type { WhatsAppSimulator } from '../../dev/simulator/whatsapp-simulator.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { ContactStore } from '../../src/store/sql/contact.store.ts';
import { KeyStore } from '../../src/store/sql/key.store.ts';
import {
  closeInstances,
  configYaml,
  sharedEpochKeyFile,
  startInstance,
  startWhatsAppSimulator,
  until,
  type Instance,
} from '../support/instances.ts';
import { createPgDatabase, postgresAvailable } from '../support/stores.ts';
import { runCli } from '../support/cli.ts';

/**
 * `sparsam keys rotate` while sparsam runs and receives webhooks: the running instances follow the new key epoch,
 * no conversation or contact becomes unreadable (after a restart either), and no contact is created twice although
 * its lookup hash is re-peppered under its feet.
 */

/** Webhooks from `customers`, one message each per round, to the instances in turn, until `stop()` resolves. */
async function trafficDuring(
  sim: WhatsAppSimulator,
  instances: Instance[],
  customers: string[],
  during: () => Promise<void>,
): Promise<number> {
  let done = false;
  let sent = 0;
  const loop = (async () => {
    for (let round = 0; !done || round < 2; round++) {
      for (const [i, from] of customers.entries()) {
        const to = instances[(round + i) % instances.length]!;
        sim.setWebhookUrl(`${to.url}/webhooks/whatsapp/wa-main`);
        const delivery = await sim.sendCustomerMessage({
          from,
          text: `Nachricht ${round}`,
          id: `wamid.${from}-R${round}`,
        });
        expect(delivery.delivered).toBe(true);
        sent++;
      }
    }
  })();
  try {
    await during();
  } finally {
    done = true;
  }
  await loop;
  return sent;
}

/** A fresh start with today's secrets: every data key opens, every contact's address opens, one contact each. */
async function checkAfterRestart(
  settings: { dataDir: string; databaseUrl?: string; epochFile: string },
  master: Buffer,
  customers: string[],
) {
  const store: Store = await openStore({
    dataDir: settings.dataDir,
    databaseUrl: settings.databaseUrl,
    keystoreUrl: settings.databaseUrl,
  });
  try {
    const keys = new KeyService(new KeyStore(store.keys), master, systemClock, {
      epochs: new FileEpochSecretStore(settings.epochFile, master),
    });
    await keys.init();
    const directory = new ContactDirectory(new ContactStore(store.db), keys, systemClock, channelKindFacts);
    const conversations = await store.db.selectFrom('conversations').select('id').execute();
    expect(conversations.length).toBe(customers.length);
    for (const c of conversations) expect(await keys.existingDataKey('conversation', c.id)).toBeDefined();
    const contacts = await store.db.selectFrom('contacts').selectAll().execute();
    expect(contacts.length).toBe(customers.length);
    const addresses = await Promise.all(contacts.map((c) => directory.address(c)));
    expect(addresses.sort()).toEqual([...customers].sort());
    for (const c of customers) {
      expect(await directory.findByAddress('wa-main', 'whatsapp-cloud', c)).toBeDefined();
    }
    return keys.epoch;
  } finally {
    await store.close();
  }
}

const customersOf = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);

describe('key epochs while sparsam runs', { timeout: 180_000 }, () => {
  let sim: WhatsAppSimulator | undefined;
  let instances: Instance[] = [];
  let db: { url: string; drop(): Promise<void> } | undefined;
  afterEach(async () => {
    await closeInstances(...instances);
    instances = [];
    await sim?.close();
    await db?.drop();
    db = undefined;
  });

  it('[sqlite] `sparsam keys rotate` beside the running server: webhooks keep arriving, nothing is lost', async () => {
    sim = await startWhatsAppSimulator({ autoStatuses: false });
    const master = randomBytes(32);
    const server = await startInstance({
      yaml: configYaml(sim.url),
      masterKey: master.toString('base64'),
      dataDirPrefix: 'sparsam-epoch-',
      logLevel: 'warn',
    });
    instances.push(server);
    const customers = customersOf('4915200000', 12);
    const env = { SPARSAM_DATA_DIR: server.dataDir, SPARSAM_MASTER_KEY: master.toString('base64') };
    let rotated = { code: null as number | null, stdout: '', stderr: '' };
    await trafficDuring(sim, [server], customers, async () => {
      rotated = await runCli(['keys', 'rotate'], env);
    });
    expect(rotated.stderr).toBe('');
    expect(rotated.stdout).toMatch(/key epoch 2 started/);
    expect(rotated.code).toBe(0);
    // New customers after the rotation: the server wraps their keys under the new epoch.
    const later = customersOf('4915300000', 3);
    await trafficDuring(sim, [server], later, async () => undefined);
    await until('the server follows epoch 2', () => server.sparsam.keys.epoch === 2);
    await server.sparsam.close();
    const epoch = await checkAfterRestart(
      { dataDir: server.dataDir, epochFile: path.join(server.dataDir, 'epoch.key') },
      master,
      [...customers, ...later],
    );
    expect(epoch).toBe(2);
  });

  it.runIf(postgresAvailable)(
    '[postgres] two instances: one starts the epoch while both take webhooks, the other follows',
    async () => {
      db = await createPgDatabase();
      sim = await startWhatsAppSimulator({ autoStatuses: false });
      const master = randomBytes(32);
      const start = () =>
        startInstance({
          yaml: configYaml(sim!.url),
          masterKey: master.toString('base64'),
          databaseUrl: db!.url,
          dataDirPrefix: 'sparsam-epoch-pg-',
        });
      const a = await start();
      instances.push(a);
      const b = await start();
      instances.push(b);
      const customers = customersOf('4915400000', 12);
      await trafficDuring(sim, [a, b], customers, async () => {
        await new Promise((r) => setTimeout(r, 300));
        const result = await a.sparsam.keyEpochs.rotate();
        expect(result.epoch).toBe(2);
      });
      // B follows two signals (epoch 2 began, epoch 1 retired), each with a read of the key store of its own.
      await until(
        'both instances are in epoch 2 and B has retired epoch 1',
        () => a.sparsam.keys.epoch === 2 && b.sparsam.keys.epoch === 2 && !b.sparsam.keys.inTransition,
      );
      expect(b.sparsam.keys.inTransition).toBe(false);
      await a.sparsam.close();
      await b.sparsam.close();
      const epoch = await checkAfterRestart(
        { dataDir: b.dataDir, databaseUrl: db.url, epochFile: sharedEpochKeyFile(db.url) },
        master,
        customers,
      );
      expect(epoch).toBe(2);
    },
  );
});
