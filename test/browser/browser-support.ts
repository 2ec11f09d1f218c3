import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config/config.ts';
import { startSparsam, type Sparsam } from '../../src/main.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { startSimulator, type WhatsAppSimulator } from '../../dev/simulator/whatsapp-simulator.ts';
import { toolPath } from '../support/tools.ts';
import { addConversation } from '../privacy/fixtures.ts';

export const PHONE_NUMBER_ID = '106540352242922';
export const APP_SECRET = 'browser-test-app-secret-0123456789';
export const ACCESS_TOKEN = 'EAAG-browser-test-token-0123456789';
export const VERIFY_TOKEN = 'browser-test-verify-token-xyz';

/**
 * The simulator answers the Graph API calls sparsam makes when sending and fetching media, but not the read of the
 * phone number the admin's "test connection" makes (GET /{version}/{phone-number-id}). This pass-through adds that
 * one answer (with the same Bearer check) and forwards every other call to the simulator unchanged.
 */
async function startGraphFront(simulatorUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://front');
        if (req.method === 'GET' && url.pathname.endsWith(`/${PHONE_NUMBER_ID}`)) {
          const ok = req.headers.authorization === `Bearer ${ACCESS_TOKEN}`;
          res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
          return res.end(
            JSON.stringify(ok ? { verified_name: 'Autohaus Beispiel', id: PHONE_NUMBER_ID } : { error: { code: 190 } }),
          );
        }
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter(
            ([k, v]) => typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k),
          ),
        ) as Record<string, string>;
        const upstream = await fetch(`${simulatorUrl}${url.pathname}${url.search}`, {
          method: req.method,
          headers,
          body: ['GET', 'HEAD'].includes(req.method ?? 'GET') ? undefined : Buffer.concat(chunks),
        });
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await upstream.arrayBuffer()));
      })().catch(() => {
        res.writeHead(502).end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface Stack {
  sparsam: Sparsam;
  baseUrl: string;
  phone: WhatsAppSimulator;
  clock: ManualClock;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * sparsam on a fresh SQLite data dir, listening on a free port, with one WhatsApp channel wired to the phone; with
 * `admin`, an admin account that has not logged in yet (firstLogin enrols its second factor).
 */
export async function startStack(
  options: { admin?: { email: string; password: string; displayName: string } } = {},
): Promise<Stack> {
  const clock = new ManualClock(Date.now());
  const phone = await startSimulator({
    appSecret: APP_SECRET,
    accessToken: ACCESS_TOKEN,
    phoneNumberId: PHONE_NUMBER_ID,
    webhookUrl: 'http://127.0.0.1:9/',
    verifyToken: VERIFY_TOKEN,
    statusDelayMs: 1200,
    now: () => clock.now().getTime(),
  });
  const front = await startGraphFront(phone.url);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sparsam-browser-'));
  const configFile = path.join(dataDir, 'sparsam.yaml');
  writeFileSync(
    configFile,
    [
      'organisation:',
      '  name: Autohaus Beispiel GmbH',
      '  contact: datenschutz@example.org',
      'inboxes:',
      '  - id: service',
      '    labelPrefix: Anfrage',
      '    retention: { eraseAfterCloseDays: 0 }',
      'channels:',
      '  - id: wa-main',
      '    kind: whatsapp-cloud',
      '    inbox: service',
      `    phoneNumberId: "${PHONE_NUMBER_ID}"`,
      `    accessToken: ${ACCESS_TOKEN}`,
      `    appSecret: ${APP_SECRET}`,
      `    verifyToken: ${VERIFY_TOKEN}`,
      `    graphBaseUrl: ${front.url}`,
      '    templates:',
      '      - name: termin_erinnerung',
      '        language: de',
      '        body: "Guten Tag, Ihr Termin ist am {{1}}. Antworten Sie gern auf diese Nachricht."',
    ].join('\n'),
  );
  const config = loadConfig({
    env: {
      SPARSAM_DATA_DIR: dataDir,
      SPARSAM_CONFIG: configFile,
      SPARSAM_PORT: '0',
      SPARSAM_HOST: '127.0.0.1',
      SPARSAM_BASE_URL: 'https://inbox.autohaus-beispiel.de',
    },
  });
  const { sparsam, address } = await startSparsam(config, { clock, logger: createLogger({ level: 'warn' }) });
  phone.setWebhookUrl(`${address}/webhooks/whatsapp/wa-main`);
  if (options.admin) await sparsam.accounts.createUser({ ...options.admin, role: 'admin' });
  return {
    sparsam,
    baseUrl: address,
    phone,
    clock,
    dataDir,
    async close() {
      await sparsam.close();
      await phone.close();
      await front.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Headless Chromium; a suite that calls this skips itself where it is missing: `describe.skipIf(!hasTool('chromium'))`. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: toolPath('chromium'),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}

/** The TOTP code of a base32 secret at a time (the enrolment screen shows the secret). */
export function totpAt(secret: string, timestamp: number): string {
  return new TOTP({ secret: Secret.fromBase32(secret.replace(/\s/g, '')), digits: 6, period: 30 }).generate({
    timestamp,
  });
}

/**
 * Logs a staff member in for the first time in German: password, TOTP enrolment, recovery codes acknowledged.
 * Answers the TOTP secret (for later logins).
 */
export async function firstLogin(
  page: Page,
  stack: Pick<Stack, 'baseUrl' | 'clock'>,
  email: string,
  password: string,
): Promise<string> {
  await page.goto(stack.baseUrl);
  await page.getByLabel('E-Mail-Adresse').fill(email);
  await page.getByLabel('Passwort').fill(password);
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.getByRole('heading', { name: 'Zwei-Faktor-Anmeldung einrichten' }).waitFor();
  const secret = (await page.locator('code.secret').textContent())!;
  await page.getByLabel('Code').fill(totpAt(secret, stack.clock.now().getTime()));
  await page.getByRole('button', { name: 'Bestätigen' }).click();
  await page.getByRole('button', { name: 'Ich habe die Codes gesichert' }).click();
  await page.getByRole('navigation', { name: 'Hauptnavigation' }).waitFor({ state: 'attached' });
  return secret.replace(/\s/g, '');
}

/** A same-origin API call from the signed-in page (session cookie and CSRF token, as the inbox sends them). */
export async function apiCall<Reply = unknown>(
  page: Page,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; json: Reply }> {
  return page.evaluate(
    async ({ method, url, body }) => {
      const csrf = ((await (await fetch('/api/v1/auth/session')).json()) as { csrfToken: string }).csrfToken;
      const res = await fetch(url, {
        method,
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json().catch(() => null)) as Reply };
    },
    { method, url, body },
  );
}

/**
 * One consented conversation per text on the stack's WhatsApp channel, a minute apart, the first text the newest
 * (it heads the list); phone numbers `<phonePrefix>000`, `…001`, …. Answers the conversation ids in the texts' order.
 */
export async function seedConversations(
  stack: Stack,
  texts: readonly string[],
  phonePrefix: string,
): Promise<string[]> {
  const { store, keys, directory } = stack.sparsam;
  const start = stack.clock.now().getTime() - texts.length * 60_000;
  const ids: string[] = [];
  for (const [i, text] of texts.entries()) {
    const r = await addConversation(store, keys, directory, stack.clock, {
      inboxId: 'service',
      channelId: 'wa-main',
      phone: `${phonePrefix}${String(i).padStart(3, '0')}`,
      texts: [text],
      lastActivityAt: start + (texts.length - i) * 60_000,
    });
    ids.push(r.conversation.id);
  }
  return ids;
}
