import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import nacl from 'tweetnacl';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt } from '../../../web/build.mjs';
import { ThreemaSimulator } from '../../../dev/simulator/threema-simulator.ts';
import { loadConfig } from '../../../src/config/config.ts';
import { startSparsam, type Sparsam } from '../../../src/main.ts';
import { ManualClock } from '../../../src/shared/clock.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { firstLogin, launchChromium } from '../../browser/browser-support.ts';
import { hasTool } from '../../support/tools.ts';

/** Screenshots go to SPARSAM_SCREENSHOTS (docs/screenshots when refreshing the documentation) or a temp dir. */
const SHOTS = process.env.SPARSAM_SCREENSHOTS ?? path.join(process.env.TMPDIR ?? '/tmp', 'sparsam-shots');
const PASSWORD = 'velowerkstatt-admin-1';
const CUSTOMER = 'K7PX2M4Q';

/**
 * The Threema channel's screens in Chromium: the admin sees the gateway's credits with a warning below the threshold,
 * and a message whose sender's key changed carries the notice, in German at desktop size and English at phone size.
 */
describe.skipIf(!hasTool('chromium'))('threema screens in Chromium', () => {
  let dataDir: string;
  let simulator: ThreemaSimulator;
  let sparsam: Sparsam;
  let baseUrl: string;
  let browser: Browser;
  let session: Awaited<ReturnType<BrowserContext['storageState']>> | undefined;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    await ensureWebBuilt();
    mkdirSync(SHOTS, { recursive: true });
    dataDir = mkdtempSync(path.join(tmpdir(), 'sparsam-threema-browser-'));
    const privateKey = Buffer.from(nacl.box.keyPair().secretKey).toString('hex');
    simulator = new ThreemaSimulator({
      gatewayId: '*SPARSAM',
      apiSecret: 'browser-secret',
      gatewayPrivateKey: privateKey,
    });
    await simulator.start(19170);
    simulator.customer(CUSTOMER, 'Jana');
    const yaml = `
organisation:
  name: Velowerkstatt Beispiel GmbH
  contact: datenschutz@velo.example
inboxes:
  - id: service
channels:
  - id: threema-main
    kind: threema
    inbox: service
    gatewayId: "*SPARSAM"
    apiSecret: browser-secret
    privateKey: env:THREEMA_PRIVATE_KEY
    apiBaseUrl: ${simulator.url}
`;
    const config = loadConfig({
      env: {
        SPARSAM_DATA_DIR: dataDir,
        SPARSAM_PORT: '19120',
        SPARSAM_HOST: '127.0.0.1',
        SPARSAM_CONFIG: '/virtual/sparsam.yaml',
        SPARSAM_LOG_LEVEL: 'silent',
        THREEMA_PRIVATE_KEY: privateKey,
      },
      readFile: () => yaml,
    });
    const started = await startSparsam(config, { clock, logger: createLogger({ level: 'silent' }) });
    sparsam = started.sparsam;
    baseUrl = started.address.replace('://0.0.0.0', '://127.0.0.1');
    simulator.webhookUrl = `${baseUrl}/webhooks/threema/threema-main`;
    await sparsam.accounts.createUser({
      email: 'vera@velo.example',
      password: PASSWORD,
      role: 'admin',
      displayName: 'Vera Velo',
    });
    expect(await simulator.deliver(simulator.textCallback(CUSTOMER, 'Ist mein Velo fertig?'))).toBe(200);
    await sparsam.jobs.drain();
    expect(await simulator.deliver(simulator.textCallback(CUSTOMER, 'JA'))).toBe(200);
    simulator.rotateKey(CUSTOMER);
    expect(await simulator.deliver(simulator.textCallback(CUSTOMER, 'Neues Handy, gleiche ID.'))).toBe(200);
    // The confirmation after the customer agreed goes out before the balance is set.
    await sparsam.jobs.drain();
    simulator.credits = 42;
    browser = await launchChromium();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await sparsam?.close();
    await simulator?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows the credits with a warning and the key change on the message (German, desktop)', async () => {
    const page = await (
      await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'de-DE' })
    ).newPage();
    page.setDefaultTimeout(15_000);
    await firstLogin(page, { baseUrl, clock }, 'vera@velo.example', PASSWORD);
    // The English view below continues this session (a second TOTP login would need the next time step).
    session = await page.context().storageState();
    await page.goto(`${baseUrl}/admin/channels`);
    await page.getByTestId('credits-threema-main').getByText('42 Credits', { exact: true }).waitFor();
    await page.getByText(/Nur noch 42 Credits \(Warnschwelle 100\)/).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'threema-01-admin-credits-de.png') });

    await page.goto(`${baseUrl}/inbox`);
    await page.locator('.conv-item').first().click();
    await page.locator('.msg', { hasText: 'Neues Handy, gleiche ID.' }).waitFor();
    const notice = page.getByText(/Der Threema-Schlüssel dieses Kunden hat sich geändert/);
    await notice.waitFor();
    expect(await notice.count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'threema-02-key-changed-de.png') });
    await page.context().close();
  });

  it('shows the same in English at phone size', async () => {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      locale: 'en-US',
      ...(session ? { storageState: session } : {}),
    });
    // The inbox keeps the language chosen in its language switch.
    await context.addInitScript(() =>
      (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem(
        'sparsam.lang',
        'en',
      ),
    );
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(baseUrl);
    // The account's language (German, chosen at the first login) wins after login: switch it to English.
    await page.locator('nav').first().waitFor({ state: 'attached' });
    await page.goto(`${baseUrl}/account`);
    await page.getByLabel(/^(Sprache|Language)$/).selectOption('en');
    await page
      .getByRole('button', { name: /^(Speichern|Save)$/ })
      .first()
      .click();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    await page.goto(`${baseUrl}/admin/channels`);
    await page.getByTestId('credits-threema-main').getByText('42 credits', { exact: true }).waitFor();
    await page.getByText(/Only 42 credits left \(warning below 100\)/).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'threema-03-admin-credits-en-phone.png'), fullPage: true });
    await page.goto(`${baseUrl}/inbox`);
    await page.locator('.conv-item').first().click();
    await page.getByText("This customer's Threema key changed", { exact: false }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'threema-04-key-changed-en-phone.png') });
    await page.context().close();
  });
});
