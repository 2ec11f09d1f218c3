import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../browser/browser-support.ts';
import type { World } from '../inbox/inbox-world.ts';
import { consentedCustomer, say, startMarketingWorld } from './marketing-world.ts';
import { hasTool } from '../support/tools.ts';

const PASSWORD = 'kampagnen-admin-passwort';
const ANNA = '4915111111111';
const BERT = '4915122222222';

function totpAt(secret: string, timestamp: number): string {
  return new TOTP({ secret: Secret.fromBase32(secret.replace(/\s/g, '')), digits: 6, period: 30 }).generate({
    timestamp,
  });
}

describe.skipIf(!hasTool('chromium'))('campaign screen in the browser', () => {
  let w: World;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;

  beforeAll(async () => {
    w = await startMarketingWorld('sqlite', false);
    baseUrl = await w.sparsam.http.listen({ port: 0, host: '127.0.0.1' });
    await w.sparsam.accounts.createUser({
      email: 'chefin@autohaus-beispiel.de',
      password: PASSWORD,
      role: 'admin',
      displayName: 'Chefin',
    });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'de-DE' })).newPage();
    page.setDefaultTimeout(10_000);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await w?.close();
  });

  it('sends a campaign to the opted-in contact only and shows its counts', async () => {
    await consentedCustomer(w, ANNA);
    await consentedCustomer(w, BERT);
    await say(w, ANNA, 'NEWS');

    await page.goto(baseUrl);
    await page.getByLabel('E-Mail-Adresse').fill('chefin@autohaus-beispiel.de');
    await page.getByLabel('Passwort').fill(PASSWORD);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.locator('code.secret').waitFor();
    const secret = (await page.locator('code.secret').textContent())!;
    await page.getByLabel('Code').fill(totpAt(secret, w.clock.now().getTime()));
    await page.getByRole('button', { name: 'Bestätigen' }).click();
    await page.getByRole('button', { name: 'Ich habe die Codes gesichert' }).click();
    await page.getByRole('link', { name: 'Kampagnen' }).click();
    await page.getByRole('heading', { name: 'Marketing-Kampagnen' }).waitFor();
    await page.getByText('Noch keine Kampagnen.').waitFor();
    // The page keeps the margins of the other pages: the heading does not touch the window's edge.
    const left = await page
      .getByRole('heading', { name: 'Marketing-Kampagnen' })
      .evaluate((el) => (el as unknown as { getBoundingClientRect(): { left: number } }).getBoundingClientRect().left);
    expect(left).toBeGreaterThanOrEqual(16);

    await page.getByLabel('Platzhalter 1').fill('10 % auf Winterreifen');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Kampagne senden' }).click();
    await page.getByText('Kampagne in der Warteschlange: 1 Empfänger, 1 ohne Einwilligung übersprungen.').waitFor();
    await page.locator('table.table tbody tr').first().waitFor();
    await w.drain();
    const templates = w.graph.sends.filter((s) => s.type === 'template');
    expect(templates.map((s) => s.to)).toEqual([ANNA]);
    expect(await page.locator('table.table tbody tr').count()).toBe(1);
    // The table shows counts only: no number of a customer appears on the page.
    const html = await page.content();
    expect(html).not.toContain(ANNA);
    expect(html).not.toContain(BERT);
  }, 60_000);
});
