import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Secret, TOTP } from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { startSparsam, type Sparsam } from '../../src/main.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { ensureWebBuilt } from '../../web/build.mjs';
import { hasTool } from '../support/tools.ts';
import { launchChromium } from './browser-support.ts';

/**
 * The website chat in Chromium, embedded in a business's page that sends a strict content security policy
 * (`default-src 'self'; script-src <sparsam>; style-src <sparsam>; connect-src <sparsam>`): no CSP violation, the
 * privacy notice accepted before anything is stored, a message and the agent's live reply, all by keyboard; axe-core
 * finds no WCAG 2.1 A/AA violation in the window. Screenshots (desktop and phone, German and English) go to
 * SPARSAM_SCREENSHOTS (docs/screenshots when refreshing the documentation) or a temp dir.
 */
const SHOTS = process.env.SPARSAM_SCREENSHOTS ?? path.join(process.env.TMPDIR ?? '/tmp', 'sparsam-shots');
const SPARSAM_PORT = 19231;
const SITE_PORT = 19232;
const SPARSAM = `http://127.0.0.1:${SPARSAM_PORT}`;
const SITE = `http://127.0.0.1:${SITE_PORT}`;
const CSP = `default-src 'self'; script-src ${SPARSAM}; style-src ${SPARSAM}; connect-src ${SPARSAM}`;
/** True when the element has the focus inside its shadow root. */
const IS_FOCUSED = (el: { getRootNode(): unknown }) =>
  (el.getRootNode() as { activeElement: unknown }).activeElement === el;
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

function sitePage(lang: 'de' | 'en'): string {
  const [title, text] =
    lang === 'de'
      ? ['Autohaus Beispiel – Werkstatt', 'Termine, Reparaturen und Reifenwechsel. Fragen? Schreiben Sie uns im Chat.']
      : ['Autohaus Beispiel – Workshop', 'Appointments, repairs and tyre changes. Questions? Write to us in the chat.'];
  return (
    `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head>` +
    `<body><header><h1>${title}</h1></header><main><p>${text}</p><p><a href="/">Start</a></p></main>` +
    `<script src="${SPARSAM}/webchat/chat/widget.js" async></script></body></html>`
  );
}

describe.skipIf(!hasTool('chromium'))('website chat embedded in a page with a strict CSP', () => {
  let sparsam: Sparsam;
  let site: Server;
  let browser: Browser;
  let dataDir: string;
  let agentToken: string;

  beforeAll(async () => {
    await ensureWebBuilt();
    mkdirSync(SHOTS, { recursive: true });
    dataDir = mkdtempSync(path.join(tmpdir(), 'sparsam-webchat-'));
    const configFile = path.join(dataDir, 'sparsam.yaml');
    writeFileSync(
      configFile,
      [
        'organisation:',
        '  name: Autohaus Beispiel GmbH',
        '  contact: datenschutz@autohaus-beispiel.de',
        'inboxes:',
        '  - id: service',
        '    labelPrefix: Anfrage',
        'channels:',
        '  - id: chat',
        '    kind: webchat',
        '    inbox: service',
        `    allowedOrigins: ["${SITE}"]`,
        '    title: Autohaus Beispiel',
        '    primaryColour: "#0b5cad"',
        '    greeting:',
        '      de: Guten Tag! Fragen zu Ihrem Auto?',
        '      en: Hello! Questions about your car?',
      ].join('\n'),
    );
    const config = loadConfig({
      env: {
        SPARSAM_DATA_DIR: dataDir,
        SPARSAM_CONFIG: configFile,
        SPARSAM_PORT: String(SPARSAM_PORT),
        SPARSAM_HOST: '127.0.0.1',
        SPARSAM_BASE_URL: SPARSAM,
      },
    });
    ({ sparsam } = await startSparsam(config, { logger: createLogger({ level: 'warn' }) }));
    agentToken = (await sparsam.accounts.createApiToken('agent', 'agent')).token;
    site = createServer((req, res) => {
      const lang = req.url?.startsWith('/en') ? 'en' : 'de';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP });
      res.end(sitePage(lang));
    });
    await new Promise<void>((resolve) => site.listen(SITE_PORT, '127.0.0.1', resolve));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (site ? site.close(() => resolve()) : resolve()));
    await sparsam?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const rows = async (table: 'contacts' | 'consent_events' | 'messages') =>
    Number(
      (
        await sparsam.store.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  async function api(method: 'GET' | 'POST', url: string, body?: unknown) {
    const response = await fetch(`${SPARSAM}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${agentToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  /** A fresh visitor (own context: no shared storage) at the given size, with CSP reports collected. */
  async function visit(
    lang: 'de' | 'en',
    viewport: { width: number; height: number },
  ): Promise<{ context: BrowserContext; page: Page; violations: string[] }> {
    const context = await browser.newContext({ viewport, locale: lang === 'de' ? 'de-DE' : 'en-GB' });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/content security policy/i.test(message.text())) violations.push(`console: ${message.text()}`);
    });
    await page.exposeFunction('reportViolation', (text: string) => violations.push(text));
    // Page-side code as strings: the tests are compiled without the DOM library.
    await page.addInitScript(
      `document.addEventListener('securitypolicyviolation', (e) => void window.reportViolation(e.violatedDirective + ' ' + e.blockedURI));`,
    );
    await page.goto(`${SITE}/${lang === 'en' ? 'en' : ''}`);
    return { context, page, violations };
  }

  async function tabTo(page: Page, name: RegExp, max = 15): Promise<void> {
    for (let i = 0; i < max; i++) {
      await page.keyboard.press('Tab');
      const focused = String(
        await page.evaluate(`(() => {
          let el = document.activeElement;
          while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
          return ((el && el.getAttribute('aria-label')) || '') + ' ' + ((el && el.textContent) || '');
        })()`),
      ).trim();
      if (name.test(focused)) return;
    }
    throw new Error(`could not reach ${String(name)} with Tab`);
  }

  /**
   * axe-core's WCAG 2.1 A/AA rules over the chat window. axe adds <style> elements of its own while it runs (its
   * colour-contrast and visibility checks), which the page's CSP blocks and reports: the reports up to the run are
   * checked to be empty first, and the ones the run itself caused are dropped.
   */
  async function axe(page: Page, violations: string[]): Promise<{ id: string; nodes: number }[]> {
    expect(violations).toEqual([]);
    await page.evaluate(AXE_SOURCE);
    const found = (await page.evaluate(`(async () => {
      const result = await window.axe.run(
        { include: [['#sparsam-webchat']] },
        { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } },
      );
      return result.violations.map((v) => ({ id: v.id, nodes: v.nodes.length }));
    })()`)) as { id: string; nodes: number }[];
    await page.waitForTimeout(100);
    violations.length = 0;
    return found;
  }

  it('consent, message and live reply by keyboard, without CSP violations or accessibility errors (German, desktop)', async () => {
    const { context, page, violations } = await visit('de', { width: 1280, height: 800 });
    const launcher = page.getByRole('button', { name: 'Chat öffnen' });
    await launcher.waitFor();
    await page.screenshot({ caret: 'initial', path: path.join(SHOTS, 'webchat-01-launcher-de.png') });

    // Keyboard only: Tab to the launcher, Enter opens the window and moves the focus into it.
    await tabTo(page, /Chat öffnen/);
    await page.keyboard.press('Enter');
    await expect.poll(() => launcher.getAttribute('aria-expanded')).toBe('true');
    const accept = page.getByRole('button', { name: 'Zustimmen und Chat starten' });
    await expect.poll(() => accept.evaluate(IS_FOCUSED)).toBe(true);
    await expect.poll(() => page.getByText('Gespräch vergessen', { exact: false }).first().isVisible()).toBe(true);
    await page.screenshot({ caret: 'initial', path: path.join(SHOTS, 'webchat-02-consent-de.png') });
    expect(await axe(page, violations)).toEqual([]);
    // Reading the notice stores nothing.
    expect(await rows('contacts')).toBe(0);
    expect(await rows('consent_events')).toBe(0);

    await page.keyboard.press('Enter');
    const input = page.getByRole('textbox', { name: 'Ihre Nachricht' });
    await expect.poll(() => input.evaluate(IS_FOCUSED)).toBe(true);
    expect(await rows('consent_events')).toBe(1);
    // Only the token is kept in the browser; no cookies.
    const storage = (await page.evaluate('Object.entries(localStorage)')) as [string, string][];
    expect(storage).toHaveLength(1);
    expect(storage[0]![0]).toBe('sparsam-webchat:chat');
    expect(storage[0]![1]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await context.cookies()).toEqual([]);

    await page.keyboard.type('Guten Tag, ist mein Auto schon fertig?');
    await page.keyboard.press('Enter');
    const log = page.getByRole('log');
    await expect.poll(() => log.textContent()).toContain('ist mein Auto schon fertig?');
    // The window shows the text as it sends it; the server stores it a moment later.
    await expect.poll(() => rows('messages')).toBe(1);

    // The agent sees it and answers; the reply appears live in the window (server-sent events).
    const list = await api('GET', '/api/v1/conversations?view=all');
    const [conversation] = list.json.items as { id: string; channelKind: string }[];
    expect(conversation!.channelKind).toBe('webchat');
    const reply = await api('POST', `/api/v1/conversations/${conversation!.id}/messages`, {
      text: 'Ja, Sie können es ab 16 Uhr abholen.',
    });
    expect(reply.status).toBe(202);
    await expect.poll(() => log.textContent(), { timeout: 15_000 }).toContain('ab 16 Uhr abholen');
    // The window was open and visible: the reply is marked read for the agent.
    await expect
      .poll(
        async () => {
          const detail = await api('GET', `/api/v1/conversations/${conversation!.id}`);
          return (detail.json.messages as { text: string; status: string }[]).find((m) => m.text?.includes('16 Uhr'))
            ?.status;
        },
        { timeout: 10_000 },
      )
      .toBe('read');
    await page.screenshot({ caret: 'initial', path: path.join(SHOTS, 'webchat-03-chat-de.png') });
    expect(await axe(page, violations)).toEqual([]);

    // Escape closes the window and gives the focus back to the launcher.
    await input.focus();
    await page.keyboard.press('Escape');
    await expect.poll(() => launcher.getAttribute('aria-expanded')).toBe('false');
    await expect.poll(() => launcher.evaluate(IS_FOCUSED)).toBe(true);

    // "Forget this chat", by keyboard: everything is erased and the browser forgets the token.
    await page.keyboard.press('Enter');
    await tabTo(page, /Gespräch vergessen/, 30);
    await page.keyboard.press('Enter');
    // The confirmation focuses the harmless "Abbrechen"; deleting is one Shift+Tab back.
    const focusedText = () =>
      page.evaluate(`(() => {
        let el = document.activeElement;
        while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
        return (el && el.textContent) || '';
      })()`);
    await expect.poll(focusedText).toBe('Abbrechen');
    await page.keyboard.press('Shift+Tab');
    expect(await focusedText()).toBe('Ja, alles löschen');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate('localStorage.length')).toBe(0);
    await expect.poll(() => rows('messages')).toBe(0);
    expect(await rows('contacts')).toBe(0);
    await expect.poll(() => page.getByRole('button', { name: 'Zustimmen und Chat starten' }).isVisible()).toBe(true);

    expect(violations).toEqual([]);
    await context.close();
  });

  it('English page, phone size: the window fills the screen and speaks English; German on the phone too', async () => {
    for (const lang of ['en', 'de'] as const) {
      const { context, page, violations } = await visit(lang, { width: 390, height: 844 });
      const open = page.getByRole('button', { name: lang === 'en' ? 'Open chat' : 'Chat öffnen' });
      await open.click();
      const accept = page.getByRole('button', {
        name: lang === 'en' ? 'Agree and start chat' : 'Zustimmen und Chat starten',
      });
      await accept.waitFor();
      const panel = page.getByRole('dialog');
      const box = await panel.boundingBox();
      expect(box?.width).toBe(390);
      await page.screenshot({ caret: 'initial', path: path.join(SHOTS, `webchat-04-consent-${lang}-phone.png`) });
      expect(await axe(page, violations)).toEqual([]);
      await accept.click();
      const input = page.getByRole('textbox', { name: lang === 'en' ? 'Your message' : 'Ihre Nachricht' });
      await input.fill(
        lang === 'en' ? 'Can I book a tyre change for Friday?' : 'Kann ich für Freitag einen Reifenwechsel buchen?',
      );
      await page.getByRole('button', { name: lang === 'en' ? 'Send' : 'Senden' }).click();
      await expect
        .poll(() => page.getByRole('log').textContent())
        .toContain(lang === 'en' ? 'tyre change' : 'Reifenwechsel');
      // The window shows the text as it sends it; the agent's list has it once the server stored it.
      const listed = async () => (await api('GET', '/api/v1/conversations?view=all')).json.items as { id: string }[];
      await expect.poll(async () => (await listed()).length).toBeGreaterThan(0);
      const items = await listed();
      await api('POST', `/api/v1/conversations/${items[0]!.id}/messages`, {
        text: lang === 'en' ? 'Yes, Friday at 9 works.' : 'Ja, Freitag um 9 Uhr passt.',
      });
      await expect
        .poll(() => page.getByRole('log').textContent(), { timeout: 15_000 })
        .toContain(lang === 'en' ? 'Friday at 9' : 'Freitag um 9');
      await page.screenshot({ caret: 'initial', path: path.join(SHOTS, `webchat-05-chat-${lang}-phone.png`) });
      expect(await axe(page, violations)).toEqual([]);
      expect(violations).toEqual([]);
      // Each visitor forgets the chat at the end, so the next one starts with an empty inbox.
      await page.getByRole('button', { name: lang === 'en' ? 'Forget this chat' : 'Gespräch vergessen' }).click();
      await page.getByRole('button', { name: lang === 'en' ? 'Yes, delete everything' : 'Ja, alles löschen' }).click();
      await expect.poll(() => rows('messages')).toBe(0);
      await context.close();
    }
    const { context, page } = await visit('en', { width: 1280, height: 800 });
    await page.getByRole('button', { name: 'Open chat' }).click();
    await page.getByRole('button', { name: 'Agree and start chat' }).waitFor();
    await page.screenshot({ caret: 'initial', path: path.join(SHOTS, 'webchat-06-consent-en.png') });
    await context.close();
  });

  it(
    'the admin sets colour, position and greeting in the channel settings; the window follows',
    { timeout: 60_000 },
    async () => {
      const password = 'webchat-admin-passwort';
      await sparsam.accounts.createUser({
        email: 'admin@autohaus-beispiel.de',
        password,
        role: 'admin',
        displayName: 'Anna Admin',
      });
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'de-DE' });
      const page = await context.newPage();
      page.setDefaultTimeout(8_000);
      await page.goto(SPARSAM);
      await page.getByLabel('E-Mail-Adresse').fill('admin@autohaus-beispiel.de');
      await page.getByLabel('Passwort').fill(password);
      await page.getByRole('button', { name: 'Anmelden' }).click();
      await page.locator('code.secret').waitFor();
      const secret = (await page.locator('code.secret').textContent())!.replace(/\s/g, '');
      const code = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate();
      await page.getByLabel('Code').fill(code);
      await page.getByRole('button', { name: 'Bestätigen' }).click();
      await page.getByRole('button', { name: 'Ich habe die Codes gesichert' }).click();
      await page.goto(`${SPARSAM}/admin/channels`);
      const form = page.getByRole('form', { name: 'Website-Chat' });
      await form.waitFor();
      expect(await form.getByText(`<script src="${SPARSAM}/webchat/chat/widget.js" async></script>`).count()).toBe(1);
      await form.getByLabel('Farbe als Hex-Wert').fill('#1e6b3a');
      await form.getByLabel('unten links').check();
      await form.getByLabel('Begrüßung (Deutsch)').fill('Moin! Was können wir für Sie tun?');
      await form.getByRole('button', { name: 'Speichern' }).click();
      await form.getByRole('button', { name: 'Auf Standard zurücksetzen' }).waitFor();
      await page.screenshot({
        caret: 'initial',
        fullPage: true,
        path: path.join(SHOTS, 'webchat-07-admin-settings-de.png'),
      });
      const audit = await sparsam.store.db
        .selectFrom('audit_log')
        .select('action')
        .where('action', '=', 'channel.webchat_appearance')
        .execute();
      expect(audit).toHaveLength(1);

      // The visitor's window now sits on the left, in green, with the new greeting.
      const visitor = await visit('de', { width: 1280, height: 800 });
      await visitor.page.getByRole('button', { name: 'Chat öffnen' }).click();
      await visitor.page.getByText('Moin! Was können wir für Sie tun?').waitFor();
      const header = visitor.page.getByRole('dialog').locator('header');
      expect(
        await header.evaluate(
          (el) =>
            (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(
              el,
            ).backgroundColor,
        ),
      ).toBe('rgb(30, 107, 58)');
      const box = await visitor.page.getByRole('dialog').boundingBox();
      expect(box!.x).toBeLessThan(100);
      await visitor.page.screenshot({ caret: 'initial', path: path.join(SHOTS, 'webchat-08-custom-look-de.png') });
      expect(visitor.violations).toEqual([]);
      await visitor.context.close();
      await context.close();
    },
  );
});
