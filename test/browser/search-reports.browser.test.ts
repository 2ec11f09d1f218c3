import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt } from '../../web/build.mjs';
import { firstLogin, launchChromium, startStack, type Stack } from './browser-support.ts';
import { hasTool } from '../support/tools.ts';
import { ReportFactStore } from '../../src/store/sql/report.store.ts';

/**
 * The list's search box finds conversations by message text (accents and case ignored) and shows the matching
 * snippet; the admin names the inbox's team and switches the satisfaction question on; the reports screen draws its
 * charts, the team table and the satisfaction figures, and fits a phone, in German and English.
 */
const SHOTS = process.env.SPARSAM_SCREENSHOTS ?? path.join(process.env.TMPDIR ?? '/tmp', 'sparsam-shots');
const PASSWORD = 'berichte-admin-passwort-1';
const CUSTOMERS = ['4915112345601', '4915112345602'];

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const hit = probe();
    if (hit !== undefined) return hit;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
}

describe.skipIf(!hasTool('chromium'))('message search and reports, in Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let claraId = '';
  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  /** The lower half of the reports (satisfaction chart, agents, teams, inboxes), which the page shot leaves out. */
  type Win = {
    scrollTo(x: number, y: number): void;
    scrollBy(x: number, y: number): void;
    innerWidth: number;
    document: { documentElement: { scrollWidth: number } };
  };
  const lowerShot = async (name: string) => {
    // From the satisfaction chart's lower half on: the tables follow it.
    await page
      .locator('.report-chart')
      .nth(3)
      .evaluate((el) => {
        el.scrollIntoView({ block: 'start' });
        (globalThis as unknown as Win).scrollBy(0, el.getBoundingClientRect().height / 2);
      });
    await page.waitForTimeout(200);
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
    await page.evaluate(() => (globalThis as unknown as Win).scrollTo(0, 0));
  };
  /**
   * Nothing inside the screen's own content is wider than its box (the width of the top bar at phone size is the
   * navigation's own matter).
   */
  const fitsWidth = (selector: string) => page.locator(selector).evaluate((el) => el.scrollWidth <= el.clientWidth + 1);

  beforeAll(async () => {
    await ensureWebBuilt();
    mkdirSync(SHOTS, { recursive: true });
    stack = await startStack();
    claraId = (
      await stack.sparsam.accounts.createUser({
        email: 'clara@autohaus-beispiel.de',
        password: PASSWORD,
        role: 'admin',
        displayName: 'Clara Admin',
      })
    ).id;
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'de-DE' })).newPage();
    page.setDefaultTimeout(15_000);
    await firstLogin(page, stack, 'clara@autohaus-beispiel.de', PASSWORD);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('finds a conversation by a word in its messages and shows the snippet', async () => {
    const texts = ['Guten Tag, die Bremsbeläge vorne quietschen seit Montag.', 'Wann ist mein Reifenwechsel fertig?'];
    for (const [i, from] of CUSTOMERS.entries()) {
      await stack.phone.sendCustomerMessage({ from, name: 'Kunde', text: texts[i]! });
      const notice = await waitFor(() =>
        stack.phone.sentMessages().find((m) => m.to === from && (m.buttons?.length ?? 0) > 0),
      );
      const agree = notice.buttons!.find((b) => b.id.includes('agree'))!;
      await stack.phone.sendCustomerMessage({ from, buttonReply: { id: agree.id, title: agree.title } });
    }
    await page.locator('.conv-item', { hasText: 'Anfrage 2' }).waitFor();
    await page.locator('#f-search').fill('BREMSBELAGE');
    const hit = page.locator('.conv-item', { hasText: 'Anfrage 1' });
    await hit.locator('.conv-snippet').waitFor();
    expect(await hit.locator('.conv-snippet').textContent()).toContain('Bremsbeläge vorne quietschen');
    await expect.poll(() => page.locator('.conv-item').count()).toBe(1);
    await shot('search-list');
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await fitsWidth('.conv-list')).toBe(true);
    await shot('search-list-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
    // The reply that the report will time as the first response.
    await hit.click();
    await page.locator('#composer-text').fill('Kommen Sie gern morgen um 9 Uhr vorbei.');
    await page.getByRole('button', { name: 'Senden', exact: true }).click();
    await page.getByText('Kommen Sie gern morgen um 9 Uhr vorbei.').first().waitFor();
  });

  it('lets the admin name the team and switch the satisfaction question on', async () => {
    await page.goto(`${stack.baseUrl}/admin/privacy`);
    const form = page.locator('form', { has: page.getByRole('heading', { name: /service/ }) });
    await form.getByLabel('Team', { exact: true }).fill('Werkstatt');
    await form.getByLabel('Nach dem Abschließen nach der Zufriedenheit fragen (1–5)').check();
    await form.getByRole('button', { name: 'Speichern' }).click();
    await form.getByText('Gespeichert.', { exact: true }).waitFor();
    await form.getByLabel('Team', { exact: true }).scrollIntoViewIfNeeded();
    await page.waitForTimeout(200);
    await page.screenshot({ path: path.join(SHOTS, 'reports-settings-de.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await form.getByLabel('Team', { exact: true }).scrollIntoViewIfNeeded();
    await page.waitForTimeout(200);
    expect(
      await page.evaluate(() => {
        const w = globalThis as unknown as Win;
        return w.document.documentElement.scrollWidth <= w.innerWidth + 1;
      }),
    ).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'reports-settings-de-phone.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
    // The setting is stored: the view read again shows it.
    await page.reload();
    await expect
      .poll(() =>
        page
          .locator('form', { has: page.getByRole('heading', { name: /service/ }) })
          .getByLabel('Team', { exact: true })
          .inputValue(),
      )
      .toBe('Werkstatt');
    // Three answers to the question (the way there, WhatsApp's list, is covered by test/reports/csat.test.ts on
    // both stores): scores as the answer path records them, content-free.
    const now = stack.clock.now().getTime();
    await new ReportFactStore(stack.sparsam.store.db).record(
      [5, 4, 4].map((score) => ({
        kind: 'csat' as const,
        at: now,
        inboxId: 'service',
        channelKind: 'whatsapp-cloud',
        agentId: claraId,
        durationMs: null,
        score,
      })),
    );
  });

  it('shows the reports with charts at desktop and phone size, in German and English', async () => {
    await page.getByRole('link', { name: 'DSGVO' }).click();
    await page
      .getByRole('navigation', { name: 'Datenschutz-Bereiche' })
      .getByRole('link', { name: 'Berichte' })
      .click();
    await page.getByRole('heading', { name: 'Berichte' }).waitFor();
    await page.getByText('Zeitzone Europe/Berlin').waitFor();
    // Chart.js is loaded on demand and draws four charts (the fourth: satisfaction answers by score).
    await expect.poll(() => page.locator('.report-chart canvas').count()).toBe(4);
    await expect
      .poll(() =>
        page.locator('.report-chart canvas').evaluateAll((all) => all.every((c) => (c as { width: number }).width > 0)),
      )
      .toBe(true);
    await page.locator('td', { hasText: 'Clara Admin' }).waitFor();
    // Satisfaction: mean 4.33 of three answers, overall, for Clara, for the team and for the inbox.
    expect(await page.getByTestId('report-csat').textContent()).toBe('4,33 (3)');
    expect(await page.locator('tr', { hasText: 'Clara Admin' }).textContent()).toContain('4,33 (3)');
    const team = page.getByTestId('report-teams').locator('tbody tr');
    await expect.poll(() => team.count()).toBe(1);
    const cells = await team.locator('td').allTextContents();
    expect(cells[0]).toBe('Werkstatt');
    expect(cells[1]).toBe('service');
    expect(cells[6]).toBe('4,33 (3)');
    expect(await page.locator('tr', { hasText: 'service' }).last().textContent()).toContain('Werkstatt');
    // Every table has a heading for each column (the inbox table's last column is the satisfaction).
    for (const table of await page.locator('.reports table').all()) {
      expect(await table.locator('thead th').count()).toBe(
        await table.locator('tbody tr').first().locator('td').count(),
      );
    }
    const csvHref = await page.getByRole('link', { name: 'CSV herunterladen' }).getAttribute('href');
    expect(csvHref).toMatch(/^\/api\/v1\/reports\.csv\?from=\d{4}-\d{2}-\d{2}&to=/);
    await page.waitForTimeout(300);
    await shot('reports-de');
    await lowerShot('reports-tables-de');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    expect(await fitsWidth('.reports')).toBe(true);
    await shot('reports-de-phone');
    await lowerShot('reports-tables-de-phone');

    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole('link', { name: 'Mein Konto' }).click();
    await page.getByLabel('Sprache').selectOption('en');
    await page.getByRole('button', { name: 'Speichern' }).first().click();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    await page.getByRole('link', { name: 'GDPR' }).click();
    await page
      .getByRole('navigation', { name: 'Data protection sections' })
      .getByRole('link', { name: 'Reports' })
      .click();
    await page.getByRole('heading', { name: 'Reports' }).waitFor();
    await page.getByRole('button', { name: 'Last 7 days' }).click();
    await expect.poll(() => page.locator('.report-chart canvas').count()).toBe(4);
    expect(await page.getByTestId('report-csat').textContent()).toBe('4.33 (3)');
    await page.getByRole('heading', { name: 'Teams' }).waitFor();
    await page.waitForTimeout(300);
    await shot('reports-en');
    await lowerShot('reports-tables-en');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    expect(await fitsWidth('.reports')).toBe(true);
    await shot('reports-en-phone');
    await lowerShot('reports-tables-en-phone');
  });
});
