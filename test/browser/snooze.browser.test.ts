import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt } from '../../web/build.mjs';
import { hasTool } from '../support/tools.ts';
import { firstLogin, launchChromium, seedConversations, startStack, type Stack } from './browser-support.ts';

/**
 * Snooze and saved views in Chromium: snooze from the conversation header (button and the `s` shortcut), the
 * conversation leaves the list and shows under "Zurückgestellt" with its wake-up time, and comes back by itself
 * when the clock reaches that time; a saved view keeps the view and order and applies them again. Screenshots go to
 * SPARSAM_SCREENSHOTS (docs/screenshots when refreshing the documentation) or a temp dir.
 */
const SHOTS = process.env.SPARSAM_SCREENSHOTS ?? path.join(process.env.TMPDIR ?? '/tmp', 'sparsam-shots');
const PASSWORD = 'werkstatt-admin-passwort';
const TEXTS = [
  'Können Sie mir bis Freitag ein Angebot für die Inspektion schicken?',
  'Ist mein Wagen schon fertig?',
  'Haben Sie am Samstag geöffnet?',
];

describe.skipIf(!hasTool('chromium'))('snooze and saved views in Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const ids: string[] = [];
  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  const row = (id: string) => page.locator(`.conv-list .conv-item[data-id="${id}"]`);
  const tab = (name: string) => page.locator('.views [role="tab"]', { hasText: name });
  const noSideways = async () =>
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);

  beforeAll(async () => {
    await ensureWebBuilt();
    mkdirSync(SHOTS, { recursive: true });
    stack = await startStack({
      admin: { email: 'anna@autohaus-beispiel.de', password: PASSWORD, displayName: 'Anna Schmidt' },
    });
    ids.push(...(await seedConversations(stack, TEXTS, '+4915112345')));
    browser = await launchChromium();
    context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      locale: 'de-DE',
      timezoneId: 'Europe/Berlin',
    });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('snoozes from the header: gone from the list, listed under Zurückgestellt, back when the time comes', async () => {
    await firstLogin(page, stack, 'anna@autohaus-beispiel.de', PASSWORD);
    const target = ids[0]!;
    await row(target).click();
    await page.locator('#composer-text').waitFor();
    // The shortcut help lists s.
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    await page.keyboard.press('?');
    await page.locator('.shortcut-help').getByText('Zurückstellen …').waitFor();
    await page.keyboard.press('Escape');
    await page.locator('.shortcut-help').waitFor({ state: 'hidden' });
    // Shortcuts are off while the focus is in a dialog: the closed help hands it back first (a busy machine may take
    // a frame longer than the dialog takes to hide).
    await page.waitForFunction('!document.activeElement || !document.activeElement.closest("dialog")');
    // s opens the menu in the header.
    await page.keyboard.press('s');
    const menu = page.getByRole('group', { name: 'Zurückstellen bis …' });
    await menu.waitFor();
    expect(await page.locator('#conv-snooze').getAttribute('aria-expanded')).toBe('true');
    await shot('snooze-01-menu-de');
    await menu.getByRole('button', { name: 'In 1 Stunde' }).click();
    await row(target).waitFor({ state: 'detached' });
    await page.locator('.conv-title', { hasText: 'Zurückgestellt bis' }).waitFor();
    expect(await row(ids[1]!).count()).toBe(1);

    await tab('Zurückgestellt').click();
    await row(target).waitFor();
    const chip = (await row(target).locator('.chip-snoozed').textContent())!;
    expect(chip).toMatch(/^bis .*\d\d:\d\d$/);
    expect(await page.locator('.conv-item').count()).toBe(1);
    await shot('snooze-02-snoozed-de');

    // The hour passes: the wake-up job runs, the live event refreshes the list, it is back with an unread mark.
    await page.goto(`${stack.baseUrl}/inbox`);
    await tab('Alle').click();
    await page.locator('.conv-item').first().waitFor();
    expect(await row(target).count()).toBe(0);
    stack.clock.advance(60 * 60_000 + 1000);
    await stack.sparsam.jobs.drain();
    await row(target).waitFor({ timeout: 15_000 });
    expect(await row(target).locator('.unread-dot.on').count()).toBe(1);
    expect(await row(target).locator('.chip-snoozed').count()).toBe(0);
  });

  it('saves the current view under a name and applies it again; the chip deletes it', async () => {
    await tab('Nicht zugewiesen').click();
    await page.locator('#f-sort').selectOption('priority');
    await page.getByRole('button', { name: '+ Ansicht speichern' }).click();
    await page.getByLabel('Name der Ansicht').fill('Offen, dringend zuerst');
    await page.getByRole('button', { name: 'Speichern', exact: true }).click();
    const chip = page.locator('.saved-view', { hasText: 'Offen, dringend zuerst' });
    await chip.waitFor();
    expect(await chip.locator('.saved-view-apply').getAttribute('aria-pressed')).toBe('true');
    await shot('snooze-03-views-de');

    await tab('Alle').click();
    await page.locator('#f-sort').selectOption('activity');
    expect(await chip.locator('.saved-view-apply').getAttribute('aria-pressed')).toBe('false');
    await chip.locator('.saved-view-apply').click();
    await expect.poll(() => tab('Nicht zugewiesen').getAttribute('aria-selected')).toBe('true');
    expect(await page.locator('#f-sort').inputValue()).toBe('priority');
    // Kept on the server: there after a reload.
    await page.reload();
    await chip.waitFor();
    // A second view, then × deletes it (the first stays).
    await tab('Zurückgestellt').click();
    await page.getByRole('button', { name: '+ Ansicht speichern' }).click();
    await page.getByLabel('Name der Ansicht').fill('Später');
    await page.keyboard.press('Enter');
    const later = page.locator('.saved-view', { hasText: 'Später' });
    await later.waitFor();
    await page.getByRole('button', { name: 'Ansicht „Später“ löschen' }).click();
    await later.waitFor({ state: 'detached' });
    await page.reload();
    await chip.waitFor();
    expect(await later.count()).toBe(0);
  });

  it('looks right on a phone and in English', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${stack.baseUrl}/inbox`);
    await page.locator('.conv-item').first().waitFor();
    await noSideways();
    await shot('snooze-04-list-de-phone');
    await row(ids[1]!).click();
    await page.locator('#conv-snooze').click();
    await page.getByRole('group', { name: 'Zurückstellen bis …' }).waitFor();
    await noSideways();
    await shot('snooze-05-menu-de-phone');
    await page.keyboard.press('Escape');

    const status = await page.evaluate(async () => {
      const session = (await (await fetch('/api/v1/auth/session')).json()) as {
        csrfToken: string;
        user: { id: string };
      };
      const res = await fetch(`/api/v1/users/${session.user.id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
        body: JSON.stringify({ language: 'en' }),
      });
      return res.status;
    });
    expect(status).toBe(200);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${stack.baseUrl}/inbox/${ids[1]!}`);
    await page.locator('#conv-snooze', { hasText: 'Snooze' }).click();
    const menu = page.getByRole('group', { name: 'Snooze until …' });
    await menu.getByRole('button', { name: 'Tomorrow, 9:00' }).waitFor();
    await shot('snooze-06-menu-en');
    await menu.getByRole('button', { name: 'Tomorrow, 9:00' }).click();
    await row(ids[1]!).waitFor({ state: 'detached' });
    await tab('Snoozed').click();
    await row(ids[1]!).waitFor();
    expect((await row(ids[1]!).locator('.chip-snoozed').textContent())!).toMatch(/^until /);
    await shot('snooze-07-snoozed-en');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${stack.baseUrl}/inbox`);
    await tab('Snoozed').click();
    await row(ids[1]!).waitFor();
    await noSideways();
    await shot('snooze-08-snoozed-en-phone');
  });
});
