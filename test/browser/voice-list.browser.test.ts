import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt } from '../../web/build.mjs';
import { apiCall, firstLogin, launchChromium, startStack, type Stack } from './browser-support.ts';
import { hasTool } from '../support/tools.ts';

/**
 * An agent records a voice note with the microphone button (Chromium's fake microphone) and sends it: the customer's
 * phone gets an Ogg/Opus voice message; the agent builds a small list the customer chooses from. Screenshots go to
 * SPARSAM_SCREENSHOTS (docs/screenshots when refreshing the documentation) or a temp dir.
 */
const SHOTS = process.env.SPARSAM_SCREENSHOTS ?? path.join(process.env.TMPDIR ?? '/tmp', 'sparsam-shots');
const PASSWORD = 'voice-admin-passwort-1';
const CUSTOMER = '4915100008888';
const FAKE_MICROPHONE = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

async function until<T>(what: string, check: () => T | undefined): Promise<T> {
  const end = Date.now() + 20_000;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const scrollWidth = (p: Page) =>
  p.evaluate(
    () =>
      (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement
        .scrollWidth,
  );

async function setLanguage(p: Page, language: 'de' | 'en'): Promise<void> {
  expect((await apiCall(p, 'PATCH', '/api/v1/me', { language })).status).toBe(200);
}

describe.skipIf(!hasTool('chromium'))('voice notes and lists in Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    await ensureWebBuilt();
    mkdirSync(SHOTS, { recursive: true });
    stack = await startStack({
      admin: { email: 'vera@autohaus-beispiel.de', password: PASSWORD, displayName: 'Vera Admin' },
    });
    browser = await launchChromium(FAKE_MICROPHONE);
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'de-DE' });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await firstLogin(page, stack, 'vera@autohaus-beispiel.de', PASSWORD);
    await stack.phone.sendCustomerMessage({ from: CUSTOMER, text: 'Hallo' });
    const notice = await until('the notice', () =>
      stack.phone.sentMessages().find((m) => m.to === CUSTOMER && (m.buttons?.length ?? 0) > 0),
    );
    const agree = notice.buttons!.find((b) => b.id.includes('agree'))!;
    await stack.phone.sendCustomerMessage({ from: CUSTOMER, buttonReply: { id: agree.id, title: agree.title } });
    await stack.phone.sendCustomerMessage({ from: CUSTOMER, text: 'Können Sie mir kurz erklären, was kaputt ist?' });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('records 2 s with the microphone button and sends them as a WhatsApp voice message', async () => {
    await page.locator('.conv-item').first().click();
    await page.locator('.msg-in', { hasText: 'Können Sie mir kurz erklären' }).waitFor();
    await page.getByRole('button', { name: 'Sprachnachricht aufnehmen' }).click();
    const timer = page.locator('.voice-time');
    await timer.waitFor();
    await page.waitForTimeout(2300);
    expect(await timer.textContent()).toMatch(/^0:0[2-3]$/);
    // While recording, the text send button waits and nothing has gone out.
    expect(await page.getByRole('button', { name: 'Senden', exact: true }).isDisabled()).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'voice-recording-de-desktop.png') });
    await page.getByRole('button', { name: 'Stopp & senden' }).click();
    const sent = await until('the voice message on the phone', () =>
      stack.phone.sentMessages().find((m) => m.to === CUSTOMER && m.type === 'audio'),
    );
    expect(sent.voice).toBe(true);
    const file = stack.phone.uploadedMedia(sent.mediaId!)!;
    expect(file.mimeType).toBe('audio/ogg');
    expect(file.data.subarray(0, 4).toString('latin1')).toBe('OggS');
    expect(file.data.includes('OpusHead')).toBe(true);
    // The thread shows a player for the Ogg file, and Chromium decodes it: about the 2 s recorded (decoded in full
    // with Web Audio, since a player without range requests reports an Ogg file's duration as Infinity).
    const player = page.locator('.msg-out audio');
    await player.waitFor();
    const src = await player.getAttribute('src');
    const duration = await page.evaluate(async (url) => {
      const bytes = await (await fetch(url!)).arrayBuffer();
      const context = new (
        globalThis as unknown as {
          OfflineAudioContext: new (
            c: number,
            l: number,
            r: number,
          ) => {
            decodeAudioData(b: ArrayBuffer): Promise<{ duration: number }>;
          };
        }
      ).OfflineAudioContext(1, 48_000, 48_000);
      return (await context.decodeAudioData(bytes)).duration;
    }, src);
    // 2 s and the time the screenshot took; what Chromium decodes is what the last page's granule position says.
    expect(duration).toBeGreaterThan(1.5);
    expect(duration).toBeLessThan(8);
    const lastPage = file.data.lastIndexOf('OggS');
    const preSkip = file.data.readUInt16LE(file.data.indexOf('OpusHead') + 10);
    const granuleSeconds = (Number(file.data.readBigUInt64LE(lastPage + 6)) - preSkip) / 48_000;
    expect(Math.abs(duration - granuleSeconds)).toBeLessThan(0.05);
    await page.screenshot({ path: path.join(SHOTS, 'voice-sent-de-desktop.png') });

    // Discard: nothing goes out.
    const before = stack.phone.sentMessages().length;
    await page.getByRole('button', { name: 'Sprachnachricht aufnehmen' }).click();
    await page.locator('.voice-time').waitFor();
    await page.waitForTimeout(600);
    await page.getByRole('button', { name: 'Verwerfen' }).click();
    await page.getByRole('button', { name: 'Sprachnachricht aufnehmen' }).waitFor();
    await page.waitForTimeout(500);
    expect(stack.phone.sentMessages().length).toBe(before);
  });

  it('phone size and English: recording and the sent voice note fit without scrolling sideways', async () => {
    for (const language of ['de', 'en'] as const) {
      await setLanguage(page, language);
      for (const [size, viewport] of [
        ['desktop', { width: 1280, height: 800 }],
        ['phone', { width: 390, height: 844 }],
      ] as const) {
        if (language === 'de' && size === 'desktop') continue; // taken above
        await page.setViewportSize(viewport);
        await page.reload();
        const open = page.locator('.conv-item').first();
        if (await open.isVisible()) await open.click();
        const record = page.getByRole('button', {
          name: language === 'de' ? 'Sprachnachricht aufnehmen' : 'Record a voice message',
        });
        await record.click();
        await page.locator('.voice-time').waitFor();
        await page.waitForTimeout(1200);
        expect(await scrollWidth(page)).toBeLessThanOrEqual(viewport.width);
        await page.screenshot({ path: path.join(SHOTS, `voice-recording-${language}-${size}.png`) });
        await page.getByRole('button', { name: language === 'de' ? 'Verwerfen' : 'Discard' }).click();
        await record.waitFor();
        await page.locator('.msg-out audio').first().scrollIntoViewIfNeeded();
        await page.screenshot({ path: path.join(SHOTS, `voice-sent-${language}-${size}.png`) });
      }
    }
    await setLanguage(page, 'de');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('says in words when the microphone is refused', async () => {
    // Without --use-fake-ui-for-media-stream and without a granted permission, headless Chromium refuses access.
    const strict = await launchChromium(['--use-fake-device-for-media-stream']);
    try {
      for (const [language, viewport, size] of [
        ['de', { width: 1280, height: 800 }, 'desktop'],
        ['en', { width: 390, height: 844 }, 'phone'],
      ] as const) {
        const denied = await (
          await strict.newContext({ viewport, locale: language === 'de' ? 'de-DE' : 'en-GB' })
        ).newPage();
        await denied.context().addCookies(await context.cookies());
        await setLanguage(page, language);
        await denied.goto(stack.baseUrl);
        await denied.locator('.conv-item').first().click();
        await denied
          .getByRole('button', { name: language === 'de' ? 'Sprachnachricht aufnehmen' : 'Record a voice message' })
          .click();
        const alert = denied.getByRole('alert');
        await alert.waitFor();
        expect(await alert.textContent()).toContain(
          language === 'de' ? 'Kein Zugriff auf das Mikrofon' : 'No access to the microphone',
        );
        expect(await scrollWidth(denied)).toBeLessThanOrEqual(viewport.width);
        await denied.screenshot({ path: path.join(SHOTS, `voice-denied-${language}-${size}.png`) });
        await denied.close();
      }
    } finally {
      await setLanguage(page, 'de');
      await strict.close();
    }
  });

  it('builds a list, sends it, and shows the row the customer chose', async () => {
    await page.reload();
    await page.locator('.conv-item').first().click();
    await page.locator('#composer-text').fill('Welcher Termin passt Ihnen?');
    await page.getByRole('button', { name: 'Liste' }).click();
    const list = page.locator('.composer-list');
    await list.getByRole('textbox', { name: 'Zeile 1', exact: true }).fill('Dienstag 9 Uhr');
    await list.getByRole('textbox', { name: 'Beschreibung von Zeile 1' }).fill('Werkstatt Nord');
    await list.getByRole('button', { name: 'Weitere Zeile' }).click();
    await list.getByRole('textbox', { name: 'Zeile 2', exact: true }).fill('Mittwoch 14 Uhr');
    await page.screenshot({ path: path.join(SHOTS, 'list-compose-de-desktop.png') });
    await page.getByRole('button', { name: 'Senden', exact: true }).click();
    const sent = await until('the list on the phone', () =>
      stack.phone.sentMessages().find((m) => m.to === CUSTOMER && m.list),
    );
    expect(sent.list).toEqual({
      button: 'Auswählen',
      sections: [
        {
          rows: [
            { id: 'row-1', title: 'Dienstag 9 Uhr', description: 'Werkstatt Nord' },
            { id: 'row-2', title: 'Mittwoch 14 Uhr' },
          ],
        },
      ],
    });
    await page.locator('.msg-out .msg-list', { hasText: 'Mittwoch 14 Uhr' }).waitFor();
    await stack.phone.sendCustomerMessage({ from: CUSTOMER, listReply: { id: 'row-2', title: 'Mittwoch 14 Uhr' } });
    const chosen = page.locator('.msg-in', { hasText: 'Mittwoch 14 Uhr' });
    await chosen.locator('.msg-quote', { hasText: 'Welcher Termin passt Ihnen?' }).waitFor({ timeout: 15_000 });
    await page.screenshot({ path: path.join(SHOTS, 'list-sent-de-desktop.png') });

    // English on a phone: the list builder fits.
    await setLanguage(page, 'en');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    const open = page.locator('.conv-item').first();
    if (await open.isVisible()) await open.click();
    await page.locator('#composer-text').fill('Which time suits you?');
    await page.getByRole('button', { name: 'List' }).click();
    await page.getByRole('textbox', { name: 'Row 1', exact: true }).fill('Tuesday 9 am');
    await page.getByRole('button', { name: 'Another row' }).click();
    expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
    await page.locator('.composer-list').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'list-compose-en-phone.png') });
    await setLanguage(page, 'de');
  });
});
