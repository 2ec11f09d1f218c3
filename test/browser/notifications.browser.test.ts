import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt } from '../../web/build.mjs';
import { launchChromium, startStack, type Stack } from './browser-support.ts';
import { hasTool } from '../support/tools.ts';

/**
 * The installable app and the open tab's attention signals in Debian Chromium: the manifest and the service worker
 * are served and the worker takes control; the tab title shows the unread count and a chime sounds when a customer
 * writes; the notification settings in "Mein Konto" at desktop and phone size, in German and English.
 * Screenshots go to SPARSAM_SCREENSHOTS (docs/screenshots when refreshing the documentation) or a temp dir.
 */
const SHOTS = process.env.SPARSAM_SCREENSHOTS ?? path.join(process.env.TMPDIR ?? '/tmp', 'sparsam-shots');
const PASSWORD = 'werkstatt-agent-passwort';
const DESKTOP = { width: 1280, height: 800 };

/** The browser globals the page scripts below use (the test project is typed without the DOM library). */
interface PageGlobals {
  document: { title: string; querySelector(s: string): { scrollWidth: number } | null };
  innerWidth: number;
  navigator: { serviceWorker: { ready: Promise<{ scope: string; active: { scriptURL: string } | null }> } };
  caches: { match(url: string): Promise<unknown> };
  AudioContext: { prototype: { createOscillator(): unknown } };
  chimes: number;
}
const PHONE = { width: 390, height: 844 };

/** Password login of an agent (no second factor required for agents by default). */
async function login(page: Page, baseUrl: string, email: string): Promise<void> {
  await page.goto(`${baseUrl}/inbox`);
  await page.getByLabel('E-Mail-Adresse').fill(email);
  await page.getByLabel('Passwort').fill(PASSWORD);
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.locator('nav.topnav').waitFor({ state: 'attached' });
}

/**
 * The settings form fits its column: nothing in it reaches past its right edge or scrolls sideways, and the column
 * is no wider than the screen unless the top bar (the shell, outside this screen) already widened the page.
 */
async function fitsWidth(page: Page): Promise<void> {
  const m = await page.locator('form.notify-settings').evaluate((form) => {
    const edge = form.getBoundingClientRect().right;
    const wide = [...form.querySelectorAll('*')]
      .filter((el) => el.getBoundingClientRect().right > edge + 0.5)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
    const g = globalThis as unknown as PageGlobals;
    const topbar = g.document.querySelector('.topbar');
    return {
      wide,
      scroll: form.scrollWidth,
      client: form.clientWidth,
      right: edge,
      inner: g.innerWidth,
      shellWidth: Math.max(g.innerWidth, topbar ? topbar.scrollWidth : 0),
    };
  });
  expect(m.wide).toEqual([]);
  expect(m.scroll).toBeLessThanOrEqual(m.client);
  expect(m.right).toBeLessThanOrEqual(m.shellWidth);
  return void (m.shellWidth > m.inner && console.warn(`the top bar is ${m.shellWidth}px wide at ${m.inner}px`));
}

/** A screenshot of the viewport with the settings form scrolled to its top. */
async function shotOfForm(page: Page, name: string): Promise<void> {
  await page.locator('form.notify-settings').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: path.join(SHOTS, name) });
}

describe.skipIf(!hasTool('chromium'))('notifications in Chromium: app, badge, settings', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const customer = '4915198765432';

  beforeAll(async () => {
    await ensureWebBuilt();
    mkdirSync(SHOTS, { recursive: true });
    stack = await startStack();
    await stack.sparsam.accounts.createUser({
      email: 'ben@autohaus-beispiel.de',
      password: PASSWORD,
      role: 'agent',
      displayName: 'Ben Weber',
      language: 'de',
    });
    await stack.sparsam.accounts.createUser({
      email: 'anna@autohaus-beispiel.de',
      password: PASSWORD,
      role: 'admin',
      displayName: 'Anna Schmidt',
      language: 'de',
    });
    await stack.sparsam.accounts.createUser({
      email: 'emma@autohaus-beispiel.de',
      password: PASSWORD,
      role: 'agent',
      displayName: 'Emma Clark',
      language: 'en',
    });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: DESKTOP, locale: 'de-DE', timezoneId: 'Europe/Berlin' });
    // Counts the chime's tones: Web Audio plays nothing audible headless, but the oscillators are made.
    await context.addInitScript(() => {
      const w = globalThis as unknown as PageGlobals;
      w.chimes = 0;
      const original = w.AudioContext.prototype.createOscillator;
      w.AudioContext.prototype.createOscillator = function (this: unknown) {
        w.chimes += 1;
        return original.call(this);
      };
    });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('serves the manifest and a service worker that takes control', async () => {
    await login(page, stack.baseUrl, 'ben@autohaus-beispiel.de');
    const manifestHref = await page.locator('link[rel="manifest"]').getAttribute('href');
    expect(manifestHref).toBe('/manifest.webmanifest');
    const manifest = await page.evaluate(async (href) => {
      const res = await fetch(href);
      return { type: res.headers.get('content-type'), body: (await res.json()) as Record<string, unknown> };
    }, manifestHref!);
    expect(manifest.type).toContain('manifest+json');
    expect(manifest.body).toMatchObject({ name: 'sparsam', display: 'standalone', start_url: '/inbox' });
    const icons = manifest.body.icons as { src: string; sizes: string }[];
    expect(icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
    for (const icon of icons) {
      const status = await page.evaluate(async (src) => (await fetch(src)).status, icon.src);
      expect(status, icon.src).toBe(200);
    }
    const worker = await page.evaluate(async () => {
      const registration = await (globalThis as unknown as PageGlobals).navigator.serviceWorker.ready;
      return { scope: registration.scope, script: registration.active?.scriptURL ?? null };
    });
    expect(worker.scope).toBe(`${stack.baseUrl}/`);
    expect(worker.script).toBe(`${stack.baseUrl}/sw.js`);
    // The offline shell is in the worker's cache.
    const cached = await page.evaluate(async () =>
      Boolean(await (globalThis as unknown as PageGlobals).caches.match('/offline.html')),
    );
    expect(cached).toBe(true);
  });

  it('shows the unread count in the tab title and chimes when a customer writes', async () => {
    expect(await page.title()).toBe('sparsam');
    const first = await stack.phone.sendCustomerMessage({ from: customer, name: 'Jürgen', text: 'Hallo?' });
    expect(first.delivered).toBe(true);
    const deadline = Date.now() + 15_000;
    let notice;
    while (!notice && Date.now() < deadline) {
      notice = stack.phone.sentMessages().find((m) => m.to === customer && (m.buttons?.length ?? 0) > 0);
      if (!notice) await new Promise((r) => setTimeout(r, 100));
    }
    const agree = notice!.buttons!.find((b) => b.id.includes('agree'))!;
    await stack.phone.sendCustomerMessage({ from: customer, buttonReply: { id: agree.id, title: agree.title } });
    await page.waitForFunction(() => /^\(\d+\) sparsam$/.test((globalThis as unknown as PageGlobals).document.title));
    const before = Number(/^\((\d+)\)/.exec(await page.title())![1]);
    const chimesBefore = await page.evaluate(() => (globalThis as unknown as { chimes: number }).chimes);

    await stack.phone.sendCustomerMessage({ from: customer, text: 'Ist jemand da?' });
    await page.waitForFunction(
      (n) => (globalThis as unknown as PageGlobals).document.title === `(${n}) sparsam`,
      before + 1,
    );
    const chimes = await page.evaluate(() => (globalThis as unknown as { chimes: number }).chimes);
    expect(chimes).toBeGreaterThan(chimesBefore);
    // The title names no customer and no text.
    expect(await page.title()).not.toMatch(/Jürgen|jemand|4915/);
  });

  it('saves the notification choices in Mein Konto (desktop and phone, German)', async () => {
    await page.goto(`${stack.baseUrl}/account`);
    const section = page.locator('form.notify-settings');
    await section.getByRole('heading', { name: 'Benachrichtigungen' }).waitFor();
    await section.getByText('Push-Benachrichtigungen sind auf diesem Gerät aus.').waitFor();
    await section.getByLabel('Neue Anfrage', { exact: true }).uncheck();
    await section.getByLabel('Ruhezeiten einhalten (kein Push, keine E-Mail)').check();
    await section.getByLabel('von').fill('21:30');
    await section.getByRole('button', { name: 'Speichern' }).click();
    await section.getByText('Gespeichert.').waitFor();
    const saved = await page.evaluate(async () => (await (await fetch('/api/v1/me/notifications')).json()) as never);
    expect(saved).toMatchObject({
      prefs: {
        events: { 'conversation.new': false, 'message.new': true },
        quietHours: { enabled: true, start: '21:30', timeZone: 'Europe/Berlin' },
      },
    });
    await shotOfForm(page, 'notify-account-de-desktop.png');
    await fitsWidth(page);

    await page.setViewportSize(PHONE);
    await page.reload();
    await section
      .getByText('Gespeichert.')
      .or(section.getByRole('heading', { name: 'Benachrichtigungen' }))
      .first()
      .waitFor();
    // After a reload the stored choices are shown.
    expect(await section.getByLabel('Neue Anfrage', { exact: true }).isChecked()).toBe(false);
    await fitsWidth(page);
    await shotOfForm(page, 'notify-account-de-phone.png');
  });

  it('shows the settings in English at desktop and phone size', async () => {
    const en = await browser.newContext({ viewport: PHONE, locale: 'en-GB', timezoneId: 'Europe/London' });
    const p = await en.newPage();
    p.setDefaultTimeout(15_000);
    await login(p, stack.baseUrl, 'emma@autohaus-beispiel.de');
    await p.goto(`${stack.baseUrl}/account`);
    const section = p.locator('form.notify-settings');
    await section.getByRole('heading', { name: 'Notifications' }).waitFor();
    await section.getByText('New message in my conversations').waitFor();
    await section.getByText('No admin has set up e-mail notifications yet.').waitFor();
    await fitsWidth(p);
    await shotOfForm(p, 'notify-account-en-phone.png');
    await p.setViewportSize(DESKTOP);
    await fitsWidth(p);
    await shotOfForm(p, 'notify-account-en-desktop.png');
    await en.close();
  });
  it('lets an admin set up SMTP with a sealed password (desktop and phone, German and English)', async () => {
    const ctx = await browser.newContext({ viewport: DESKTOP, locale: 'de-DE' });
    const p = await ctx.newPage();
    p.setDefaultTimeout(15_000);
    await p.goto(`${stack.baseUrl}/inbox`);
    await p.getByLabel('E-Mail-Adresse').fill('anna@autohaus-beispiel.de');
    await p.getByLabel('Passwort').fill(PASSWORD);
    await p.getByRole('button', { name: 'Anmelden' }).click();
    // Admins enrol a second factor first.
    await p.locator('code.secret').waitFor();
    const secret = (await p.locator('code.secret').textContent())!.replace(/\s/g, '');
    const code = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({
      timestamp: stack.clock.now().getTime(),
    });
    await p.getByLabel('Code').fill(code);
    await p.getByRole('button', { name: 'Bestätigen' }).click();
    await p.getByRole('button', { name: 'Ich habe die Codes gesichert' }).click();
    await p.locator('nav.topnav').waitFor({ state: 'attached' });

    await p.goto(`${stack.baseUrl}/admin/notifications`);
    const form = p.locator('form[aria-labelledby="smtp-title"]');
    await form.getByRole('heading', { name: 'E-Mail-Benachrichtigungen (SMTP)' }).waitFor();
    await form.getByLabel('E-Mail-Benachrichtigungen anbieten').check();
    await form.getByLabel('SMTP-Server').fill('smtp.autohaus-beispiel.de');
    await form.getByLabel('Benutzername').fill('sparsam');
    await form.getByLabel('Passwort').fill('smtp-geheim-123');
    await form.getByLabel('Absenderadresse').fill('sparsam@autohaus-beispiel.de');
    await form.getByRole('button', { name: 'Speichern' }).click();
    await form.getByText('Gespeichert.', { exact: true }).waitFor();
    // The password is kept, never shown again.
    expect(await form.getByLabel('Passwort').inputValue()).toBe('');
    expect(await form.getByLabel('Passwort').getAttribute('placeholder')).toContain('gespeichert');
    await form.getByRole('button', { name: 'Test-E-Mail senden' }).waitFor();
    await p.screenshot({ path: path.join(SHOTS, 'notify-admin-smtp-de-desktop.png') });
    await p.setViewportSize(PHONE);
    await form.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await p.screenshot({ path: path.join(SHOTS, 'notify-admin-smtp-de-phone.png') });

    // The same screen in English: the admin switches their language in Mein Konto.
    await p.setViewportSize(DESKTOP);
    await p.goto(`${stack.baseUrl}/account`);
    const profile = p.locator('form').first();
    await profile.getByLabel('Sprache').selectOption('en');
    await profile.getByRole('button', { name: 'Speichern' }).click();
    await p.getByRole('heading', { name: 'My account' }).waitFor();
    await p.goto(`${stack.baseUrl}/admin/notifications`);
    await form.getByRole('heading', { name: 'E-mail notifications (SMTP)' }).waitFor();
    await form.getByRole('button', { name: 'Send test e-mail' }).waitFor();
    await p.screenshot({ path: path.join(SHOTS, 'notify-admin-smtp-en-desktop.png') });
    await p.setViewportSize(PHONE);
    await form.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await p.screenshot({ path: path.join(SHOTS, 'notify-admin-smtp-en-phone.png') });
    await ctx.close();
    const stored = await stack.sparsam.store.db.selectFrom('settings').select('value').execute();
    expect(stored.map((r) => r.value).join('\n')).not.toContain('smtp-geheim-123');
  });
});
