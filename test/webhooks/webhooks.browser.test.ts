import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt } from '../../web/build.mjs';
import { ManualClock } from '../../src/shared/clock.ts';
import { WebhookStore } from '../../src/store/sql/webhook.store.ts';
import { launchChromium } from '../browser/browser-support.ts';
import { startWorld, type World } from '../inbox/inbox-world.ts';
import { hasTool } from '../support/tools.ts';

const PASSWORD = 'webhook-admin-passwort';
/** Screenshots go to SPARSAM_SCREENSHOTS (docs/screenshots when refreshing the documentation) or a temp dir. */
const SHOTS = process.env.SPARSAM_SCREENSHOTS ?? path.join(process.env.TMPDIR ?? '/tmp', 'sparsam-shots');

/**
 * The admin's webhook screen in Debian Chromium: add an on-premise endpoint through the form (the secret is shown
 * once), send a test to a local receiver, read the delivery log, see the banner of an endpoint paused after failures,
 * in German and English, at desktop and phone size.
 */
describe.skipIf(!hasTool('chromium'))('webhook admin screen in Chromium', () => {
  let w: World;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let receiver: Server;
  let hits = 0;

  beforeAll(async () => {
    await ensureWebBuilt();
    w = await startWorld('sqlite', { clock: new ManualClock(Date.now()) });
    baseUrl = await w.sparsam.http.listen({ port: 19350, host: '127.0.0.1' });
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        hits += 1;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(19351, '127.0.0.1', resolve));
    await w.sparsam.accounts.createUser({
      email: 'chefin@autohaus-beispiel.de',
      password: PASSWORD,
      role: 'admin',
      displayName: 'Chefin',
    });
    // A second endpoint that has been failing: paused, so that the admins' banner shows.
    const failing = await w.sparsam.webhooks.create(
      {
        name: 'Ticketsystem',
        url: 'https://tickets.example.org/hooks/sparsam',
        inboxId: 'service',
        events: ['conversation.opened', 'conversation.closed'],
        allowPrivateTarget: false,
        includeContent: false,
        legalBasis: null,
        legalBasisNote: null,
      },
      'system',
    );
    const now = w.clock.now().getTime();
    await new WebhookStore(w.sparsam.store.db).update(failing.endpoint.id, {
      state: 'paused',
      paused_reason: 'failures',
      paused_at: now,
      failing_since: now - 25 * 3_600_000,
      consecutive_failures: 8,
    });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'de-DE' })).newPage();
    page.setDefaultTimeout(15_000);
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
    await w?.close();
  });

  it('adds an endpoint, shows its secret once, sends a test and shows the log, in German and English', async () => {
    await page.goto(baseUrl);
    await page.getByLabel('E-Mail-Adresse').fill('chefin@autohaus-beispiel.de');
    await page.getByLabel('Passwort').fill(PASSWORD);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.locator('code.secret').waitFor();
    const totp = (await page.locator('code.secret').textContent())!.replace(/\s/g, '');
    const code = new TOTP({ secret: Secret.fromBase32(totp), digits: 6, period: 30 }).generate({
      timestamp: w.clock.now().getTime(),
    });
    await page.getByLabel('Code').fill(code);
    await page.getByRole('button', { name: 'Bestätigen' }).click();
    await page.getByRole('button', { name: 'Ich habe die Codes gesichert' }).click();

    // The paused endpoint is announced on the admin start page.
    await page.goto(`${baseUrl}/admin/users`);
    await page.getByText(/Ein Webhook-Endpunkt wurde nach anhaltenden Fehlern pausiert: Ticketsystem/).waitFor();
    await page.getByRole('link', { name: 'Zu den Webhooks' }).click();
    await page.getByRole('heading', { name: 'Ausgehende Webhooks' }).waitFor();

    await page.getByLabel('Name').fill('n8n intern');
    await page.getByLabel('Ziel-URL').fill('http://127.0.0.1:19351/webhook/sparsam');
    await page.getByLabel('On-Premise-Ziel erlauben (localhost, privates Netz, http)').check();
    await page.getByLabel('Nachricht gesendet').check();
    await page.getByLabel('Einwilligung widerrufen').check();
    await page.getByRole('button', { name: 'Hinzufügen' }).click();
    const secret = await page.locator('.secret-card code').textContent();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{44}$/);
    await page.getByText('Dieser Schlüssel wird nur jetzt angezeigt.', { exact: false }).waitFor();
    await page.getByRole('button', { name: 'Ich habe ihn gespeichert' }).click();
    expect(await page.content()).not.toContain(secret!);

    const card = page.locator('.webhook-card', { has: page.getByRole('heading', { name: /n8n intern/ }) });
    await card.getByRole('button', { name: 'Test senden' }).click();
    await card.getByText(/Test zugestellt: HTTP 204 in \d+ ms\./).waitFor();
    expect(hits).toBe(1);
    await card.getByRole('button', { name: 'Protokoll' }).click();
    await card.locator('table tbody tr', { hasText: 'webhook.test' }).waitFor();
    expect(await card.locator('table tbody tr').first().textContent()).toContain('zugestellt');

    mkdirSync(SHOTS, { recursive: true });
    // The inbox scrolls inside its main area: screenshots of the top of the screen and of the card with its log.
    const top = async () => {
      await page.locator('main').evaluate((el) => ((el as unknown as { scrollTop: number }).scrollTop = 0));
      await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
    };
    type Scrollable = { scrollIntoView(o: { block: string }): void };
    const show = (l: ReturnType<Page['locator']>) =>
      l.evaluate((el) => (el as unknown as Scrollable).scrollIntoView({ block: 'start' }));
    await top();
    await page.screenshot({ path: path.join(SHOTS, '30-admin-webhooks.png') });
    await show(card);
    await page.screenshot({ path: path.join(SHOTS, '30-admin-webhooks-log.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await top();
    await page.screenshot({ path: path.join(SHOTS, '30-admin-webhooks-phone.png') });
    await show(card.locator('.row.wrap'));
    await page.screenshot({ path: path.join(SHOTS, '30-admin-webhooks-log-phone.png') });
    // Nothing wider than the phone: the page does not scroll sideways.
    const overflow = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement
          .scrollWidth,
    );
    expect(overflow).toBeLessThanOrEqual(390);

    // English: the admin switches her language in the account screen.
    await page.goto(`${baseUrl}/account`);
    await page.getByLabel('Sprache').selectOption('en');
    await page
      .locator('form', { has: page.getByLabel('Sprache') })
      .getByRole('button', { name: 'Speichern' })
      .click();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    await page.goto(`${baseUrl}/admin/webhooks`);
    await page.getByRole('heading', { name: 'Outgoing webhooks' }).waitFor();
    await page.getByText(/A webhook endpoint was paused after persistent failure: Ticketsystem/).waitFor();
    const enCard = page.locator('.webhook-card', { has: page.getByRole('heading', { name: /n8n intern/ }) });
    await enCard.getByRole('button', { name: 'Log' }).click();
    await enCard.locator('table tbody tr', { hasText: 'delivered' }).waitFor();
    // The content permission needs the legal basis: the select and the reason appear with the box.
    await page.getByLabel('Send message text').check();
    await page.getByLabel('Legal basis (Art. 6(1) GDPR)').waitFor();
    const form = page.locator('form.webhook-form');
    await show(page.getByRole('group', { name: 'Message content' }));
    await page.screenshot({ path: path.join(SHOTS, '31-admin-webhooks-form-en-phone.png') });
    await top();
    await page.screenshot({ path: path.join(SHOTS, '31-admin-webhooks-en-phone.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
    await top();
    await page.screenshot({ path: path.join(SHOTS, '31-admin-webhooks-en.png') });
    await show(form);
    await page.screenshot({ path: path.join(SHOTS, '31-admin-webhooks-form-en.png') });
  }, 120_000);
});
