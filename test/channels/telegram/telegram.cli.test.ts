import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TelegramSimulator } from '../../../src/simulator/telegram-simulator.ts';

const BIN = path.resolve('bin/sparsam.js');
const TOKEN = '7000000003:AAH-cli-test-token';

function run(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('sparsam channel (CLI)', () => {
  const simulator = new TelegramSimulator(TOKEN);
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    await simulator.start();
    dir = mkdtempSync(path.join(tmpdir(), 'sparsam-channel-cli-'));
    const file = path.join(dir, 'sparsam.yaml');
    writeFileSync(
      file,
      `
inboxes:
  - id: service
channels:
  - id: tg-main
    kind: telegram
    inbox: service
    botToken: env:TG_TOKEN
    secretToken: cli_secret-token
    apiBaseUrl: ${simulator.url}
  - id: sms-main
    kind: sms
    inbox: service
    accountSid: AC0123456789abcdef0123456789abcdef
    authToken: env:TWILIO_TOKEN
    fromNumber: "+4915112345678"
  - id: fb-main
    kind: messenger
    inbox: service
    pageId: "1234567890"
    pageAccessToken: page-token
    appSecret: app-secret
    verifyToken: verify-token
`,
    );
    env = {
      SPARSAM_CONFIG: file,
      SPARSAM_DATA_DIR: path.join(dir, 'data'),
      SPARSAM_BASE_URL: 'https://inbox.example.org',
      TG_TOKEN: TOKEN,
      TWILIO_TOKEN: 'twilio-token',
    };
  });
  afterAll(async () => {
    await simulator.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('set-webhook registers <baseUrl>/webhooks/telegram/<id> with the secret token', async () => {
    const result = await run(['channel', 'set-webhook', 'tg-main'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('webhook set: https://inbox.example.org/webhooks/telegram/tg-main');
    expect(simulator.webhook).toEqual({
      url: 'https://inbox.example.org/webhooks/telegram/tg-main',
      secretToken: 'cli_secret-token',
    });
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
    // Configuration only: no data dir is created by this command.
    expect(existsSync(path.join(dir, 'data'))).toBe(false);
  });

  it('set-webhook reports a refusal by Telegram on one line without the bot token, exit 1', async () => {
    simulator.failNext('setWebhook', {
      error_code: 400,
      description: 'Bad Request: bad webhook: Failed to resolve host',
    });
    const result = await run(['channel', 'set-webhook', 'tg-main'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Telegram refused: Bad Request: bad webhook: Failed to resolve host');
    expect(result.stderr).not.toContain(TOKEN);
  });

  it('set-webhook explains where the URL goes for channels configured in the provider console', async () => {
    const result = await run(['channel', 'set-webhook', 'sms-main'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('https://inbox.example.org/webhooks/sms/sms-main');
    expect(result.stderr).toContain('Twilio Console');
  });

  it('webhook-url prints the URL for every kind, and an unknown id names the configured ones', async () => {
    const fb = await run(['channel', 'webhook-url', 'fb-main'], env);
    expect(fb.code).toBe(0);
    expect(fb.stdout.trim()).toBe('https://inbox.example.org/webhooks/messenger/fb-main');
    const unknown = await run(['channel', 'webhook-url', 'nope'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('configured: tg-main, sms-main, fb-main');
  });
});
