import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt } from '../../web/build.mjs';
import { hasTool } from '../support/tools.ts';
import { apiCall, firstLogin, launchChromium, seedConversations, startStack, type Stack } from './browser-support.ts';

/**
 * Speed of work in the inbox, in Chromium: compact rows (12 or more on a 1080-pixel-high screen) with the newest
 * message as preview and an unread dot, keyboard shortcuts (j/k and arrows, r, n, /, a, e, ?; off while typing),
 * the composer back in reply mode after a note. Screenshots go to SPARSAM_SCREENSHOTS or a temp dir.
 */
const SHOTS = process.env.SPARSAM_SCREENSHOTS ?? path.join(process.env.TMPDIR ?? '/tmp', 'sparsam-shots');
const PASSWORD = 'werkstatt-admin-passwort';
const TEXTS = [
  'Guten Tag, mein Auto macht beim Bremsen Geräusche, können Sie sich das diese Woche noch ansehen? Danke!',
  'Ist mein Wagen schon fertig?',
  'Wann haben Sie am Samstag geöffnet?',
  'Ich brauche einen Termin für den Reifenwechsel',
  'Die Rechnung ist angekommen, danke',
  'Können Sie mir einen Kostenvoranschlag schicken?',
  'Die Klimaanlage kühlt nicht mehr richtig',
  'Haben Sie einen Leihwagen frei?',
  'Mein TÜV läuft nächsten Monat ab',
  'Das Licht der Motorkontrolle leuchtet',
  'Danke für die schnelle Hilfe!',
  'Kann ich das Auto morgen früh bringen?',
  'Die Scheibenwischer quietschen',
  'Wo finde ich Ihre Werkstatt?',
  'Ölwechsel bitte mit Filter',
  'Rückruf bitte nach 17 Uhr',
];

describe.skipIf(!hasTool('chromium'))('inbox speed of work in Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let newest = '';
  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  // Run in the page (strings: the tests are type-checked without the DOM library).
  const blur = () => page.evaluate('document.activeElement && document.activeElement.blur()');
  /** The page's document as the functions run in the browser see it (the tests compile without the DOM library). */
  type Doc = { activeElement: { id?: string } | null; querySelector(s: string): { value?: string } | null };
  const focused = (id: string) =>
    page.waitForFunction(
      (want) => (globalThis as unknown as { document: Doc }).document.activeElement?.id === want,
      id,
    );
  const selectedTab = (name: string) =>
    page.locator('.composer-tabs [role="tab"][aria-selected="true"]', { hasText: name }).waitFor();
  const selectedId = () => /\/inbox\/([^/]+)/.exec(new URL(page.url()).pathname)?.[1];
  const rowIds = () => page.locator('.conv-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));

  beforeAll(async () => {
    await ensureWebBuilt();
    mkdirSync(SHOTS, { recursive: true });
    stack = await startStack({
      admin: { email: 'anna@autohaus-beispiel.de', password: PASSWORD, displayName: 'Anna Schmidt' },
    });
    // The first text is the newest: it heads the list.
    const ids = await seedConversations(stack, TEXTS, '+4915112340');
    for (const [i, id] of ids.entries()) {
      if (i % 3 === 0)
        await stack.sparsam.store.db
          .updateTable('conversations')
          .set({ unread: 1 + (i % 4) })
          .where('id', '=', id)
          .execute();
    }
    newest = ids[0]!;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'de-DE' });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('fits at least 12 rows on a 1920×1080 screen, each with the newest message and an unread dot', async () => {
    await firstLogin(page, stack, 'anna@autohaus-beispiel.de', PASSWORD);
    await page
      .locator('.conv-item')
      .nth(TEXTS.length - 1)
      .waitFor();
    // A row counts when it is wholly inside the list's visible part and the window.
    const list = (await page.locator('.conv-list').boundingBox())!;
    const bottom = Math.min(list.y + list.height, page.viewportSize()!.height);
    const rows = await page.locator('.conv-item').evaluateAll((els) =>
      els.map((e) => {
        const r = e.getBoundingClientRect();
        return { top: r.top, bottom: r.bottom };
      }),
    );
    const visible = rows.filter((r) => r.top >= list.y - 1 && r.bottom <= bottom + 1 && r.bottom > r.top).length;
    expect(visible).toBeGreaterThanOrEqual(12);
    const first = page.locator('.conv-item').first();
    expect(await first.getAttribute('data-id')).toBe(newest);
    // The preview is cut by the server to 80 characters.
    const preview = (await first.locator('.conv-preview').textContent())!;
    expect(preview.startsWith('Guten Tag, mein Auto macht beim Bremsen')).toBe(true);
    expect([...preview]).toHaveLength(80);
    expect(await first.locator('.unread-dot.on').count()).toBe(1);
    expect(await page.locator('.conv-item').nth(1).locator('.unread-dot.on').count()).toBe(0);
    await page.setViewportSize({ width: 1280, height: 800 });
    await shot('speed-01-list-de');
  });

  it('moves with j/k and the arrow keys, and leaves the keys alone while typing', async () => {
    const ids = await rowIds();
    await blur();
    await page.keyboard.press('j');
    await page.waitForURL(`**/inbox/${ids[0]}`);
    await page.keyboard.press('j');
    await page.waitForURL(`**/inbox/${ids[1]}`);
    await page.keyboard.press('ArrowDown');
    await page.waitForURL(`**/inbox/${ids[2]}`);
    await page.keyboard.press('k');
    await page.waitForURL(`**/inbox/${ids[1]}`);
    await page.keyboard.press('ArrowUp');
    await page.waitForURL(`**/inbox/${ids[0]}`);
    // The moved-to row has the focus, so the arrow keys keep working from the list.
    expect(await page.evaluate("document.activeElement && document.activeElement.getAttribute('data-id')")).toBe(
      ids[0],
    );
    await page.keyboard.press('ArrowDown');
    await page.waitForURL(`**/inbox/${ids[1]}`);
    // Typing j and k in the search field searches; it does not move.
    await page.locator('#f-search').fill('');
    await page.locator('#f-search').press('j');
    await page.locator('#f-search').press('k');
    expect(await page.locator('#f-search').inputValue()).toBe('jk');
    expect(selectedId()).toBe(ids[1]);
    await page.locator('#f-search').fill('');
    await page
      .locator('.conv-item')
      .nth(TEXTS.length - 1)
      .waitFor();
  });

  it('r, n, / steer the composer; after a note it is back in reply mode', async () => {
    await page.locator('.conv-item').first().click();
    await page.locator('#composer-text').waitFor();
    const tab = (name: string) => page.locator('.composer-tabs [role="tab"]', { hasText: name });
    await blur();
    await page.keyboard.press('n');
    await selectedTab('Interne Notiz');
    await focused('composer-text');
    stack.clock.advance(60_000); // the note comes after the customer's message
    await page.keyboard.type('Kunde hat Garantie bis 2027');
    await page.keyboard.press('Control+Enter');
    await page.locator('.messages').getByText('Kunde hat Garantie bis 2027').waitFor();
    await page.waitForFunction(
      () => (globalThis as unknown as { document: Doc }).document.querySelector('#composer-text')?.value === '',
    );
    await selectedTab('Antwort');
    expect(await tab('Interne Notiz').getAttribute('aria-selected')).toBe('false');
    // The list shows the note as the newest entry of this conversation.
    await page
      .locator('.conv-item')
      .first()
      .locator('.conv-preview', { hasText: 'Notiz: Kunde hat Garantie' })
      .waitFor();

    await blur();
    await page.keyboard.press('n');
    await selectedTab('Interne Notiz');
    await blur();
    await page.keyboard.press('r');
    await selectedTab('Antwort');
    await focused('composer-text');

    const created = await apiCall(page, 'POST', '/api/v1/quick-replies', {
      shortcut: 'termin',
      title: 'Termin anbieten',
      text: 'Passt Ihnen Donnerstag um 9 Uhr?',
    });
    expect(created.status).toBe(201);
    await page.reload();
    await page.locator('#composer-text').waitFor();
    await blur();
    await page.keyboard.press('/');
    await page.getByRole('option', { name: /\/termin/ }).waitFor();
    expect(await page.locator('#composer-text').inputValue()).toBe('/');
    await page.keyboard.press('Enter');
    expect(await page.locator('#composer-text').inputValue()).toBe('Passt Ihnen Donnerstag um 9 Uhr?');
    await page.locator('#composer-text').fill('');
  });

  it('a focuses "assign to", e asks before closing, ? shows the shortcuts in a dialog that Escape closes', async () => {
    await blur();
    await page.keyboard.press('a');
    await focused('conv-assign');
    await blur();
    await page.keyboard.press('e');
    const confirm = page.getByRole('alertdialog');
    await confirm.waitFor();
    // While the confirmation is open, the shortcuts are off: j does not move away.
    const before = selectedId();
    await page.keyboard.press('j');
    expect(selectedId()).toBe(before);
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'detached' });
    await blur();
    await page.keyboard.press('?');
    const help = page.locator('dialog.shortcut-help');
    await help.waitFor({ state: 'visible' });
    expect(await help.evaluate((d) => d.hasAttribute('open'))).toBe(true);
    await page.getByRole('heading', { name: 'Tastenkürzel' }).waitFor();
    expect(await help.locator('kbd').allTextContents()).toEqual(
      expect.arrayContaining(['j', 'k', 'r', 'n', '/', 'a', 'e', '?']),
    );
    await shot('speed-02-shortcuts-de');
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'hidden' });
    expect(await help.evaluate((d) => d.hasAttribute('open'))).toBe(false);
  });

  it('marks a conversation urgent from its header; the list shows it and sorts urgent ones first on request', async () => {
    const ids = await rowIds();
    await page.locator(`.conv-item[data-id="${ids[5]}"]`).click();
    const toggle = page.getByRole('button', { name: 'Dringend' });
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    await toggle.click();
    await page.locator('button[aria-pressed="true"]', { hasText: 'Dringend' }).waitFor();
    await page.locator(`.conv-item[data-id="${ids[5]}"] .chip-high`).waitFor();
    expect(await page.locator('.conv-item .chip-high').count()).toBe(1);
    expect((await rowIds())[0]).toBe(ids[0]);
    const byActivity = await rowIds();
    await page.locator('#f-sort').selectOption('priority');
    await expect.poll(async () => (await rowIds())[0], { timeout: 10_000 }).toBe(ids[5]);
    await page.locator('#f-sort').selectOption('activity');
    // Back to the newest activity first: the order from before.
    await expect.poll(rowIds, { timeout: 10_000 }).toEqual(byActivity);
  });

  it('looks right on a phone and in English', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${stack.baseUrl}/inbox`);
    await page.locator('.conv-item').first().waitFor();
    // Long one-line previews do not widen the page: nothing scrolls sideways.
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await shot('speed-03-list-de-phone');
    const me = await apiCall(page, 'PATCH', '/api/v1/me', { language: 'en' });
    expect(me.status).toBe(200);
    await page.reload();
    await page
      .locator('.conv-item')
      .first()
      .locator('.conv-preview', { hasText: 'Note: Kunde hat Garantie' })
      .waitFor();
    await shot('speed-04-list-en-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.locator('.conv-item').first().click();
    await page.locator('#composer-text').waitFor();
    await blur();
    await page.keyboard.press('?');
    await page.getByRole('heading', { name: 'Keyboard shortcuts' }).waitFor();
    await shot('speed-05-shortcuts-en');
    await page.keyboard.press('Escape');
    await page.setViewportSize({ width: 1920, height: 1080 });
    await shot('speed-06-list-en-1080');
  });
});
