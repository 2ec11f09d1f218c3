import { mkdirSync } from 'node:fs';
import path from 'node:path';
import axe from 'axe-core';
import { Secret, TOTP } from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { ensureWebBuilt } from '../../web/build.mjs';
import { hasTool } from '../support/tools.ts';
import { apiCall, launchChromium, startStack, type Stack } from './browser-support.ts';

/**
 * Every screen of the web inbox, for every role (admin, agent, data protection officer, and the login page), in German
 * and English, at desktop, tablet portrait and phone size, and the simulator's customer phone page:
 * - axe-core finds no violation of WCAG 2.1 A and AA (tags wcag2a, wcag2aa, wcag21a, wcag21aa);
 * - nothing scrolls sideways: the page is no wider than the window (`scrollWidth <= innerWidth`), and neither is the
 *   main area (wide tables scroll inside their own box).
 * SPARSAM_SCREENSHOTS (docs/screenshots when refreshing the documentation) receives a phone screenshot of each screen.
 */
const SHOTS = process.env.SPARSAM_SCREENSHOTS ?? path.join(process.env.TMPDIR ?? '/tmp', 'sparsam-shots');
const PASSWORD = 'bildschirm-passwort-1';
const CUSTOMER = '4915112345678';
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const SIZES = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'tablet', width: 768, height: 1024 },
  { name: 'phone', width: 390, height: 844 },
] as const;
type Role = 'admin' | 'agent' | 'dpo';
/** The screens photographed at desktop and phone size in both languages (those this walk's fixes changed). */
const SHOT_SCREENS = new Set([
  'admin /inbox',
  'admin /inbox/:id',
  'admin /admin/privacy',
  'admin /compliance/audit',
  'admin /compliance/documents',
  'admin /compliance/statistics',
  'dpo /compliance/dsar',
]);

interface Finding {
  where: string;
  rule: string;
  impact: string | null | undefined;
  targets: string[];
}

/** A screen: its path, and what shows once it has loaded (the walk waits for it before checking). */
interface Screen {
  path: string;
  ready: string;
}

function screensOf(role: Role, conversationId: string): Screen[] {
  const inbox = [
    { path: '/inbox', ready: '.conv-item' },
    { path: `/inbox/${conversationId}`, ready: '#composer-text' },
  ];
  const compliance = (sections: string[]) => sections.map((s) => ({ path: `/compliance/${s}`, ready: 'main h1' }));
  const account = { path: '/account', ready: 'main h1' };
  if (role === 'agent') return [...inbox, account];
  if (role === 'dpo') {
    return [...compliance(['audit', 'dsar', 'documents', 'breaches', 'reveals', 'statistics']), account];
  }
  return [
    ...inbox,
    ...['users', 'channels', 'privacy', 'quick-replies'].map((s) => ({ path: `/admin/${s}`, ready: 'main h1' })),
    ...compliance(['audit', 'documents', 'breaches', 'reveals', 'statistics']),
    { path: '/marketing', ready: 'main h1' },
    account,
  ];
}

function totpNow(secret: string, at: number): string {
  return new TOTP({ secret: Secret.fromBase32(secret.replace(/\s/g, '')), digits: 6, period: 30 }).generate({
    timestamp: at,
  });
}

describe.skipIf(!hasTool('chromium'))('every screen for every role: WCAG 2.1 AA and no sideways scrolling', () => {
  let stack: Stack;
  let browser: Browser;
  let conversationId = '';
  const violations: Finding[] = [];
  /** TOTP secrets of the accounts enrolled during the walk, for their next login. */
  const secrets = new Map<string, string>();
  const overflows: string[] = [];

  beforeAll(async () => {
    await ensureWebBuilt();
    mkdirSync(SHOTS, { recursive: true });
    stack = await startStack();
    // Labels come from the admins' list.
    await stack.sparsam.store.db
      .insertInto('label_catalogue')
      .values([
        { name: 'Rückruf', color: null, created_at: Date.now() },
        { name: 'Werkstatt', color: null, created_at: Date.now() },
      ])
      .execute();
    for (const [email, role, displayName] of [
      ['anna@autohaus-beispiel.de', 'admin', 'Anna Schmidt'],
      ['ben@autohaus-beispiel.de', 'agent', 'Ben Weber'],
      ['dora@autohaus-beispiel.de', 'dpo', 'Dora Datenschutz'],
    ] as const) {
      await stack.sparsam.accounts.createUser({ email, password: PASSWORD, role, displayName });
    }
    // A customer writes and agrees, so the inbox, the conversation and the audit log have something to show.
    await stack.phone.sendCustomerMessage({ from: CUSTOMER, name: 'Jürgen', text: 'Guten Tag, mein Auto quietscht.' });
    const end = Date.now() + 30_000;
    while (!stack.phone.sentMessages().some((m) => m.to === CUSTOMER && (m.buttons?.length ?? 0) > 0)) {
      if (Date.now() > end) throw new Error('the privacy notice did not reach the phone');
      await new Promise((r) => setTimeout(r, 100));
    }
    await stack.phone.sendCustomerMessage({
      from: CUSTOMER,
      buttonReply: { id: CONSENT_AGREE_ID, title: 'Zustimmen' },
    });
    await stack.phone.sendCustomerMessage({ from: CUSTOMER, text: 'Können Sie heute noch nachsehen?' });
    const until = Date.now() + 30_000;
    while (!conversationId) {
      const rows = await stack.sparsam.store.db.selectFrom('conversations').select('id').execute();
      conversationId = rows[0]?.id ?? '';
      if (!conversationId && Date.now() > until) throw new Error('no conversation was opened');
      if (!conversationId) await new Promise((r) => setTimeout(r, 100));
    }
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  /** axe-core on the page as it is, and the two sideways-scrolling measures; findings are collected, not thrown. */
  async function check(page: Page, where: string): Promise<void> {
    const found = await page.evaluate(async (tags) => {
      const w = globalThis as unknown as {
        axe: {
          run(
            ctx: unknown,
            opts: unknown,
          ): Promise<{ violations: { id: string; impact?: string | null; nodes: { target: unknown[] }[] }[] }>;
        };
        document: unknown;
      };
      const result = await w.axe.run(w.document, {
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations'],
      });
      return result.violations.map((v) => ({
        rule: v.id,
        impact: v.impact,
        targets: v.nodes.slice(0, 4).map((n) => String(n.target.join(' '))),
      }));
    }, WCAG_TAGS);
    for (const v of found) violations.push({ where, ...v });
    const widths = await page.evaluate(() => {
      const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document;
      const main = (
        globalThis as unknown as {
          document: { querySelector(s: string): { scrollWidth: number; clientWidth: number } | null };
        }
      ).document.querySelector('main');
      return {
        page: d.documentElement.scrollWidth,
        inner: (globalThis as unknown as { innerWidth: number }).innerWidth,
        main: main ? main.scrollWidth - main.clientWidth : 0,
      };
    });
    if (widths.page > widths.inner) overflows.push(`${where}: page ${widths.page} px in a ${widths.inner} px window`);
    if (widths.main > 0) overflows.push(`${where}: main area ${widths.main} px wider than shown`);
  }

  async function newPage(lang: 'de' | 'en'): Promise<{ context: BrowserContext; page: Page }> {
    // bypassCSP: the inbox's policy allows its own scripts only; axe is injected by the test.
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      locale: lang === 'de' ? 'de-DE' : 'en-GB',
      bypassCSP: true,
    });
    await context.addInitScript(axe.source);
    await context.addInitScript(
      (l) =>
        (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem(
          'sparsam.lang',
          l,
        ),
      lang,
    );
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    return { context, page };
  }

  async function logIn(page: Page, email: string, lang: 'de' | 'en'): Promise<void> {
    const de = lang === 'de';
    await page.goto(stack.baseUrl);
    await page.getByLabel(de ? 'E-Mail-Adresse' : 'E-mail address').fill(email);
    await page.getByLabel(de ? 'Passwort' : 'Password').fill(PASSWORD);
    await page.getByRole('button', { name: de ? 'Anmelden' : 'Log in' }).click();
    const enrol = page.locator('code.secret');
    const code = page.getByLabel('Code');
    // The account's saved language may differ from the login page's until the walk sets it.
    const shell = page.getByRole('banner');
    await Promise.race([shell.waitFor(), code.waitFor()]);
    if (await shell.isVisible()) return;
    // The enrolment form shows its code field before the secret has arrived: an account the walk has not enrolled
    // yet waits for the secret, one it has enrolled is asked for its second factor.
    if (!secrets.has(email)) {
      await enrol.waitFor();
      await check(page, `${lang} login: enrolment`);
      const secret = (await enrol.textContent())!;
      secrets.set(email, secret);
      await code.fill(totpNow(secret, stack.clock.now().getTime()));
      await page.getByRole('button', { name: de ? 'Bestätigen' : 'Confirm' }).click();
      await page.locator('ul.codes li').first().waitFor();
      await check(page, `${lang} login: recovery codes`);
      await page.getByRole('button', { name: de ? 'Ich habe die Codes gesichert' : /saved/i }).click();
    } else {
      await check(page, `${lang} login: second factor`);
      // A code is accepted once: the next login waits for the next 30-second step.
      stack.clock.advance(30_000);
      await code.fill(totpNow(secrets.get(email)!, stack.clock.now().getTime()));
      await page.getByRole('button', { name: /^(Bestätigen|Confirm)$/ }).click();
    }
    await shell.waitFor();
  }

  /** The focused element: tag, id, text and the attributes the keyboard checks read. */
  const focused = (page: Page) =>
    page.evaluate(() => {
      const el = (
        globalThis as unknown as {
          document: {
            activeElement: {
              tagName: string;
              id: string;
              textContent: string | null;
              getAttribute(n: string): string | null;
            } | null;
          };
        }
      ).document.activeElement;
      return {
        tag: el?.tagName ?? '',
        id: el?.id ?? '',
        text: (el?.textContent ?? '').trim(),
        href: el?.getAttribute('href') ?? null,
        selected: el?.getAttribute('aria-selected') ?? null,
      };
    });

  it('works by keyboard: tabs, assigning, labels, the close dialog, the menu and the focus at phone width', async () => {
    const { context, page } = await newPage('de');
    await logIn(page, 'ben@autohaus-beispiel.de', 'de');
    await page.goto(`${stack.baseUrl}/inbox/${conversationId}`);
    await page.locator('#composer-text').waitFor();

    // Arrow keys move between the list's tabs (and select), and between Antwort and Interne Notiz.
    await page.getByRole('tab', { name: 'Alle offenen' }).focus();
    await page.keyboard.press('ArrowLeft');
    expect(await focused(page)).toMatchObject({ text: 'Nicht zugewiesen', selected: 'true' });
    await page.keyboard.press('ArrowRight');
    expect(await focused(page)).toMatchObject({ text: 'Alle offenen', selected: 'true' });
    await page.getByRole('tab', { name: 'Antwort' }).focus();
    await page.keyboard.press('ArrowRight');
    expect(await focused(page)).toMatchObject({ text: 'Interne Notiz', selected: 'true' });
    await page.keyboard.press('Home');
    expect(await focused(page)).toMatchObject({ text: 'Antwort', selected: 'true' });

    // The focus ring is drawn inside a list row (not clipped by the scrolling list) in a colour of 3:1 or more.
    const ring = await page
      .locator('.conv-item')
      .first()
      .evaluate((el) => {
        (el as unknown as { focus(): void }).focus();
        const style = (
          globalThis as unknown as { getComputedStyle(e: unknown): { outlineColor: string; outlineOffset: string } }
        ).getComputedStyle(el);
        return { color: style.outlineColor, offset: style.outlineOffset };
      });
    expect(ring).toEqual({ color: 'rgb(179, 92, 0)', offset: '-3px' });

    // An arrow key on the closed "Zuweisen an" select sends nothing; Enter assigns.
    const assigns: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/assign')) assigns.push(r.url());
    });
    const select = page.getByLabel('Zuweisen an');
    await select.focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await new Promise((r) => setTimeout(r, 500));
    expect(assigns).toEqual([]);
    await page.keyboard.press('Enter');
    await expect.poll(() => assigns.length).toBe(1);

    // Removing a label leaves the focus in the label field.
    await page.locator('#label-add').selectOption('Rückruf');
    const remove = page.getByRole('button', { name: /Rückruf/ });
    await remove.focus();
    await page.keyboard.press('Enter');
    await page.locator('.label-editor .chip-label', { hasText: 'Rückruf' }).waitFor({ state: 'detached' });
    expect((await focused(page)).id).toBe('label-add');

    // The close dialog keeps the focus until it is answered; Escape returns it to the button.
    await page.getByRole('button', { name: 'Abschließen' }).click();
    await page.getByRole('alertdialog').waitFor();
    expect((await focused(page)).text).toBe('Abschließen');
    await page.keyboard.press('Tab');
    expect((await focused(page)).text).toBe('Abbrechen');
    await page.keyboard.press('Tab');
    expect((await focused(page)).text).toBe('Abschließen');
    await page.keyboard.press('Shift+Tab');
    expect((await focused(page)).text).toBe('Abbrechen');
    await page.keyboard.press('Escape');
    await page.getByRole('alertdialog').waitFor({ state: 'detached' });
    expect((await focused(page)).text).toBe('Abschließen');

    // The file pickers have names; the camera picker opens the camera on a phone.
    expect(await page.locator('#composer-file').getAttribute('aria-label')).toBe('Datei auswählen');
    expect(await page.locator('#composer-camera').getAttribute('capture')).toBe('environment');
    expect(await page.locator('#composer-camera').getAttribute('accept')).toBe('image/*');

    // Phone width: opening a conversation moves the focus to its heading, going back to its row.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${stack.baseUrl}/inbox`);
    const row = page.locator(`.conv-list a[href="/inbox/${conversationId}"]`);
    await row.focus();
    await page.keyboard.press('Enter');
    await page.locator('#composer-text').waitFor();
    await expect.poll(async () => (await focused(page)).tag).toBe('H1');
    await page.getByRole('button', { name: /^\W*Zurück$/ }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await focused(page)).href).toBe(`/inbox/${conversationId}`);

    // The areas sit behind the menu button; Escape closes the menu and returns the focus to it.
    const menu = page.getByRole('button', { name: 'Menü' });
    expect(await page.getByRole('navigation', { name: 'Hauptnavigation' }).isVisible()).toBe(false);
    await menu.click();
    expect(await menu.getAttribute('aria-expanded')).toBe('true');
    await page.getByRole('navigation', { name: 'Hauptnavigation' }).getByRole('link', { name: 'Mein Konto' }).focus();
    await check(page, 'de phone agent menu open');
    await page.screenshot({ path: path.join(SHOTS, 'walk-agent-menu-open-phone-de.png') });
    await page.keyboard.press('Escape');
    expect(await menu.getAttribute('aria-expanded')).toBe('false');
    expect((await focused(page)).text).toContain('Menü');
    await context.close();
  }, 180_000);

  for (const lang of ['de', 'en'] as const) {
    it(`the login page in ${lang}`, async () => {
      const { context, page } = await newPage(lang);
      for (const size of SIZES) {
        await page.setViewportSize(size);
        await page.goto(stack.baseUrl);
        await page.locator('h1').waitFor();
        await check(page, `${lang} ${size.name} anonymous /login`);
      }
      await context.close();
    }, 120_000);

    for (const [role, email] of [
      ['admin', 'anna@autohaus-beispiel.de'],
      ['agent', 'ben@autohaus-beispiel.de'],
      ['dpo', 'dora@autohaus-beispiel.de'],
    ] as const) {
      it(`every ${role} screen in ${lang}`, async () => {
        const { context, page } = await newPage(lang);
        await logIn(page, email, lang);
        // The account's language follows the walk's (a session brings the user's saved language along).
        expect((await apiCall(page, 'PATCH', '/api/v1/me', { language: lang })).status).toBe(200);
        for (const size of SIZES) {
          await page.setViewportSize(size);
          for (const screen of screensOf(role, conversationId)) {
            await page.goto(`${stack.baseUrl}${screen.path}`);
            await page.locator(screen.ready).first().waitFor();
            // Lazy chunks and the screen's own data: wait until nothing says "loading".
            await page.waitForFunction(
              () =>
                !(globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText.match(
                  /Lädt …|Loading …/,
                ),
            );
            await check(page, `${lang} ${size.name} ${role} ${screen.path.replace(conversationId, ':id')}`);
            if (size.name !== 'tablet' && SHOT_SCREENS.has(`${role} ${screen.path.replace(conversationId, ':id')}`)) {
              const name = `walk-${role}-${screen.path.replace(conversationId, 'conversation').replace(/\//g, '-').slice(1)}-${size.name}-${lang}`;
              // The privacy settings: the notice boxes, which show sparsam's default text.
              if (screen.path === '/admin/privacy') await page.locator('textarea').first().scrollIntoViewIfNeeded();
              await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
            }
          }
        }
        await context.close();
      }, 300_000);
    }
  }

  it('the simulator’s customer phone page', async () => {
    const { context, page } = await newPage('de');
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await page.goto(stack.phone.url);
      await page.locator('.msg').first().waitFor();
      await check(page, `${size.name} customer phone page`);
    }
    await context.close();
  }, 120_000);

  it('found no WCAG 2.1 AA violation and no sideways scrolling anywhere', () => {
    const lines = violations.map((v) => `${v.where}: ${v.rule} (${v.impact}) at ${v.targets.join(' | ')}`);
    const report = `${lines.length} axe violations:\n${lines.join('\n')}\n${overflows.length} overflows:\n${overflows.join('\n')}`;
    expect({ violations: lines, overflows }, report).toEqual({ violations: [], overflows: [] });
  });
});
