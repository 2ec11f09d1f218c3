import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { createSparsam } from '../../src/main.ts';
import { createLogger } from '../../src/shared/logger.ts';

it('tightens an existing data dir that others can read to owner-only at start', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sparsam-datadir-'));
  try {
    chmodSync(dataDir, 0o755);
    const sparsam = await createSparsam(loadConfig({ env: { SPARSAM_DATA_DIR: dataDir } }), {
      logger: createLogger({ level: 'silent' }),
    });
    await sparsam.close();
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
