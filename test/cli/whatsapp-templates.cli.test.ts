import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type WhatsAppSimulator } from '../../dev/simulator/whatsapp-simulator.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createSparsam } from '../../src/main.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { runCli } from '../support/cli.ts';

/**
 * `sparsam channel templates <channelId> [--sync] [--json]` against the simulator, `sparsam doctor` reporting a
 * flagged number, and `sparsam channel webhook-url` naming the app-level URL; each run as its own process.
 */
const PNID = '106540352242922';
const WABA = '102290129340398';

describe('sparsam channel templates / doctor / webhook-url (WhatsApp account)', () => {
  let sim: WhatsAppSimulator;
  let dir = '';
  let env: Record<string, string> = {};

  beforeAll(async () => {
    sim = await startSimulator({
      appSecret: 'cli-app-secret-0123456789',
      accessToken: 'cli-access-token',
      phoneNumberId: PNID,
      verifyToken: 'cli-verify',
      webhookUrl: 'http://127.0.0.1:9/',
      businessAccountId: WABA,
      templates: [
        { name: 'termin_erinnerung', language: 'de', category: 'UTILITY', body: 'Ihr Termin am {{1}}.' },
        { name: 'herbstangebot', language: 'de', category: 'MARKETING', body: 'Im Herbst: {{1}}.' },
      ],
    });
    dir = mkdtempSync(path.join(tmpdir(), 'sparsam-wa-cli-'));
    const configFile = path.join(dir, 'sparsam.yaml');
    writeFileSync(
      configFile,
      [
        'organisation:',
        '  name: Autohaus Beispiel GmbH',
        '  contact: datenschutz@autohaus-beispiel.de',
        'inboxes:',
        '  - id: service',
        'channels:',
        '  - id: wa-main',
        '    kind: whatsapp-cloud',
        '    inbox: service',
        `    phoneNumberId: "${PNID}"`,
        `    businessAccountId: "${WABA}"`,
        '    accessToken: cli-access-token',
        '    appSecret: cli-app-secret-0123456789',
        '    verifyToken: cli-verify',
        `    graphBaseUrl: ${sim.url}`,
      ].join('\n'),
    );
    env = {
      SPARSAM_DATA_DIR: path.join(dir, 'data'),
      SPARSAM_CONFIG: configFile,
      SPARSAM_BASE_URL: 'https://inbox.autohaus-beispiel.de',
      SPARSAM_PORT: '19611',
    };
  }, 60_000);
  afterAll(async () => {
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('--sync --json fetches the templates from Meta and prints name, language, category and status', async () => {
    const before = await runCli(['channel', 'templates', 'wa-main', '--json'], env);
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout)).toEqual([]);
    const synced = await runCli(['channel', 'templates', 'wa-main', '--sync', '--json'], env);
    expect(synced.code, synced.stderr).toBe(0);
    const items = JSON.parse(synced.stdout) as Record<string, unknown>[];
    expect(items.map((t) => [t.name, t.language, t.category, t.status])).toEqual([
      ['herbstangebot', 'de', 'MARKETING', 'APPROVED'],
      ['termin_erinnerung', 'de', 'UTILITY', 'APPROVED'],
    ]);
    const table = await runCli(['channel', 'templates', 'wa-main'], env);
    expect(table.stdout).toMatch(/^NAME\s+LANG\s+CATEGORY\s+STATUS/m);
    expect(table.stdout).toMatch(/termin_erinnerung\s+de\s+UTILITY\s+APPROVED/);
    const unknown = await runCli(['channel', 'templates', 'nope', '--json'], env);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no channel with id "nope"');
  }, 90_000);

  it('doctor warns about a flagged number; webhook-url names the app-level URL', async () => {
    const sparsam = await createSparsam(loadConfig({ env }), { logger: createLogger({ level: 'silent' }) });
    try {
      await sparsam.businessAccount.apply({
        type: 'quality',
        channelId: 'wa-main',
        at: Date.now(),
        event: 'FLAGGED',
        messagingLimit: 'TIER_1K',
      });
    } finally {
      await sparsam.close();
    }
    const doctor = await runCli(['doctor'], env);
    expect(doctor.stdout + doctor.stderr).toMatch(/channel wa-main \(WhatsApp account health\).*flagged/i);
    const url = await runCli(['channel', 'webhook-url', 'wa-main'], env);
    expect(url.stdout.trim()).toBe('https://inbox.autohaus-beispiel.de/webhooks/whatsapp/wa-main');
    expect(url.stderr).toContain('https://inbox.autohaus-beispiel.de/webhooks/whatsapp\n');
  }, 90_000);
});
