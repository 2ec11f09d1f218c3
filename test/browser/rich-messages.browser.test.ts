import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt } from '../../web/build.mjs';
import { firstLogin, launchChromium, startStack, type Stack } from './browser-support.ts';
import { hasTool } from '../support/tools.ts';

/**
 * An agent answers one customer message (the customer's phone gets the quote), and sees the customer's quote,
 * reaction, location and links in the thread; the map opens only on click, so rendering makes no third-party request.
 */
const SHOTS = process.env.SPARSAM_SCREENSHOTS ?? path.join(process.env.TMPDIR ?? '/tmp', 'sparsam-shots');
const PASSWORD = 'rich-admin-passwort-1';
const CUSTOMER = '4915100007777';

async function until<T>(what: string, check: () => T | undefined): Promise<T> {
  const end = Date.now() + 15_000;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!hasTool('chromium'))('replies, reactions and locations in Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];

  beforeAll(async () => {
    await ensureWebBuilt();
    mkdirSync(SHOTS, { recursive: true });
    stack = await startStack({
      admin: { email: 'rita@autohaus-beispiel.de', password: PASSWORD, displayName: 'Rita Admin' },
    });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'de-DE' })).newPage();
    page.setDefaultTimeout(10_000);
    page.on('request', (r) => requests.push(r.url()));
    await firstLogin(page, stack, 'rita@autohaus-beispiel.de', PASSWORD);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('answers one message, and shows quotes, reactions, a location and links', async () => {
    await stack.phone.sendCustomerMessage({ from: CUSTOMER, text: 'Hallo' });
    const notice = await until('the notice', () =>
      stack.phone.sentMessages().find((m) => m.to === CUSTOMER && (m.buttons?.length ?? 0) > 0),
    );
    const agree = notice.buttons!.find((b) => b.id.includes('agree'))!;
    await stack.phone.sendCustomerMessage({ from: CUSTOMER, buttonReply: { id: agree.id, title: agree.title } });
    const question = await stack.phone.sendCustomerMessage({
      from: CUSTOMER,
      text: 'Ist mein Auto fertig? Infos: https://example.org/auftrag',
    });
    expect(question.delivered).toBe(true);
    await page.locator('.conv-item').first().click();
    const bubble = page.locator('.msg-in', { hasText: 'Ist mein Auto fertig?' });
    await bubble.waitFor();
    // Links in messages open in a new tab and cannot reach back into the inbox.
    const link = bubble.getByRole('link', { name: 'https://example.org/auftrag' });
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await link.getAttribute('target')).toBe('_blank');

    await bubble.getByRole('button', { name: 'Antworten' }).click();
    await page.locator('.composer-quote', { hasText: 'Ist mein Auto fertig?' }).waitFor();
    await page.locator('#composer-text').fill('Ja, ab 16 Uhr abholbereit.');
    await page.getByRole('button', { name: 'Senden' }).click();
    const sent = await until('the reply on the phone', () =>
      stack.phone.sentMessages().find((m) => m.to === CUSTOMER && m.text === 'Ja, ab 16 Uhr abholbereit.'),
    );
    expect(sent.body.context).toEqual({ message_id: question.messageId });
    const ours = page.locator('.msg-out', { hasText: 'Ja, ab 16 Uhr abholbereit.' });
    await ours.locator('.msg-quote', { hasText: 'Ist mein Auto fertig?' }).waitFor();
    expect(await page.locator('.composer-quote').count()).toBe(0);

    await stack.phone.sendCustomerMessage({ from: CUSTOMER, reaction: { messageId: sent.id, emoji: '🙏' } });
    await stack.phone.sendCustomerMessage({ from: CUSTOMER, text: 'Super, danke!', replyTo: sent.id });
    await stack.phone.sendCustomerMessage({
      from: CUSTOMER,
      location: { latitude: 48.137154, longitude: 11.576124, name: 'Parkplatz Nord', address: 'Marienplatz 1' },
    });
    await page.locator('.msg-location', { hasText: 'Parkplatz Nord' }).waitFor({ timeout: 15_000 });
    await ours.locator('.reaction', { hasText: '🙏' }).waitFor();
    await page
      .locator('.msg-in', { hasText: 'Super, danke!' })
      .locator('.msg-quote', { hasText: 'Ja, ab 16 Uhr abholbereit.' })
      .waitFor();
    const map = page.locator('.msg-location').getByRole('link', { name: 'Auf OpenStreetMap öffnen' });
    expect(await map.getAttribute('href')).toContain('mlat=48.13715&mlon=11.57612');
    expect(await map.getAttribute('rel')).toBe('noopener noreferrer');
    // Rendering the thread asked nothing of any other host.
    const origin = new URL(stack.baseUrl).origin;
    expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'))).toEqual([]);
    // The agent reacts to the customer's thanks, and takes it back.
    const thanks = page.locator('.msg-in', { hasText: 'Super, danke!' });
    await thanks.getByRole('button', { name: 'Reagieren' }).click();
    await thanks.getByRole('group', { name: 'Reagieren' }).getByRole('button', { name: '❤️' }).click();
    const reacted = await until('the reaction on the phone', () =>
      stack.phone.sentMessages().find((m) => m.to === CUSTOMER && m.type === 'reaction'),
    );
    expect(reacted.body.reaction).toMatchObject({ emoji: '❤️' });
    await thanks.locator('.reaction').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'inbox-reply-reaction-location.png') });
    await thanks.getByRole('button', { name: 'Reaktion entfernen' }).click();
    await thanks.locator('.reaction').waitFor({ state: 'detached' });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('.msg-location').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'inbox-reply-reaction-location-phone.png') });
  });
});
