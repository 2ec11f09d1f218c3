import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt } from '../../web/build.mjs';
import { apiCall, firstLogin, launchChromium, startStack, type Stack } from './browser-support.ts';
import { hasTool } from '../support/tools.ts';

/**
 * The label list in Chromium: an admin sets up labels under Administration → Labels (German, desktop; English,
 * phone), the conversation's label editor offers only those, and a user whose password an admin reset is told so
 * after signing in. Screenshots go to SPARSAM_SCREENSHOTS (docs/screenshots when refreshing the documentation).
 */
const SHOTS = process.env.SPARSAM_SCREENSHOTS ?? path.join(process.env.TMPDIR ?? '/tmp', 'sparsam-shots');
const CUSTOMER = '4915112340077';
const PASSWORD = 'werkstatt-admin-passwort';

/** The parts of the API's answers this test reads. */
interface Reply {
  error: { details: { reason?: string } };
  items: { id: string }[];
  invitation: { token: string };
}

describe.skipIf(!hasTool('chromium'))('label list and reset notice in Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    await ensureWebBuilt();
    mkdirSync(SHOTS, { recursive: true });
    stack = await startStack({
      admin: { email: 'anna@autohaus-beispiel.de', password: PASSWORD, displayName: 'Anna Schmidt' },
    });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'de-DE' })).newPage();
    page.setDefaultTimeout(10_000);
    await firstLogin(page, stack, 'anna@autohaus-beispiel.de', PASSWORD);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('an admin keeps the label list (German, desktop)', async () => {
    await page.goto(`${stack.baseUrl}/admin/labels`);
    await page.getByRole('heading', { name: 'Labels', level: 1 }).waitFor();
    await page.getByText('Noch keine Labels').waitFor();
    const form = page.locator('form.card');
    await form.getByLabel('Name').fill('Rückruf');
    await form.getByRole('checkbox', { name: 'Farbe' }).check();
    await page.getByRole('button', { name: 'Speichern' }).click();
    await page.locator('.qr-item', { hasText: 'Rückruf' }).waitFor();
    await form.getByLabel('Name').fill('Reklamation');
    await form.getByRole('checkbox', { name: 'Farbe' }).uncheck();
    await page.getByRole('button', { name: 'Speichern' }).click();
    await page.locator('.qr-item', { hasText: 'Reklamation' }).waitFor();
    expect(await page.locator('.qr-item').allTextContents()).toEqual([
      expect.stringContaining('Reklamation'),
      expect.stringContaining('Rückruf'),
    ]);
    expect(await page.locator('.qr-item', { hasText: 'Rückruf' }).locator('.label-dot').count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'labels-admin-de-desktop.png') });
  });

  it('the label editor offers only the list; free text is refused by the server', async () => {
    const first = await stack.phone.sendCustomerMessage({
      from: CUSTOMER,
      name: 'Erika',
      text: 'Bitte rufen Sie mich zurück.',
    });
    expect(first.delivered).toBe(true);
    const end = Date.now() + 20_000;
    let agree: { id: string; title: string } | undefined;
    while (!agree && Date.now() < end) {
      agree = stack.phone
        .sentMessages()
        .find((m) => m.to === CUSTOMER && (m.buttons?.length ?? 0) > 0)
        ?.buttons?.find((b) => b.id.includes('agree'));
      if (!agree) await new Promise((r) => setTimeout(r, 100));
    }
    expect(agree).toBeDefined();
    await stack.phone.sendCustomerMessage({ from: CUSTOMER, buttonReply: { id: agree!.id, title: agree!.title } });
    await page.goto(stack.baseUrl);
    await page.locator('.conv-item').first().click({ timeout: 15_000 });
    const picker = page.locator('#label-add');
    await picker.waitFor();
    // A select, not a text field: the options are exactly the list.
    expect(await picker.evaluate((el) => el.tagName)).toBe('SELECT');
    expect(await picker.locator('option').allTextContents()).toEqual(['+ Label hinzufügen', 'Reklamation', 'Rückruf']);
    await picker.selectOption('Rückruf');
    await page.locator('.label-editor .chip-label', { hasText: 'Rückruf' }).waitFor();
    expect(await picker.locator('option').allTextContents()).toEqual(['+ Label hinzufügen', 'Reklamation']);
    await page.screenshot({ path: path.join(SHOTS, 'labels-editor-de-desktop.png') });

    const id = new URL(page.url()).pathname.split('/').pop()!;
    const refused = await apiCall<Reply>(page, 'POST', `/api/v1/conversations/${id}/labels`, {
      labels: ['Rückruf', 'Erika Beispiel 015112345672'],
    });
    expect(refused.status).toBe(400);
    expect(refused.json.error.details.reason).toBe('label_not_in_list');
    // Filtering the list by the label finds the conversation.
    const filtered = await apiCall<Reply>(page, 'GET', `/api/v1/conversations?label=${encodeURIComponent('Rückruf')}`);
    expect(filtered.json.items.map((c: { id: string }) => c.id)).toContain(id);
  });

  it('English on a phone: the label list', async () => {
    const phone = await (
      await browser.newContext({
        viewport: { width: 390, height: 844 },
        locale: 'en-GB',
        isMobile: true,
        hasTouch: true,
      })
    ).newPage();
    const cookies = await page.context().cookies();
    await phone.context().addCookies(cookies);
    await apiCall<Reply>(page, 'PATCH', '/api/v1/me', { language: 'en' });
    await phone.goto(`${stack.baseUrl}/admin/labels`);
    await phone.getByRole('heading', { name: 'Labels', level: 1 }).waitFor();
    await phone.getByText('Agents pick only from this list').waitFor();
    expect(
      await phone.evaluate(
        () =>
          (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement
            .scrollWidth,
      ),
    ).toBeLessThanOrEqual(390);
    await phone.screenshot({ path: path.join(SHOTS, 'labels-admin-en-phone.png'), fullPage: true });
    await apiCall<Reply>(page, 'PATCH', '/api/v1/me', { language: 'de' });
    await phone.close();
  });

  it('tells a user at the next sign-in that an admin reset the password, until dismissed', async () => {
    const agent = await stack.sparsam.accounts.createUser({
      email: 'ben@autohaus-beispiel.de',
      password: PASSWORD,
      role: 'agent',
      displayName: 'Ben Weber',
    });
    const reset = await apiCall<Reply>(page, 'POST', `/api/v1/users/${agent.id}/invitation`, { confirm: true });
    expect(reset.status).toBe(200);
    const newPassword = 'ein neues Passwort nach dem Zurücksetzen';
    for (const [lang, size, name] of [
      ['de-DE', { width: 1280, height: 800 }, 'reset-notice-de-desktop'],
      ['en-GB', { width: 390, height: 844 }, 'reset-notice-en-phone'],
    ] as const) {
      const ctx = await browser.newContext({ viewport: size, locale: lang });
      // The sign-in page speaks the language chosen last in this browser.
      if (lang === 'en-GB') {
        await ctx.addInitScript(() =>
          (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem(
            'sparsam.lang',
            'en',
          ),
        );
      }
      const p = await ctx.newPage();
      await p.goto(stack.baseUrl);
      if (lang === 'de-DE') {
        const accepted = await apiCall<Reply>(p, 'POST', '/api/v1/auth/invitations/accept', {
          token: reset.json.invitation.token,
          password: newPassword,
        });
        expect(accepted.status).toBe(200);
      } else {
        // The English run: reset once more, so the notice is there again.
        const again = await apiCall<Reply>(page, 'POST', `/api/v1/users/${agent.id}/invitation`, { confirm: true });
        await apiCall<Reply>(p, 'POST', '/api/v1/auth/invitations/accept', {
          token: again.json.invitation.token,
          password: newPassword,
        });
        await stack.sparsam.store.db.updateTable('users').set({ language: 'en' }).where('id', '=', agent.id).execute();
      }
      const emailLabel = lang === 'de-DE' ? 'E-Mail-Adresse' : 'E-mail address';
      await p.goto(stack.baseUrl);
      await p.getByLabel(emailLabel).fill('ben@autohaus-beispiel.de');
      await p.getByLabel(lang === 'de-DE' ? 'Passwort' : 'Password').fill(newPassword);
      await p.keyboard.press('Enter');
      const notice = p.locator('.reset-notice');
      await notice.waitFor();
      expect(await notice.textContent()).toContain(
        lang === 'de-DE' ? 'Ihr Passwort wurde am' : 'Your password was reset by an administrator on',
      );
      await p.screenshot({ path: path.join(SHOTS, `${name}.png`) });
      await notice.getByRole('button').click();
      await notice.waitFor({ state: 'detached' });
      await p.reload();
      await p.locator('#main').waitFor();
      await p.locator('.topbar-user').waitFor({ state: 'attached' });
      expect(await p.locator('.reset-notice').count()).toBe(0);
      await ctx.close();
    }
  }, 60_000);
});
