import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt } from '../../web/build.mjs';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { launchChromium, startStack, type Stack } from '../browser/browser-support.ts';
import { hasTool } from '../support/tools.ts';

const PASSWORD = 'datenschutz-passwort-1';
/** Screenshots go to SPARSAM_SCREENSHOTS (docs/screenshots when refreshing the documentation) or a temp dir. */
const SHOTS = process.env.SPARSAM_SCREENSHOTS ?? path.join(process.env.TMPDIR ?? '/tmp', 'sparsam-shots');
const CUSTOMER = '4915112345678';

/**
 * The data protection officer's screens in Debian Chromium: a DPO logs in, sees the audit log and verifies it, exports
 * a customer's data, records a breach with its countdown, and reads the record of processing, in German and English.
 */
describe.skipIf(!hasTool('chromium'))('data protection screens in Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  const eventRequests: string[] = [];

  beforeAll(async () => {
    await ensureWebBuilt();
    stack = await startStack();
    await stack.sparsam.accounts.createUser({
      email: 'dora@autohaus-beispiel.de',
      password: PASSWORD,
      role: 'dpo',
      displayName: 'Dora Datenschutz',
    });
    // A customer writes and agrees, so that there is something to export.
    const first = await stack.phone.sendCustomerMessage({
      from: CUSTOMER,
      text: 'Ich möchte einen Termin für die Inspektion',
    });
    expect(first.delivered).toBe(true);
    const end = Date.now() + 30_000;
    while (!stack.phone.sentMessages().some((m) => m.to === CUSTOMER && (m.buttons?.length ?? 0) > 0)) {
      if (Date.now() > end) throw new Error('the privacy notice did not reach the phone');
      await new Promise((r) => setTimeout(r, 100));
    }
    const agreed = await stack.phone.sendCustomerMessage({
      from: CUSTOMER,
      buttonReply: { id: CONSENT_AGREE_ID, title: 'Zustimmen' },
    });
    expect(agreed.delivered).toBe(true);
    browser = await launchChromium();
    const context = await browser.newContext({
      viewport: { width: 1366, height: 900 },
      locale: 'de-DE',
      acceptDownloads: true,
    });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('lands the DPO on the audit log, verifies the chain and offers the CSV', async () => {
    // The live event stream serves the inbox's roles; the DPO's browser does not ask for it (it would answer 403).
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/v1/events') eventRequests.push(request.url());
    });
    await page.goto(stack.baseUrl);
    await page.getByLabel('E-Mail-Adresse').fill('dora@autohaus-beispiel.de');
    await page.getByLabel('Passwort').fill(PASSWORD);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    // The data protection officer can export anyone's data, so a second factor is required, as for admins.
    await page.locator('code.secret').waitFor();
    const secret = (await page.locator('code.secret').textContent())!.replace(/\s/g, '');
    const code = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({
      timestamp: stack.clock.now().getTime(),
    });
    await page.getByLabel('Code').fill(code);
    await page.getByRole('button', { name: 'Bestätigen' }).click();
    await page.getByRole('button', { name: 'Ich habe die Codes gesichert' }).click();
    await page.getByRole('heading', { name: 'Prüfprotokoll' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/compliance/audit');
    // Actions in words, with date and time, the customer's channel as the actor; a category filter finds them all.
    const grant = page.locator('tr', { has: page.getByRole('cell', { name: 'Einwilligung erteilt', exact: true }) });
    await grant.first().waitFor();
    expect(await grant.first().textContent()).toMatch(/\d{1,2}\.\d{1,2}\.\d{4}, \d{2}:\d{2}:\d{2}/);
    expect(await grant.first().textContent()).toContain('Kunde über');
    expect(await grant.first().textContent()).toMatch(/Anfrage \d+/);
    await page.getByRole('combobox', { name: /^Bereich/ }).selectOption({ label: 'Einwilligung' });
    await page.getByRole('button', { name: 'Filtern' }).click();
    await expect
      .poll(async () => {
        const actions = await page.locator('.audit-table tbody tr td:nth-child(4)').allTextContents();
        return actions.length > 0 && actions.every((a) => a.startsWith('Einwilligung'));
      })
      .toBe(true);
    // The buttons keep their own height beside the filter fields.
    const height = await page
      .getByRole('button', { name: 'Filtern' })
      .evaluate(
        (el) => (el as unknown as { getBoundingClientRect(): { height: number } }).getBoundingClientRect().height,
      );
    expect(height).toBeLessThan(60);
    mkdirSync(SHOTS, { recursive: true });
    for (const [name, size] of [
      ['20-audit-log', { width: 1280, height: 800 }],
      ['20-audit-log-phone', { width: 390, height: 844 }],
    ] as const) {
      await page.setViewportSize(size);
      await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
    }
    await page.setViewportSize({ width: 1366, height: 900 });
    await page.getByRole('button', { name: 'Kette prüfen' }).click();
    await page.getByText(/Prüfprotokoll unversehrt: \d+ Einträge geprüft/).waitFor();
    const csv = await page.getByRole('link', { name: 'CSV herunterladen' }).getAttribute('href');
    expect(csv).toMatch(/^\/api\/v1\/compliance\/audit\.csv/);
    await page.reload();
    await page.getByRole('heading', { name: 'Prüfprotokoll' }).waitFor();
    expect(eventRequests).toEqual([]);
  }, 60_000);

  it('exports one customer as JSON, with the decrypted text', async () => {
    await page.getByRole('link', { name: 'Auskunft & Löschung' }).click();
    await page.getByLabel('Telefonnummer bzw. Chat-ID').fill(`+${CUSTOMER}`);
    // An export reads every text of the person: it waits for the request it answers.
    const exportButton = page.getByRole('button', { name: 'Export (JSON) herunterladen' });
    expect(await exportButton.isDisabled()).toBe(true);
    await page.getByLabel(/^Begründung/).fill('Auskunftsersuchen per Brief, Vorgang 17');
    expect(await exportButton.isDisabled()).toBe(false);
    mkdirSync(SHOTS, { recursive: true });
    for (const [name, size] of [
      ['21-dsar-reason', { width: 1280, height: 800 }],
      ['21-dsar-reason-phone', { width: 390, height: 844 }],
    ] as const) {
      await page.setViewportSize(size);
      await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1366, height: 900 });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export (JSON) herunterladen' }).click(),
    ]);
    const file = await download.path();
    const bundle = JSON.parse(readFileSync(file, 'utf8'));
    expect(bundle.subject.address).toBe(CUSTOMER);
    expect(JSON.stringify(bundle.conversations)).toContain('Ich möchte einen Termin für die Inspektion');
    // The summary for the customer opens in a new tab to be read and printed.
    const [summary] = await Promise.all([
      page.context().waitForEvent('page'),
      page.getByRole('button', { name: /Zusammenfassung \(HTML\) öffnen/ }).click(),
    ]);
    await summary.waitForLoadState();
    expect(summary.url()).toMatch(/^blob:/);
    expect(await summary.title()).not.toBe('');
    await summary.close();
    // No data for an address reads in German, not in the server's English.
    await page.getByLabel('Telefonnummer bzw. Chat-ID').fill('+4915199999999');
    await page.getByRole('button', { name: 'Export (JSON) herunterladen' }).click();
    await page.getByText('sparsam hat zu dieser Adresse auf diesem Kanal keine Daten.').waitFor();
    expect(await page.content()).not.toContain('holds no data');
  }, 60_000);

  it('records a breach and shows the 72-hour countdown', async () => {
    await page.getByRole('link', { name: 'Datenpannen' }).click();
    await page.getByLabel('Beschreibung (intern)').fill('USB-Stick mit Exporten verloren');
    await page.getByLabel('Betroffene Pseudonyme (durch Komma getrennt)').fill('Anfrage 1');
    await page.getByRole('button', { name: 'Erfassen' }).click();
    await page.getByRole('cell', { name: /USB-Stick mit Exporten verloren/ }).waitFor();
    await page.getByText(/noch (71|72) Std\./).waitFor();
    await page.getByRole('button', { name: 'Als gemeldet markieren' }).click();
    await page.getByText(/gemeldet am/).waitFor();
  }, 60_000);

  it('shows the record of processing with the configured processor, also in English', async () => {
    await page.getByRole('link', { name: 'Verzeichnis & Hinweise' }).click();
    await page
      .getByText(/Meta Platforms Ireland Limited/)
      .first()
      .waitFor();
    // The preview is rendered, not raw Markdown: headings are headings, tables are tables.
    const preview = page.locator('article.doc-preview');
    await preview.getByRole('heading', { name: 'Verzeichnis von Verarbeitungstätigkeiten' }).waitFor();
    expect(await preview.locator('table').count()).toBeGreaterThan(0);
    expect(await preview.textContent()).not.toMatch(/^#|\| --- \||\*\*/m);
    await page.getByRole('combobox', { name: 'Sprache' }).last().selectOption('en');
    await preview.getByRole('heading', { name: 'Record of processing activities' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'dpo-documents-preview-en.png'), fullPage: false });
    const href = await page.getByRole('link', { name: 'Herunterladen' }).getAttribute('href');
    expect(href).toBe('/api/v1/compliance/ropa?lang=en&format=md');
  }, 60_000);

  it('shows content-free statistics of the period', async () => {
    await page.getByRole('link', { name: 'Statistik' }).click();
    await page.getByText('Neue Unterhaltungen').first().waitFor();
    const facts = await page.locator('dl.facts').textContent();
    expect(facts).toContain('Eingegangene Nachrichten');
    expect(facts).not.toContain(CUSTOMER);
    expect(facts).not.toContain('Inspektion');
  }, 60_000);

  it("shows the admins each read of personal content, with the DPO's reason, in German and English", async () => {
    await stack.sparsam.accounts.createUser({
      email: 'anna@autohaus-beispiel.de',
      password: PASSWORD,
      role: 'admin',
      displayName: 'Anna Admin',
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const admin = await context.newPage();
    await admin.goto(stack.baseUrl);
    await admin.getByLabel('E-Mail-Adresse').fill('anna@autohaus-beispiel.de');
    await admin.getByLabel('Passwort').fill(PASSWORD);
    await admin.getByRole('button', { name: 'Anmelden' }).click();
    await admin.locator('code.secret').waitFor();
    const secret = (await admin.locator('code.secret').textContent())!.replace(/\s/g, '');
    await admin.getByLabel('Code').fill(
      new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({
        timestamp: stack.clock.now().getTime(),
      }),
    );
    await admin.getByRole('button', { name: 'Bestätigen' }).click();
    await admin.getByRole('button', { name: 'Ich habe die Codes gesichert' }).click();
    await admin.goto(`${stack.baseUrl}/admin`);
    const notice = admin.getByTestId('content-reads');
    await notice.getByRole('heading', { name: 'Zugriffe auf Inhalte' }).waitFor();
    expect(await notice.textContent()).toContain('Auskunft exportiert');
    expect(await notice.textContent()).toContain('Auskunftsersuchen per Brief, Vorgang 17');
    expect(await notice.textContent()).toContain('Dora Datenschutz');
    expect(await notice.textContent()).not.toContain(CUSTOMER);
    for (const [name, size] of [
      ['22-admin-content-reads', { width: 1280, height: 800 }],
      ['22-admin-content-reads-phone', { width: 390, height: 844 }],
    ] as const) {
      await admin.setViewportSize(size);
      await admin.screenshot({ path: path.join(SHOTS, `${name}.png`) });
    }
    // The admin switches the interface to English on the account page.
    await admin.goto(`${stack.baseUrl}/account`);
    await admin.locator('#acc-lang').selectOption('en');
    await admin.getByRole('button', { name: 'Speichern' }).first().click();
    await admin.getByRole('button', { name: 'Save' }).first().waitFor();
    await admin.goto(`${stack.baseUrl}/admin`);
    await notice.getByRole('heading', { name: 'Reads of personal content' }).waitFor();
    expect(await notice.textContent()).toContain('Data exported');
    await admin.screenshot({ path: path.join(SHOTS, '22-admin-content-reads-phone-en.png') });
    await admin.setViewportSize({ width: 1280, height: 800 });
    await admin.screenshot({ path: path.join(SHOTS, '22-admin-content-reads-en.png') });
    await context.close();
  }, 90_000);
});
