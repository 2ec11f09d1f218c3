import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { startSparsam, type Sparsam } from '../../src/main.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { configYaml } from '../support/instances.ts';
import { createPgDatabase, dialects } from '../support/stores.ts';

/**
 * Instances started at the same instant on one fresh database, as a compose file or a Kubernetes roll-out starts
 * them: every one of them comes up (migrations and the mirroring of the configured inboxes and channels are safe
 * when they run at the same time), and the configuration is stored once.
 */

const MASTER_KEY = randomBytes(32).toString('base64');
const ROUNDS = 10;

async function startTogether(count: number, env: Record<string, string>, dataDirs: string[]): Promise<Sparsam[]> {
  const yaml = configYaml('http://127.0.0.1:1');
  const starts = dataDirs.slice(0, count).map(async (dataDir) => {
    const config = loadConfig({
      env: {
        SPARSAM_DATA_DIR: dataDir,
        SPARSAM_MASTER_KEY: MASTER_KEY,
        SPARSAM_PORT: '0',
        SPARSAM_HOST: '127.0.0.1',
        SPARSAM_CONFIG: '/virtual/sparsam.yaml',
        SPARSAM_LOG_LEVEL: 'error',
        ...env,
      },
      readFile: () => yaml,
    });
    const { sparsam } = await startSparsam(config, { clock: systemClock, logger: createLogger({ level: 'fatal' }) });
    return sparsam;
  });
  const results = await Promise.allSettled(starts);
  const up = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error)?.message)] : []));
  if (failures.length > 0) {
    for (const s of up) await s.close().catch(() => undefined);
    throw new Error(`${failures.length} of ${count} instances did not come up: ${failures.join('; ')}`);
  }
  return up;
}

for (const dialect of dialects) {
  describe(`instances started at the same instant on a fresh database [${dialect}]`, () => {
    for (const count of [2, 3]) {
      it(`${count} instances all come up, ${ROUNDS} times in a row, and store the configuration once`, async () => {
        for (let round = 0; round < ROUNDS; round++) {
          const pgDb = dialect === 'postgres' ? await createPgDatabase() : undefined;
          // On SQLite the instances share one data dir (one database file); on PostgreSQL each has its own.
          const shared = mkdtempSync(path.join(tmpdir(), 'sparsam-startup-'));
          const dataDirs =
            dialect === 'postgres'
              ? Array.from({ length: count }, () => mkdtempSync(path.join(tmpdir(), 'sparsam-startup-')))
              : Array.from({ length: count }, () => shared);
          // Instances on one PostgreSQL share the key epoch file, as docs/deployment.md asks (a mounted secret).
          const env: Record<string, string> = pgDb
            ? {
                SPARSAM_DATABASE_URL: pgDb.url,
                SPARSAM_KEYSTORE_URL: pgDb.url,
                SPARSAM_EPOCH_KEY_FILE: path.join(shared, 'epoch.key'),
              }
            : {};
          let instances: Sparsam[] = [];
          try {
            instances = await startTogether(count, env, dataDirs);
            expect(instances).toHaveLength(count);
            const first = instances[0]!;
            expect((await first.inboxes.listInboxes()).map((i) => i.id)).toEqual(['service']);
            expect((await first.inboxes.listChannels()).map((c) => c.id)).toEqual(['wa-main']);
          } finally {
            for (const s of instances) await s.close().catch(() => undefined);
            await pgDb?.drop();
            for (const d of new Set([shared, ...dataDirs])) rmSync(d, { recursive: true, force: true });
          }
        }
      }, 180_000);
    }
  });
}
