import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runDoctor } from '../../../src/cli/doctor.ts';
import { ConfigError, loadConfig } from '../../../src/config/config.ts';

const KEY = 'c0ffee'.repeat(10) + 'c0ff';

function yaml(privateKey: string | undefined, extra = ''): string {
  return `
channels:
  - id: threema-main
    kind: threema
    inbox: service
    gatewayId: "*SPARSAM"
    apiSecret: env:THREEMA_SECRET
${privateKey !== undefined ? `    privateKey: ${privateKey}\n` : ''}${extra}`;
}

describe('threema configuration', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function load(file: string, env: Record<string, string> = {}) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sparsam-threema-config-'));
    dirs.push(dataDir);
    return loadConfig({
      env: {
        SPARSAM_CONFIG: '/virtual/sparsam.yaml',
        SPARSAM_DATA_DIR: dataDir,
        SPARSAM_PORT: '19199',
        THREEMA_SECRET: 's3cret',
        ...env,
      },
      readFile: () => file,
    });
  }

  it('takes the four keys, the key inline or as env:NAME, with the gateway default URL', () => {
    const inline = load(yaml(KEY));
    expect(inline.channels[0]).toMatchObject({
      kind: 'threema',
      gatewayId: '*SPARSAM',
      apiSecret: 's3cret',
      privateKey: KEY,
      apiBaseUrl: 'https://msgapi.threema.ch',
    });
    const fromEnv = load(yaml('env:THREEMA_PRIVATE_KEY'), { THREEMA_PRIVATE_KEY: KEY });
    expect(fromEnv.channels[0]).toMatchObject({ privateKey: KEY });
    // Once sealed, the file need not hold it.
    expect(load(yaml(undefined)).channels[0]).not.toHaveProperty('privateKey');
  });

  it('refuses a malformed key or gateway ID, naming the key and an example, never the value', () => {
    let error: unknown;
    try {
      load(yaml('"0123abc"'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('channels[0].privateKey: must be the 32-byte private key');
    expect(problems).toContain('env:THREEMA_PRIVATE_KEY');
    expect(problems).not.toContain('0123abc');
    expect(() => load(yaml(KEY).replace('"*SPARSAM"', '"SPARSAM1"'))).toThrow(/channels\[0\]\.gatewayId/);
  });

  it('doctor warns while the private key stands inline in the file, and not when it is env:NAME', async () => {
    const inline = load(yaml(KEY));
    expect(inline.inlineSealedSecrets).toEqual(['channels[0].privateKey (threema-main)']);
    const warnings = (await runDoctor(inline)).filter(
      (f) => f.warn && f.what === 'private key in the configuration file',
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.detail).toContain('channels[0].privateKey (threema-main)');
    expect(warnings[0]!.detail).not.toContain(KEY);

    const fromEnv = load(yaml('env:THREEMA_PRIVATE_KEY'), { THREEMA_PRIVATE_KEY: KEY });
    expect(fromEnv.inlineSealedSecrets).toEqual([]);
    expect((await runDoctor(fromEnv)).some((f) => f.what === 'private key in the configuration file')).toBe(false);
  });
});
