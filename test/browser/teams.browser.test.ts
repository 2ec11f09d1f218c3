import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt } from '../../web/build.mjs';
import { hasTool } from '../support/tools.ts';
import { seedConversation, startTwoInboxApp } from '../teams/teams-support.ts';
import { Browser as ApiBrowser, createUser, loginEnrolledAdmin } from '../web/web-support.ts';
import { launchChromium } from './browser-support.ts';

/**
 * Teams in Chromium: an agent of the workshop inbox sees neither the sales inbox's conversation in the list nor by
 * its URL; an admin sets the workshop's members and turns on round-robin assignment, and a new conversation shows up
 * in the online agent's "Mine" view by itself; a colleague's @mention lights the agent's badge.
 * Screenshots go to SPARSAM_SCREENSHOTS (docs/screenshots when refreshing the documentation) or a temp dir.
 */
const SHOTS = process.env.SPARSAM_SCREENSHOTS ?? path.join(process.env.TMPDIR ?? '/tmp', 'sparsam-shots');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

describe.skipIf(!hasTool('chromium'))('teams in Chromium', () => {
  let app: Awaited<ReturnType<typeof startTwoInboxApp>>;
  let baseUrl: string;
  let browser: Browser;
  let convA: { id: string; seq: number };
  let convB: { id: string; seq: number };
  let agentId: string;
  let admin: ApiBrowser;

  /** A browser context signed in as the user (session made over the API, cookie handed to Chromium). */
  async function signedIn(session: ApiBrowser, locale: string, viewport: { width: number; height: number }) {
    const context: BrowserContext = await browser.newContext({ viewport, locale });
    await context.addCookies([{ name: 'sparsam_session', value: session.cookie!, url: baseUrl }]);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    return { context, page };
  }
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

  beforeAll(async () => {
    await ensureWebBuilt();
    mkdirSync(SHOTS, { recursive: true });
    app = await startTwoInboxApp('sqlite', 'browser');
    baseUrl = await app.sparsam.http.listen({ port: 0, host: '127.0.0.1' });
    await createUser(app.sparsam, 'admin@example.org', 'admin');
    agentId = (
      await app.sparsam.accounts.createUser({
        email: 'ben@example.org',
        password: 'correct horse battery staple',
        role: 'agent',
        displayName: 'Ben Weber',
        inboxIds: ['werkstatt'],
      })
    ).id;
    await app.sparsam.accounts.createUser({
      email: 'carla@example.org',
      password: 'correct horse battery staple',
      role: 'agent',
      displayName: 'Carla Verkauf',
      inboxIds: ['verkauf'],
    });
    convA = await seedConversation(app.sparsam, 'werkstatt', 'wa-werkstatt', { labels: ['Bremsen'] });
    convB = await seedConversation(app.sparsam, 'verkauf', 'wa-verkauf', { labels: ['Angebot'] });
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("shows an agent only their inbox: the other inbox's conversation is neither listed nor opened by URL", async () => {
    const ben = new ApiBrowser(app.sparsam);
    await ben.login('ben@example.org');
    const { context, page } = await signedIn(ben, 'de-DE', DESKTOP);
    await page.goto(`${baseUrl}/inbox`);
    await page.locator('.conv-item', { hasText: `Werkstatt ${convA.seq}` }).waitFor();
    expect(await page.locator('.conv-item').count()).toBe(1);
    expect(await page.content()).not.toContain('Verkauf');
    await page.getByLabel('Mein Status').waitFor();
    await shot(page, 'teams-agent-inbox-de');
    // By its URL: like an id that never existed.
    await page.goto(`${baseUrl}/inbox/${convB.id}`);
    await page.getByText('Diese Unterhaltung wurde gelöscht.').waitFor();
    expect(await page.content()).not.toContain(`Verkauf ${convB.seq}`);
    expect(await page.content()).not.toContain('Angebot');
    await context.close();
  });

  it('lets an admin set members and turn on round robin; a new conversation reaches the online agent by itself', async () => {
    admin = (await loginEnrolledAdmin(app.sparsam, app.clock, 'admin@example.org')).browser;
    const { context, page } = await signedIn(admin, 'de-DE', DESKTOP);
    await page.goto(`${baseUrl}/admin/users`);
    const benRow = page.locator('tr', { hasText: 'Ben Weber' });
    await benRow.getByLabel('Postfächer von Ben Weber').waitFor();
    expect(await benRow.getByRole('checkbox', { name: 'werkstatt' }).isChecked()).toBe(true);
    expect(await benRow.getByRole('checkbox', { name: 'verkauf' }).isChecked()).toBe(false);
    await shot(page, 'teams-admin-users-de');
    await page.goto(`${baseUrl}/admin/assignment`);
    const form = page.getByRole('form', { name: 'Zuweisung: werkstatt' });
    await form.getByText('Mitglieder: Ben Weber').waitFor();
    await form.getByLabel('Neue Anfragen automatisch reihum an verfügbare Mitglieder verteilen').check();
    await form.getByLabel('Höchstens offene Anfragen pro Person (0 = unbegrenzt)').fill('3');
    await form.getByLabel('Anfragen von Personen, die offline sind').selectOption('unassign');
    await form.getByLabel('nach Minuten offline').fill('20');
    await form.getByRole('button', { name: 'Speichern' }).click();
    await form.getByText('Gespeichert').waitFor();
    expect(await app.sparsam.teams.assignmentSettings('werkstatt')).toEqual({
      auto: true,
      maxOpenPerAgent: 3,
      offline: 'unassign',
      offlineAfterMinutes: 20,
    });
    await shot(page, 'teams-admin-assignment-de');

    // Ben's inbox tab is open (its heartbeat makes him available); he looks at "Meine".
    const ben = new ApiBrowser(app.sparsam);
    await ben.login('ben@example.org');
    const agent = await signedIn(ben, 'de-DE', DESKTOP);
    await agent.page.goto(`${baseUrl}/inbox`);
    await agent.page.getByLabel('Mein Status').waitFor();
    await expect.poll(async () => (await app.sparsam.teams.ownPresence(agentId)).availability).toBe('online');
    await agent.page.getByRole('tab', { name: 'Meine' }).click();
    // Coming online, he was handed the workshop conversation that was waiting.
    await agent.page.locator('.conv-item', { hasText: `Werkstatt ${convA.seq}` }).waitFor();
    // A customer's conversation becomes visible (consent given): round robin hands it to Ben, his list follows live.
    const fresh = await seedConversation(app.sparsam, 'werkstatt', 'wa-werkstatt');
    app.sparsam.events.publish({ type: 'conversation.created', inboxId: 'werkstatt', conversationId: fresh.id });
    await agent.page.locator('.conv-item', { hasText: `Werkstatt ${fresh.seq}` }).waitFor();
    await agent.page.locator('.conv-item', { hasText: `Werkstatt ${fresh.seq}` }).click();
    const assignee = agent.page.getByLabel('Zuweisen an');
    await expect.poll(() => assignee.inputValue()).toBe(agentId);
    expect(await assignee.locator('option:checked').textContent()).toBe('Ben Weber (Sie)');
    // Colleagues show their availability: the admin has no inbox tab open.
    expect(await assignee.locator('option').allTextContents()).toContain('admin (Offline)');

    // The admin mentions Ben in a note: his badge counts it, the list names the conversation.
    expect(
      (await admin.post(`/api/v1/conversations/${fresh.id}/notes`, { text: '@Ben Weber bitte Rückruf' })).statusCode,
    ).toBe(201);
    const badge = agent.page.locator('.mention-badge .count');
    await expect.poll(() => badge.textContent()).toBe('1');
    await agent.page.locator('.mention-badge').click();
    await agent.page
      .getByText(`Anfrage`)
      .or(agent.page.getByText(`in Werkstatt ${fresh.seq}`))
      .first()
      .waitFor();
    await shot(agent.page, 'teams-mentions-de');
    await agent.context.close();
    await context.close();
  });

  it('lets an admin create an agent token limited to an inbox in the admin screen; it sees only that inbox', async () => {
    const { context, page } = await signedIn(admin, 'de-DE', DESKTOP);
    await page.goto(`${baseUrl}/admin/tokens`);
    await page.getByLabel('Name (wofür)').fill('werkstatt-crm');
    await page.getByRole('checkbox', { name: 'werkstatt' }).check();
    await page.getByRole('button', { name: 'Token erstellen' }).click();
    const token = (await page.locator('.invite-link code').textContent())!;
    expect(token).toMatch(/^spt_/);
    await page.locator('tr', { hasText: 'werkstatt-crm' }).waitFor();
    await shot(page, 'teams-admin-tokens-de');
    const list = await app.sparsam.http.inject({
      method: 'GET',
      url: '/api/v1/conversations',
      headers: { authorization: `Bearer ${token}` },
    });
    const ids = (list.json().items as { id: string; inboxId: string }[]).map((c) => c.inboxId);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids)).toEqual(new Set(['werkstatt']));
    const other = await app.sparsam.http.inject({
      method: 'GET',
      url: `/api/v1/conversations/${convB.id}`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(other.statusCode).toBe(404);
    page.once('dialog', (d) => void d.accept());
    await page.locator('tr', { hasText: 'werkstatt-crm' }).getByRole('button', { name: 'Widerrufen' }).click();
    await page.locator('tr', { hasText: 'werkstatt-crm' }).getByText('widerrufen').waitFor();
    const revoked = await app.sparsam.http.inject({
      method: 'GET',
      url: '/api/v1/conversations',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(revoked.statusCode).toBe(401);
    await context.close();
  });

  it('fits a phone in English: the status and mentions above the list, the assignment screen', async () => {
    const ben = new ApiBrowser(app.sparsam);
    await ben.login('ben@example.org');
    await ben.request('PATCH', '/api/v1/me', { language: 'en' });
    const agent = await signedIn(ben, 'en-GB', PHONE);
    await agent.page.goto(`${baseUrl}/inbox`);
    await agent.page.getByLabel('My status').waitFor();
    // The status and mention controls fit the phone's width (the top bar's own width is the navigation's matter).
    const right = await agent.page.locator('.team-bar').evaluate((el) => el.getBoundingClientRect().right);
    expect(right).toBeLessThanOrEqual(PHONE.width);
    await agent.page.locator('.mention-badge').click();
    const list = await agent.page.locator('.mention-list').evaluate((el) => el.getBoundingClientRect());
    expect(list.left).toBeGreaterThanOrEqual(0);
    expect(list.right).toBeLessThanOrEqual(PHONE.width);
    await shot(agent.page, 'teams-agent-inbox-phone-en');
    await agent.context.close();
    await admin.request('PATCH', '/api/v1/me', { language: 'en' });
    const { context, page } = await signedIn(admin, 'en-GB', PHONE);
    await page.goto(`${baseUrl}/admin/assignment`);
    await page.getByRole('form', { name: 'Assignment: werkstatt' }).waitFor();
    await shot(page, 'teams-admin-assignment-phone-en');
    await page.goto(`${baseUrl}/admin/users`);
    await page.getByLabel('Inboxes of Ben Weber').waitFor();
    await shot(page, 'teams-admin-users-phone-en');
    await context.close();
  });
});
