import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt } from '../../web/build.mjs';
import { firstLogin, launchChromium, startStack, type Stack } from './browser-support.ts';
import { hasTool } from '../support/tools.ts';

/**
 * The admin adds a WhatsApp channel in the Kanäle screen, copies the webhook URL and the generated verify token,
 * changes a setting, and removes the channel after typing its id; at desktop and phone size, German and English.
 */
const SHOTS = process.env.SPARSAM_SCREENSHOTS ?? path.join(process.env.TMPDIR ?? '/tmp', 'sparsam-shots');
const PASSWORD = 'kanal-admin-passwort-1';

describe.skipIf(!hasTool('chromium'))('channels managed in the admin screen, in Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  /** The channel form keeps within its card: nothing in it is wider than the card (the page's own bars aside). */
  const formFits = () =>
    page
      .locator('form.channel-editor')
      .evaluate((form) =>
        [...form.querySelectorAll('*')].every(
          (el) => el.getBoundingClientRect().right <= form.getBoundingClientRect().right + 1,
        ),
      );

  beforeAll(async () => {
    await ensureWebBuilt();
    mkdirSync(SHOTS, { recursive: true });
    stack = await startStack({
      admin: { email: 'clara@autohaus-beispiel.de', password: PASSWORD, displayName: 'Clara Admin' },
    });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'de-DE' })).newPage();
    page.setDefaultTimeout(10_000);
    await firstLogin(page, stack, 'clara@autohaus-beispiel.de', PASSWORD);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('adds a channel, shows its verify token once, changes it and removes it after the id is typed', async () => {
    await page.getByRole('link', { name: 'Verwaltung' }).click();
    await page.getByRole('navigation', { name: 'Verwaltungsbereiche' }).getByRole('link', { name: 'Kanäle' }).click();
    // The declared channel has no edit or remove button.
    const declared = page.locator('.channel-card', { hasText: 'wa-main' });
    await declared.waitFor();
    expect(await declared.getByRole('button', { name: 'Entfernen' }).count()).toBe(0);

    await page.getByRole('button', { name: 'Kanal hinzufügen' }).click();
    const form = page.locator('form.channel-editor');
    await form.getByLabel('Art').selectOption('whatsapp-cloud');
    await form.getByLabel('Kennung').fill('wa-werkstatt');
    await form.getByLabel('Telefonnummern-ID (Phone number ID)').fill('106540352211111');
    await form.getByLabel('Zugriffstoken (System-User-Token)').fill('EAAG-werkstatt-token-42');
    await form.getByLabel('App-Geheimnis (App Secret)').fill('werkstatt-app-secret-42');
    expect(await form.getByLabel('Verify-Token').getAttribute('placeholder')).toContain('erzeugt');
    await shot('admin-channel-add');
    await form.getByRole('button', { name: 'Kanal anlegen' }).click();

    const created = page.locator('section', { hasText: 'Kanal wa-werkstatt ist angelegt' });
    await created.waitFor();
    await created.getByText('https://inbox.autohaus-beispiel.de/webhooks/whatsapp/wa-werkstatt').waitFor();
    const token = (await created.locator('code').nth(1).textContent())!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    await created.getByText('zeigt ihn nie wieder an').waitFor();
    await shot('admin-channel-created');
    await created.getByRole('button', { name: 'Schließen' }).click();
    // Never shown again: not in the list, not in the edit form.
    const card = page.locator('.channel-card', { hasText: 'wa-werkstatt' });
    await card.waitFor();
    expect(await page.content()).not.toContain(token);
    expect(await page.content()).not.toContain('EAAG-werkstatt-token-42');

    await card.getByRole('button', { name: 'Bearbeiten' }).click();
    const edit = page.locator('form.channel-editor');
    expect(await edit.getByLabel('Zugriffstoken (System-User-Token)').inputValue()).toBe('');
    await edit.getByLabel('Nachrichten pro Sekunde (Limit des Anbieters)').fill('20');
    await edit.getByRole('button', { name: 'Speichern' }).click();
    await page.getByText('Gespeichert.').waitFor();
    const row = await stack.sparsam.inboxes.findChannel('wa-werkstatt');
    expect(row?.settings).toMatchObject({ messagesPerSecond: 20 });

    // Escape closes the removal dialog without removing anything.
    await card.getByRole('button', { name: 'Entfernen' }).click();
    const dialog = page.getByRole('dialog', { name: 'Kanal wa-werkstatt entfernen?' });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await stack.sparsam.inboxes.findChannel('wa-werkstatt')).toBeDefined();

    await card.getByRole('button', { name: 'Entfernen' }).click();
    await dialog.waitFor();
    const confirm = dialog.getByRole('button', { name: 'Entfernen' });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel('Zur Bestätigung die Kennung „wa-werkstatt“ eingeben').fill('wa-werkstatt');
    await shot('admin-channel-remove');
    await confirm.click();
    await page.getByText('Kanal entfernt. Gelöscht: 0 Kontakte und 0 Unterhaltungen.').waitFor();
    expect(await stack.sparsam.inboxes.findChannel('wa-werkstatt')).toBeUndefined();
  });

  it('fits a phone and reads in English', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Kanal hinzufügen' }).click();
    await page.locator('form.channel-editor').waitFor();
    await shot('admin-channel-add-phone');
    expect(await formFits()).toBe(true);
    await page.getByRole('button', { name: 'Abbrechen' }).click();

    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole('link', { name: 'Mein Konto' }).click();
    await page.getByLabel('Sprache').selectOption('en');
    await page.getByRole('button', { name: 'Speichern' }).first().click();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    await page.getByRole('link', { name: 'Admin', exact: true }).click();
    await page.getByRole('navigation', { name: 'Admin sections' }).getByRole('link', { name: 'Channels' }).click();
    await page.getByRole('button', { name: 'Add channel' }).click();
    const form = page.locator('form.channel-editor');
    await form.getByLabel('Kind').selectOption('telegram');
    await form.getByLabel('Bot token').waitFor();
    await shot('admin-channel-add-en');
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await formFits()).toBe(true);
    await shot('admin-channel-add-en-phone');
  });
});
