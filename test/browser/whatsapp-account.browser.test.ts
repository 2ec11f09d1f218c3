import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt } from '../../web/build.mjs';
import { startSimulator, type WhatsAppSimulator } from '../../dev/simulator/whatsapp-simulator.ts';
import { loadConfig } from '../../src/config/config.ts';
import { startSparsam, type Sparsam } from '../../src/main.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { launchChromium } from './browser-support.ts';
import { hasTool } from '../support/tools.ts';

/**
 * The WhatsApp account in the admin screen, in Chromium against the simulator: the banner while Meta reports a
 * flagged number, "test connection", templates (sync, a new one with header, variables, footer and buttons and its
 * live preview, submitted to Meta), the business profile with the privacy-notice link; German at desktop size,
 * English at phone size. Screenshots go to SPARSAM_SCREENSHOTS (docs/screenshots) or a temp dir.
 */
const SHOTS = process.env.SPARSAM_SCREENSHOTS ?? path.join(process.env.TMPDIR ?? '/tmp', 'sparsam-shots');
const PASSWORD = 'werkstatt-admin-passwort';
const PNID = '106540352242922';
const WABA = '102290129340398';
const SECRET = 'wa-browser-app-secret-0123456789';
const TOKEN = 'EAAG-wa-browser-token-0123456789';

describe.skipIf(!hasTool('chromium'))('WhatsApp account admin screen in Chromium', () => {
  let sparsam: Sparsam;
  let sim: WhatsAppSimulator;
  let browser: Browser;
  let baseUrl = '';
  let dataDir = '';
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    await ensureWebBuilt();
    mkdirSync(SHOTS, { recursive: true });
    sim = await startSimulator({
      appSecret: SECRET,
      accessToken: TOKEN,
      phoneNumberId: PNID,
      verifyToken: 'wa-browser-verify',
      webhookUrl: 'http://127.0.0.1:9/',
      businessAccountId: WABA,
      templateReview: { delayMs: 300 },
      // The webhooks' times follow sparsam's clock (a login moves it on by a TOTP step).
      now: () => clock.now().getTime(),
      templates: [
        {
          name: 'termin_erinnerung',
          language: 'de',
          category: 'UTILITY',
          body: 'Ihr Termin ist am {{1}} um {{2}} Uhr.',
        },
        {
          name: 'herbstangebot',
          language: 'de',
          category: 'MARKETING',
          body: 'Im Herbst: {{1}}. Keine Werbung mehr? STOP.',
        },
      ],
      profile: { about: 'Ihr Autohaus in Berlin', websites: ['https://autohaus-beispiel.de'], vertical: 'AUTO' },
    });
    dataDir = mkdtempSync(path.join(tmpdir(), 'sparsam-wa-browser-'));
    const configFile = path.join(dataDir, 'sparsam.yaml');
    writeFileSync(
      configFile,
      [
        'organisation:',
        '  name: Autohaus Beispiel GmbH',
        '  contact: datenschutz@autohaus-beispiel.de',
        '  privacyNoticeUrl: https://autohaus-beispiel.de/datenschutz',
        'inboxes:',
        '  - id: service',
        'channels:',
        '  - id: wa-main',
        '    kind: whatsapp-cloud',
        '    inbox: service',
        `    phoneNumberId: "${PNID}"`,
        `    businessAccountId: "${WABA}"`,
        '    appId: "1234567890"',
        `    accessToken: ${TOKEN}`,
        `    appSecret: ${SECRET}`,
        '    verifyToken: wa-browser-verify',
        `    graphBaseUrl: ${sim.url}`,
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
    const started = await startSparsam(config, { clock, logger: createLogger({ level: 'warn' }) });
    sparsam = started.sparsam;
    baseUrl = started.address;
    sim.setWebhookUrl(`${baseUrl}/webhooks/whatsapp`);
    await sparsam.accounts.createUser({
      email: 'anna@autohaus-beispiel.de',
      password: PASSWORD,
      role: 'admin',
      language: 'de',
    });
    await sparsam.accounts.createUser({
      email: 'tom@autohaus-beispiel.de',
      password: PASSWORD,
      role: 'admin',
      language: 'en',
    });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await sparsam?.close();
    await sim?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** Logs in with TOTP enrolment (the recovery codes acknowledged) and opens the channels screen. */
  async function login(email: string, viewport: { width: number; height: number }, locale: string): Promise<Page> {
    const page = await (await browser.newContext({ viewport, locale })).newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(baseUrl);
    await page.locator('input[type=email]').fill(email);
    await page.locator('input[type=password]').fill(PASSWORD);
    await page.locator('form button[type=submit]').click();
    await page.locator('code.secret').waitFor();
    const secret = (await page.locator('code.secret').textContent())!;
    clock.advance(31_000);
    const code = new TOTP({ secret: Secret.fromBase32(secret.replace(/\s/g, '')), digits: 6, period: 30 }).generate({
      timestamp: clock.now().getTime(),
    });
    await page.locator('input[autocomplete="one-time-code"], input[inputmode="numeric"]').first().fill(code);
    await page.locator('form button[type=submit]').click();
    await page.locator('ul.codes').waitFor();
    await page.locator('button.btn-primary').last().click();
    await page.locator('nav.topnav').waitFor({ state: 'attached' });
    await page.goto(`${baseUrl}/admin/channels`);
    await page.locator('.channel-card').waitFor();
    return page;
  }

  it('German, desktop: banner, connection test, templates with preview, profile with privacy link', async () => {
    const flagged = await sim.sendAccountUpdate('phone_number_quality_update', {
      display_phone_number: '4930901820',
      event: 'FLAGGED',
      current_limit: 'TIER_1K',
    });
    expect(flagged.delivered).toBe(true);
    const page = await login('anna@autohaus-beispiel.de', { width: 1280, height: 800 }, 'de-DE');
    await page.locator('.banner-health').getByText('Nummer von Meta markiert (Qualität)').waitFor();
    await page.getByRole('button', { name: 'Verbindung testen' }).click();
    await page.getByText('Verbindung steht: sparsam Demo').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'wa-01-channel-health-de.png'), fullPage: true });

    await page.getByText('Vorlagen (WhatsApp-Templates)').click();
    await page.getByRole('button', { name: 'Mit Meta abgleichen' }).click();
    await page.getByText('2 Vorlagen von Meta abgeglichen.').waitFor();
    await page.getByRole('button', { name: 'Neue Vorlage' }).click();
    const form = page.getByRole('form', { name: 'Neue Vorlage' });
    await form.getByLabel('Name').fill('abholung_bereit');
    await form.getByLabel('Kopfzeile').selectOption('TEXT');
    await form.locator('input[maxlength="60"]').first().fill('Auftrag {{1}}');
    await form.getByPlaceholder('Beispiel für den Platzhalter der Kopfzeile').fill('4711');
    await form.getByLabel(/Text mit Platzhaltern/).fill('Guten Tag, Ihr Fahrzeug {{1}} ist ab {{2}} abholbereit.');
    await form.getByLabel('Beispiel für Platzhalter 1').fill('B-AB 123');
    await form.getByLabel('Beispiel für Platzhalter 2').fill('16 Uhr');
    await form.getByLabel('Fußzeile (optional, 60 Zeichen)').fill('Autohaus Beispiel');
    await form.getByRole('button', { name: '+ Schnellantwort' }).click();
    await form.getByPlaceholder('Beschriftung (25 Zeichen)').last().fill('Passt');
    await form.getByRole('button', { name: '+ Anruf' }).click();
    await form.getByPlaceholder('Beschriftung (25 Zeichen)').last().fill('Anrufen');
    await form.getByPlaceholder('+49…').fill('+4930123456');
    // The preview shows the examples filled in, as the customer will read it.
    await form
      .locator('.wa-preview-body')
      .getByText('Guten Tag, Ihr Fahrzeug B-AB 123 ist ab 16 Uhr abholbereit.')
      .waitFor();
    await form.locator('.wa-preview-header').getByText('Auftrag 4711').waitFor();
    await form.screenshot({ path: path.join(SHOTS, 'wa-02-template-form-de.png') });
    await form.getByRole('button', { name: 'Bei Meta einreichen' }).click();
    await page.getByText('Vorlage „abholung_bereit“ zur Prüfung eingereicht.').waitFor();
    expect(sim.templates().find((t) => t.name === 'abholung_bereit')?.status).toBeDefined();
    // Meta's approval arrives by webhook; the open list shows it without a reload.
    await page
      .locator('.wa-template', { hasText: 'abholung_bereit' })
      .locator('.chip', { hasText: 'APPROVED' })
      .waitFor({ timeout: 25_000 });
    await page.screenshot({ path: path.join(SHOTS, 'wa-03-templates-de.png'), fullPage: true });

    await page.getByText('Unternehmensprofil').click();
    await page.getByLabel('Info (1–139 Zeichen)').waitFor();
    await page.getByRole('button', { name: 'Link zu den Datenschutzhinweisen eintragen' }).click();
    await page.getByText('Link zu den Datenschutzhinweisen als Website eingetragen.').waitFor();
    expect(sim.profile().websites).toEqual([
      'https://autohaus-beispiel.de',
      'https://autohaus-beispiel.de/datenschutz',
    ]);
    await page.getByLabel('Info (1–139 Zeichen)').fill('Werkstatt und Verkauf, Mo–Fr 8–17 Uhr');
    await page.getByRole('button', { name: 'Profil speichern' }).click();
    await page.getByText('Profil gespeichert.').waitFor();
    expect(sim.profile().about).toBe('Werkstatt und Verkauf, Mo–Fr 8–17 Uhr');
    await page.locator('form[aria-label="Unternehmensprofil"]').screenshot({
      path: path.join(SHOTS, 'wa-04-profile-de.png'),
    });
    await page.context().close();
  }, 120_000);

  it('English, phone: the same screens fit 390 px and read in English', async () => {
    const page = await login('tom@autohaus-beispiel.de', { width: 390, height: 844 }, 'en-US');
    await page.locator('.banner-health').getByText('number flagged by Meta (quality)').waitFor();
    await page.getByText('Account health at Meta').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'wa-05-channel-health-en-phone.png'), fullPage: true });
    await page.getByText('Templates (WhatsApp)').click();
    await page.getByRole('button', { name: 'New template' }).click();
    await page.getByLabel(/Text with placeholders/).fill('Your car {{1}} is ready.');
    await page.getByLabel('Example for placeholder 1').fill('B-AB 123');
    await page.locator('.wa-preview-body').getByText('Your car B-AB 123 is ready.').waitFor();
    // The account's sections (health, template form with its preview) fit their card: nothing sticks out sideways.
    const overflow = await page
      .locator('.wa-account, .wa-template-form')
      .evaluateAll((els) =>
        Math.max(
          ...els.map(
            (e) =>
              (e as unknown as { scrollWidth: number; clientWidth: number }).scrollWidth -
              (e as unknown as { clientWidth: number }).clientWidth,
          ),
        ),
      );
    expect(overflow).toBeLessThanOrEqual(1);
    await page.screenshot({ path: path.join(SHOTS, 'wa-06-templates-en-phone.png'), fullPage: true });
    await page.getByText('Business profile').click();
    await page.getByLabel('About (1–139 characters)').waitFor();
    await page.locator('form[aria-label="Business profile"]').screenshot({
      path: path.join(SHOTS, 'wa-07-profile-en-phone.png'),
    });
    await page.context().close();
  }, 120_000);
});
