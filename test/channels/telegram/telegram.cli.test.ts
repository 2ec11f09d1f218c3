import { spawn } from 'node:child_process';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerChannelCommands } from '../../../src/cli/channel.commands.ts';
import { loadConfig, type AppConfig } from '../../../src/config/config.ts';
import { TelegramSimulator } from '../../../dev/simulator/telegram-simulator.ts';

const BIN = path.resolve('bin/sparsam.js');
const TOKEN = '7000000003:AAH-cli-test-token';

function yaml(apiBaseUrl: string): string {
  return `
inboxes:
  - id: service
channels:
  - id: tg-main
    kind: telegram
    inbox: service
    botToken: env:TG_TOKEN
    secretToken: cli_secret-token
    apiBaseUrl: ${apiBaseUrl}
  - id: sms-main
    kind: sms
    inbox: service
    accountSid: AC0123456789abcdef0123456789abcdef
    authToken: twilio-token
    fromNumber: "+4915112345678"
  - id: fb-main
    kind: messenger
    inbox: service
    pageId: "1234567890"
    pageAccessToken: page-token
    appSecret: app-secret
    verifyToken: verify-token
`;
}

describe('sparsam channel (CLI)', () => {
  const simulator = new TelegramSimulator(TOKEN);
  let config: AppConfig;
  const out: string[] = [];
  const err: string[] = [];

  beforeAll(async () => {
    await simulator.start();
    config = loadConfig({
      env: {
        SPARSAM_CONFIG: '/virtual/sparsam.yaml',
        SPARSAM_BASE_URL: 'https://inbox.example.org',
        TG_TOKEN: TOKEN,
      },
      readFile: () => yaml(simulator.url),
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    out.length = 0;
    err.length = 0;
  });
  afterAll(async () => {
    await simulator.stop();
  });

  /** Runs `sparsam channel …` in process; resolves with the error the command failed with, if any. */
  async function run(...args: string[]): Promise<Error | undefined> {
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    const program = new Command('sparsam').exitOverride();
    registerChannelCommands(program, () => config);
    try {
      await program.parseAsync(['node', 'sparsam', 'channel', ...args]);
      return undefined;
    } catch (error) {
      return error as Error;
    }
  }

  it('set-webhook registers <baseUrl>/webhooks/telegram/<id> with the secret token', async () => {
    expect(await run('set-webhook', 'tg-main')).toBeUndefined();
    expect(out).toEqual(['webhook set: https://inbox.example.org/webhooks/telegram/tg-main']);
    expect(simulator.webhook).toEqual({
      url: 'https://inbox.example.org/webhooks/telegram/tg-main',
      secretToken: 'cli_secret-token',
    });
    expect(simulator.calls.at(-1)?.params.secret_token).toBe('cli_secret-token');
  });

  it('set-webhook reports a refusal by Telegram in one line without the bot token', async () => {
    simulator.failNext('setWebhook', {
      error_code: 400,
      description: 'Bad Request: bad webhook: Failed to resolve host',
    });
    const error = await run('set-webhook', 'tg-main');
    expect(error?.message).toBe('Telegram refused: Bad Request: bad webhook: Failed to resolve host');
    expect(error?.message).not.toContain(TOKEN);
  });

  it('webhook-info shows the registered URL and whether it is the expected one', async () => {
    simulator.setWebhook('https://old.example.org/hook', 'x');
    expect(await run('webhook-info', 'tg-main')).toBeUndefined();
    expect(out[0]).toBe(
      'url: https://old.example.org/hook (expected https://inbox.example.org/webhooks/telegram/tg-main)',
    );
  });

  it('set-webhook explains where the URL goes for channels configured in the provider console', async () => {
    const error = await run('set-webhook', 'sms-main');
    expect(error?.message).toContain('https://inbox.example.org/webhooks/sms/sms-main');
    expect(error?.message).toContain('Twilio Console');
  });

  it('webhook-url prints the URL for every kind; an unknown id names the configured ones', async () => {
    expect(await run('webhook-url', 'fb-main')).toBeUndefined();
    expect(out).toEqual(['https://inbox.example.org/webhooks/messenger/fb-main']);
    expect(err[0]).toContain('Messenger > Settings > Webhooks');
    const error = await run('webhook-url', 'nope');
    expect(error?.message).toContain('configured: tg-main, sms-main, fb-main');
  });

  it('is registered in the sparsam command line', { timeout: 120_000 }, async () => {
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'channel', '--help'], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
      });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.on('close', (code) => resolve({ code, stdout }));
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('set-webhook');
    expect(result.stdout).toContain('webhook-url');
  });
});
