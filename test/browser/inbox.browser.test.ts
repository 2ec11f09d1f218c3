import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import exifr from 'exifr';
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt } from '../../web/build.mjs';
import type { SentMessage } from '../../dev/simulator/whatsapp-simulator.ts';
import { apiCall, launchChromium, type Stack, startStack } from './browser-support.ts';
import { hasTool } from '../support/tools.ts';

/**
 * The web inbox end to end in Debian Chromium: an admin logs in with TOTP enrolment, a customer writes over WhatsApp
 * (the WhatsApp simulator's signed webhooks), the conversation appears live, the admin replies with a quick reply, the reply reaches the
 * customer's phone and its ticks follow the delivery statuses, a note stays internal, and closing erases at once.
 * Screenshots go to SPARSAM_SCREENSHOTS (docs/screenshots when refreshing the documentation) or a temp dir.
 */
const SHOTS = process.env.SPARSAM_SCREENSHOTS ?? path.join(process.env.TMPDIR ?? '/tmp', 'sparsam-shots');
const CUSTOMER = '4915112345678';
const PASSWORD = 'werkstatt-admin-passwort';

function totpAt(secret: string, timestamp: number): string {
  return new TOTP({ secret: Secret.fromBase32(secret.replace(/\s/g, '')), digits: 6, period: 30 }).generate({
    timestamp,
  });
}

async function waitForSent(
  stack: Stack,
  predicate: (m: SentMessage) => boolean,
  timeoutMs = 20_000,
): Promise<SentMessage> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const hit = stack.phone.sentMessages().find(predicate);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `the phone received no matching message; got ${JSON.stringify(stack.phone.sentMessages().map((m) => m.type))}`,
  );
}

describe.skipIf(!hasTool('chromium'))('web inbox in Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let secret = '';
  const shot = async (name: string, top = false) => {
    if (top) await page.locator('main').evaluate((el) => el.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  };

  beforeAll(async () => {
    await ensureWebBuilt();
    mkdirSync(SHOTS, { recursive: true });
    stack = await startStack();
    // Labels come from the admins' list.
    await stack.sparsam.store.db
      .insertInto('label_catalogue')
      .values([{ name: 'Werkstatt', color: null, created_at: Date.now() }])
      .execute();
    await stack.sparsam.accounts.createUser({
      email: 'anna@autohaus-beispiel.de',
      password: PASSWORD,
      role: 'admin',
      displayName: 'Anna Schmidt',
    });
    await stack.sparsam.accounts.createUser({
      email: 'ben@autohaus-beispiel.de',
      password: PASSWORD,
      role: 'agent',
      displayName: 'Ben Weber',
    });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'de-DE' })).newPage();
    page.setDefaultTimeout(10_000);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('logs in an admin with TOTP enrolment and recovery codes', async () => {
    await page.goto(stack.baseUrl);
    await page.getByLabel('E-Mail-Adresse').waitFor();
    await shot('01-login');
    await page.getByLabel('E-Mail-Adresse').fill('anna@autohaus-beispiel.de');
    // A refused login reads in the interface's language, not in the server's English.
    await page.getByLabel('Passwort').fill('falsches-passwort-123');
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.getByText('E-Mail-Adresse oder Passwort ist falsch.').waitFor();
    expect(await page.content()).not.toContain('password is wrong');
    await page.getByLabel('Passwort').fill(PASSWORD);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.getByRole('heading', { name: 'Zwei-Faktor-Anmeldung einrichten' }).waitFor();
    await page.locator('img.qr').waitFor();
    await shot('02-totp-enrolment');
    secret = (await page.locator('code.secret').textContent())!;
    await page.getByLabel('Code').fill(totpAt(secret, stack.clock.now().getTime()));
    await page.getByRole('button', { name: 'Bestätigen' }).click();
    await page.getByRole('heading', { name: 'Ihre Wiederherstellungscodes' }).waitFor();
    expect(await page.locator('ul.codes li').count()).toBe(10);
    await page.getByRole('button', { name: 'Ich habe die Codes gesichert' }).click();
    await page.getByRole('navigation', { name: 'Hauptnavigation' }).waitFor();
    await page.getByText('Keine Unterhaltungen in dieser Ansicht.').waitFor();
  });

  it('shows a new customer conversation live after consent, without a reload', async () => {
    const res = await stack.sparsam.http.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
    const first = await stack.phone.sendCustomerMessage({
      from: CUSTOMER,
      name: 'Jürgen',
      text: 'Guten Tag, mein Auto macht beim Bremsen Geräusche.',
    });
    expect(first.delivered).toBe(true);
    const notice = await waitForSent(stack, (m) => m.to === CUSTOMER && (m.buttons?.length ?? 0) > 0);
    // Nothing is visible before the customer agrees.
    expect(await page.locator('.conv-item').count()).toBe(0);
    const agree = notice.buttons!.find((b) => b.id.includes('agree'))!;
    expect(
      (await stack.phone.sendCustomerMessage({ from: CUSTOMER, buttonReply: { id: agree.id, title: agree.title } }))
        .delivered,
    ).toBe(true);
    await page.locator('.conv-item', { hasText: 'Anfrage 1' }).waitFor({ timeout: 15_000 });
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);
    expect(await page.locator('.conv-item').first().textContent()).not.toContain(CUSTOMER);
    await shot('03-conversation-list');
  });

  it('replies with a quick reply; the phone receives it and the ticks follow the statuses', async () => {
    const created = await apiCall(page, 'POST', '/api/v1/quick-replies', {
      shortcut: 'termin',
      title: 'Termin anbieten',
      text: 'Gern schauen wir uns das an. Passt Ihnen Donnerstag um 9 Uhr?',
    });
    expect(created.status).toBe(201);
    await page.reload();
    await page.locator('.conv-item', { hasText: 'Anfrage 1' }).click();
    await page.getByText('mein Auto macht beim Bremsen Geräusche').waitFor();
    await page.locator('#composer-text').fill('/ter');
    await page.getByRole('option', { name: /\/termin/ }).waitFor();
    await page.keyboard.press('Enter');
    expect(await page.locator('#composer-text').inputValue()).toContain('Donnerstag um 9 Uhr');
    await page.getByRole('button', { name: 'Senden', exact: true }).click();
    const reply = await waitForSent(
      stack,
      (m) => m.to === CUSTOMER && m.type === 'text' && /Donnerstag/.test(m.text ?? ''),
    );
    expect(reply.text).toBe('Gern schauen wir uns das an. Passt Ihnen Donnerstag um 9 Uhr?');
    // After sending, the focus is back in the composer.
    await expect
      .poll(() =>
        page.evaluate(
          () =>
            (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement
              ?.id,
        ),
      )
      .toBe('composer-text');
    // The simulator reports sent, delivered and read, 1.2 s apart; the ticks follow live.
    const bubble = page.locator('.msg-out', { hasText: 'Donnerstag um 9 Uhr' });
    await bubble.locator('.ticks-sent').waitFor({ timeout: 15_000 });
    expect(await bubble.locator('.ticks').textContent()).toBe('✓');
    await bubble.locator('.ticks-delivered').waitFor();
    expect(await bubble.locator('.ticks').textContent()).toBe('✓✓');
    await bubble.locator('.ticks-read').waitFor();
    const color = await bubble
      .locator('.ticks')
      .evaluate(
        (el) =>
          (globalThis as unknown as { getComputedStyle(e: unknown): { color: string } }).getComputedStyle(el).color,
      );
    expect(color).toBe('rgb(26, 115, 232)');
    // The customer answers; it appears live.
    await stack.phone.sendCustomerMessage({ from: CUSTOMER, text: 'Donnerstag passt, danke!' });
    await page.locator('.msg-in', { hasText: 'Donnerstag passt' }).waitFor();
  });

  it('keeps internal notes internal and shows them apart', async () => {
    const before = stack.phone.sentMessages().length;
    await page.getByRole('tab', { name: 'Interne Notiz' }).click();
    await page.locator('#composer-text').fill('Bremsbeläge vorne prüfen, Kunde ist Stammkunde.');
    await page.getByRole('button', { name: 'Notiz speichern' }).click();
    const note = page.locator('.msg-note', { hasText: 'Bremsbeläge vorne prüfen' });
    await note.waitFor();
    expect(await note.locator('.note-tag').textContent()).toBe('Interne Notiz');
    await page.getByRole('tab', { name: 'Antwort' }).click();
    // A reply longer than the channel takes is counted and refused before sending, not cut.
    const long = 'Ä'.repeat(4100);
    await page.locator('#composer-text').fill(long);
    expect(await page.locator('#composer-text').inputValue()).toHaveLength(4100);
    expect(await page.locator('#composer-count').textContent()).toBe('4.100 / 4.096 Zeichen');
    await page.getByRole('alert').filter({ hasText: 'Die Nachricht ist zu lang: 4.100 Zeichen' }).waitFor();
    expect(await page.getByRole('button', { name: 'Senden', exact: true }).isDisabled()).toBe(true);
    await page.locator('#composer-text').fill('Kurz');
    expect(await page.locator('#composer-count').textContent()).toBe('4 / 4.096 Zeichen');
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.locator('#composer-text').fill('');
    await page.locator('#label-add').selectOption('Werkstatt');
    await page.locator('.label-editor .chip-label', { hasText: 'Werkstatt' }).waitFor();
    await page.getByLabel('Zuweisen an').selectOption({ label: 'Anna Schmidt (Sie)' });
    await page.locator('.conv-item', { hasText: 'Anna Schmidt' }).waitFor();
    await new Promise((r) => setTimeout(r, 500));
    expect(stack.phone.sentMessages().length).toBe(before);
    await shot('04-conversation');
    // Tablet portrait: one column with a back button.
    await page.setViewportSize({ width: 768, height: 1024 });
    await shot('11-conversation-tablet-portrait');
    await page.setViewportSize({ width: 1366, height: 768 });
  });

  it('sends a photo from the composer without its GPS position, and shows a refused file as an error', async () => {
    await page.getByRole('button', { name: 'Datei anhängen' }).waitFor();
    await page.locator('#composer-file').setInputFiles({
      name: 'kaputte-seite.html',
      mimeType: 'text/html',
      buffer: Buffer.from('<!doctype html><script>alert(1)</script>'),
    });
    await page.getByRole('button', { name: 'Senden', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Diese Datei kann nicht gesendet werden' }).waitFor();
    await page.getByRole('button', { name: 'Anhang kaputte-seite.html entfernen' }).click();

    await page
      .locator('#composer-file')
      .setInputFiles(fileURLToPath(new URL('../fixtures/images/jpg_gps_DSCN0010.jpg', import.meta.url)));
    await page.locator('.attachment-chip', { hasText: 'jpg_gps_DSCN0010.jpg' }).waitFor();
    await page.locator('#composer-text').fill('So sieht die Bremsscheibe aus.');
    await page.getByRole('button', { name: 'Senden', exact: true }).click();
    const sent = await waitForSent(stack, (m) => m.to === CUSTOMER && m.type === 'image');
    expect(sent.text).toBe('So sieht die Bremsscheibe aus.');
    const received = stack.phone.uploadedMedia(sent.mediaId!)!;
    expect(await exifr.gps(received.data)).toBeUndefined();
    const bubble = page.locator('.msg-out', { hasText: 'So sieht die Bremsscheibe aus.' });
    await bubble.locator('img').waitFor();
    // The image loads from /api/v1/media/:id (decrypted for the agent): the 640 × 480 photo, upright.
    await expect
      .poll(() => bubble.locator('img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth))
      .toBe(640);
    await shot('13-attachment-sent');
  });

  it('offers only templates once the 24-hour window has closed (next day, after logging in again)', async () => {
    stack.clock.advance(25 * 3_600_000);
    // The browser's clock moves with the server's (the reply window is shown against the staff PC's time too).
    await page.clock.setSystemTime(stack.clock.now());
    await page.reload();
    // The idle session expired overnight: log in again with the password and a fresh code.
    await page.getByLabel('E-Mail-Adresse').fill('anna@autohaus-beispiel.de');
    await page.getByLabel('Passwort').fill(PASSWORD);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.getByLabel('Code').fill(totpAt(secret, stack.clock.now().getTime()));
    await page.getByRole('button', { name: 'Bestätigen' }).click();
    await page.locator('.conv-item', { hasText: 'Anfrage 1' }).click();
    await page.getByText('Das 24-Stunden-Fenster ist geschlossen.').waitFor();
    expect(await page.locator('#composer-text').count()).toBe(0);
    await page.getByLabel('Vorlage wählen').selectOption({ label: 'termin_erinnerung (de)' });
    await page.getByLabel('Platzhalter 1').fill('Donnerstag, 9 Uhr');
    await shot('05-template-picker');
    await page.getByRole('button', { name: 'Vorlage senden' }).click();
    const sent = await waitForSent(stack, (m) => m.to === CUSTOMER && m.type === 'template');
    expect(sent.template).toEqual({ name: 'termin_erinnerung', language: 'de', parameters: ['Donnerstag, 9 Uhr'] });
  });

  it('closes with a clear retention hint and the conversation is erased at once', async () => {
    await page.getByRole('button', { name: 'Abschließen' }).click();
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('Wird sofort gelöscht: Nachrichten, Dateien');
    // Escape closes the dialog and gives the focus back to the button that opened it.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(
      await page.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document.activeElement
            .textContent,
      ),
    ).toBe('Abschließen');
    await page.getByRole('button', { name: 'Abschließen' }).click();
    await dialog.waitFor();
    await shot('06-close-confirm');
    await dialog.getByRole('button', { name: 'Abschließen' }).click();
    // The erasure that follows is the configured outcome: said neutrally, not as an error.
    const done = page.getByText('Abgeschlossen. Die Unterhaltung wurde wie eingestellt sofort gelöscht.');
    await done.waitFor({ timeout: 15_000 });
    expect(await done.getAttribute('class')).not.toContain('banner-erased');
    // The focus moves to that confirmation, not to the page's start.
    await expect
      .poll(() =>
        page.evaluate(
          () =>
            (globalThis as unknown as { document: { activeElement: { className: string } | null } }).document
              .activeElement?.className ?? '',
        ),
      )
      .toContain('banner-done');
    await page.locator('.conv-item').first().waitFor({ state: 'detached' });
    const rows = await stack.sparsam.store.db.selectFrom('conversations').select('id').execute();
    expect(rows).toEqual([]);
    const messages = await stack.sparsam.store.db.selectFrom('messages').select('id').execute();
    expect(messages).toEqual([]);
    // The Geschlossen tab explains why it stays empty.
    await page.getByRole('tab', { name: 'Geschlossen' }).click();
    await page.getByText('Ist „Löschen nach Abschluss“ auf 0 Tage gestellt').waitFor();
  });

  it('shows the admin screens: channels with webhook URL and test connection, privacy settings, team', async () => {
    // Ten wrong passwords from ten addresses slow Ben's account down (it shows as locked); the admin unlocks it from
    // the team list.
    for (let i = 0; i < 10; i++) {
      await stack.sparsam.http.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: `192.0.2.${i + 1}`,
        payload: { email: 'ben@autohaus-beispiel.de', password: 'falsch-falsch-falsch' },
      });
    }
    await page.getByRole('link', { name: 'Verwaltung' }).click();
    await page.getByRole('heading', { name: 'Team' }).waitFor();
    // The admin start page lists what a new installation still lacks; the configured channel is done.
    const checklist = page.locator('.setup-checklist');
    await checklist.getByRole('heading', { name: 'Erste Schritte' }).waitFor();
    await checklist.locator('li.done', { hasText: 'Einen Kanal einrichten' }).waitFor();
    await checklist.locator('li.open', { hasText: 'Zwei-Faktor-Anmeldung für alle vorschreiben' }).waitFor();
    const ben = page.locator('tr', { hasText: 'Ben Weber' });
    await ben.getByRole('cell', { name: 'Gesperrt', exact: true }).waitFor();
    // The role select shows the longest role in full.
    const roleWidths = await page.getByLabel('Rolle: Ben Weber').evaluate((el) => {
      interface Box {
        getBoundingClientRect(): { width: number };
      }
      interface Doc {
        createElement(tag: string): Box & { style: { font: string }; textContent: string; remove(): void };
        body: { appendChild(node: unknown): void };
      }
      const win = globalThis as unknown as { document: Doc; getComputedStyle(e: unknown): { font: string } };
      const span = win.document.createElement('span');
      span.style.font = win.getComputedStyle(el).font;
      span.textContent = 'Datenschutzbeauftragte/r';
      win.document.body.appendChild(span);
      const text = span.getBoundingClientRect().width;
      span.remove();
      return { select: (el as unknown as Box).getBoundingClientRect().width, text };
    });
    expect(roleWidths.select).toBeGreaterThan(roleWidths.text);
    await ben.getByRole('button', { name: 'Entsperren' }).click();
    await page.getByText('Entsperrt. Die Anmeldung ist wieder möglich.').waitFor();
    await ben.getByRole('cell', { name: 'Aktiv', exact: true }).waitFor();
    expect(await ben.getByRole('button', { name: 'Entsperren' }).count()).toBe(0);
    await page.getByLabel('E-Mail-Adresse').fill('clara@autohaus-beispiel.de');
    await page.getByLabel('Name', { exact: true }).fill('Clara Neumann');
    await page.getByRole('button', { name: 'Einladen' }).click();
    await page.locator('.invite-link').waitFor();
    expect(await page.locator('.invite-link code').textContent()).toMatch(
      /^https:\/\/inbox\.autohaus-beispiel\.de\/invite#inv_/,
    );
    await shot('07-admin-team', true);
    // The invitation page speaks the language the admin chose for the new colleague.
    const claraLink = await page.locator('.invite-link code').textContent();
    await page.getByLabel('E-Mail-Adresse').fill('dave@autohaus-beispiel.de');
    await page.getByLabel('Name', { exact: true }).fill('Dave Miller');
    await page.locator('#inv-lang').selectOption('en');
    await page.getByRole('button', { name: 'Einladen' }).click();
    await expect.poll(() => page.locator('.invite-link code').textContent()).not.toBe(claraLink);
    const daveLink = new URL((await page.locator('.invite-link code').textContent())!);
    const guest = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'de-DE' });
    const invitePage = await guest.newPage();
    await invitePage.goto(`${stack.baseUrl}/invite${daveLink.hash}`);
    await invitePage.getByText('dave@autohaus-beispiel.de').waitFor();
    expect(await invitePage.locator('h1').textContent()).toBe('Set up your account');
    await invitePage.screenshot({ path: path.join(SHOTS, '13-invite-en-phone.png') });
    await guest.close();
    // Quick replies: the form's pattern is a valid regular expression in Chromium and takes letters of any language.
    await page
      .getByRole('navigation', { name: 'Verwaltungsbereiche' })
      .getByRole('link', { name: 'Textbausteine' })
      .click();
    const shortcut = page.locator('#qr-shortcut');
    const validity = async (value: string) => {
      await shortcut.fill(value);
      return shortcut.evaluate((el) => (el as unknown as { validity: { valid: boolean } }).validity.valid);
    };
    expect(await validity('/grüße')).toBe(true);
    expect(await validity('термин')).toBe(true);
    expect(await validity('a-b_c')).toBe(true);
    expect(await validity('_x')).toBe(false);
    expect(await validity('zwei worte')).toBe(false);
    await shortcut.fill('grüße');
    await page.locator('#qr-title').fill('Grüße');
    await page.locator('#qr-text').fill('Viele Grüße aus der Werkstatt');
    await page.getByRole('button', { name: 'Speichern' }).click();
    await page.getByText('/grüße').first().waitFor();
    await page.getByRole('navigation', { name: 'Verwaltungsbereiche' }).getByRole('link', { name: 'Team' }).click();
    await page.getByRole('navigation', { name: 'Verwaltungsbereiche' }).getByRole('link', { name: 'Kanäle' }).click();
    await page.getByText('https://inbox.autohaus-beispiel.de/webhooks/whatsapp/wa-main').waitFor();
    await page.getByRole('button', { name: 'Verbindung testen' }).click();
    await page.getByText('Verbindung steht: Autohaus Beispiel').waitFor();
    expect(await page.content()).not.toContain('browser-test-verify-token-xyz');
    await shot('08-admin-channels');
    await page
      .getByRole('navigation', { name: 'Verwaltungsbereiche' })
      .getByRole('link', { name: 'Datenschutz' })
      .click();
    await page.getByLabel('Löschen nach Abschluss (Tage, 0 = sofort)').fill('7');
    await page.getByRole('button', { name: 'Speichern' }).click();
    await page.getByText('Gespeichert.').waitFor();
    const settings = (await stack.sparsam.inboxes.findInbox('service'))!.settings as {
      retention: { eraseAfterCloseDays: number };
    };
    expect(settings.retention.eraseAfterCloseDays).toBe(7);
    await page.setViewportSize({ width: 1024, height: 768 });
    await shot('09-admin-privacy-settings', true);
    // Subject access and erasure are the DPO's alone: the admin's DSGVO area does not offer them.
    await page.getByRole('navigation', { name: 'Hauptnavigation' }).getByRole('link', { name: 'DSGVO' }).click();
    await page.getByRole('heading', { name: 'Prüfprotokoll' }).waitFor();
    const areas = page.getByRole('navigation', { name: 'Datenschutz-Bereiche' });
    await areas.getByRole('link', { name: 'Datenpannen' }).waitFor();
    expect(await areas.getByRole('link', { name: 'Auskunft & Löschung' }).count()).toBe(0);
  });

  it('switches to English and logs out everywhere', async () => {
    await page.setViewportSize({ width: 1366, height: 768 });
    await page.getByRole('link', { name: 'Mein Konto' }).click();
    await page.getByLabel('Sprache').selectOption('en');
    await page.getByRole('button', { name: 'Speichern' }).first().click();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    await page.getByText('Saved.').waitFor();
    await shot('12-account-en', true);
    await page.getByRole('button', { name: 'Log out everywhere' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    const res = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
    expect(res).toBe(401);
  });
});
