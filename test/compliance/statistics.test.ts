import { afterEach, beforeEach, expect, it } from 'vitest';
import { HOUR_MS, ManualClock } from '../../src/shared/clock.ts';
import { describeEachStore } from '../support/stores.ts';
import { CUSTOMER, startWorld, textMessage, type World } from '../inbox/inbox-world.ts';
import { consentedConversation } from './compliance-world.ts';

const PASSWORD = 'werkstatt-passwort-ben';

describeEachStore('inbox statistics', (dialect) => {
  let w: World;
  beforeEach(async () => {
    // Message times are kept monotonic per process (messageStamp): each dialect's run starts hours after the last
    // one's clock ended, so that the stamps of this run are its own clock's.
    w = await startWorld(dialect, { clock: new ManualClock(Date.now() + (dialect === 'postgres' ? 3 * HOUR_MS : 0)) });
  });
  afterEach(async () => {
    await w.close();
  });

  it('counts volumes, first response time, consent and erasures, without any content', async () => {
    const from = w.clock.now().toISOString();
    const first = await consentedConversation(w, CUSTOMER, 'Haben Sie Winterreifen?', 'S');
    const second = await consentedConversation(w, '491700000002', 'Termin frei?', 'T');
    w.clock.advance(HOUR_MS / 2);
    // An agent answers from the browser inbox (session), so the reply has an author.
    await w.sparsam.accounts.createUser({
      email: 'ben@autohaus.example',
      password: PASSWORD,
      role: 'agent',
      displayName: 'Ben',
    });
    const login = await w.sparsam.http.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'ben@autohaus.example', password: PASSWORD },
      remoteAddress: '10.9.9.9',
    });
    expect(login.statusCode).toBe(200);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const reply = await w.sparsam.http.inject({
      method: 'POST',
      url: `/api/v1/conversations/${second}/messages`,
      payload: { text: 'Ja, Dienstag' },
      headers: { cookie, 'x-csrf-token': login.json().csrfToken as string },
      remoteAddress: '10.9.9.9',
    });
    expect(reply.statusCode).toBe(202);
    await w.drain();
    // A third customer never agrees.
    expect((await w.webhook(textMessage(w.clock, 'wamid.U1', 'Hallo?', '491700000003'))).statusCode).toBe(200);
    await w.drain();
    // Closing erases at once here (eraseAfterCloseDays 0): the first conversation's rows are gone, its counts stay.
    expect((await w.api('POST', `/api/v1/conversations/${first}/close`)).statusCode).toBe(200);
    // First response times come from the stored rows: the second conversation's, while it is stored.
    const before = await w.api(
      'GET',
      `/api/v1/statistics?from=${from}&to=${new Date(w.clock.now().getTime() + 1).toISOString()}`,
      undefined,
      w.adminToken,
    );
    expect(before.json().firstResponseMinutes).toEqual({ conversations: 1, median: 30, p90: 30 });
    // The second customer withdraws with STOP, which erases the contact with its reply; both still count.
    expect((await w.webhook(textMessage(w.clock, 'wamid.T9', 'STOP', '491700000002'))).statusCode).toBe(200);
    await w.drain();
    expect(
      await w.sparsam.store.db.selectFrom('messages').select('id').where('author_id', 'is not', null).execute(),
    ).toEqual([]);
    w.clock.advance(HOUR_MS);
    const to = w.clock.now().toISOString();

    const res = await w.api('GET', `/api/v1/statistics?from=${from}&to=${to}`, undefined, w.adminToken);
    expect(res.statusCode).toBe(200);
    const stats = res.json();
    // Three conversations began; only the third is still stored (waiting for consent).
    expect(stats.conversations).toEqual({ started: 3, waitingForConsent: 1, open: 0, closed: 0 });
    // Received: two texts and two consent taps, the third customer's text, erased ones included (the STOP is counted
    // as a withdrawal, not stored as a message).
    expect(stats.messages.inbound).toBe(5);
    // The reply counts though its conversation was erased.
    expect(stats.messages.staffReplies).toBe(1);
    expect(stats.messages.automatic).toBeGreaterThanOrEqual(3);
    expect(stats.consent.serviceGranted).toBe(2);
    expect(stats.consent.serviceWithdrawn).toBe(1);
    // Two contacts erased: the one who withdrew with STOP, and the first one with its last (erased) conversation.
    expect(stats.erasures).toEqual({ conversations: 1, contacts: 2 });
    expect(stats.days[0].day).toBe(from.slice(0, 10));
    const days = stats.days as { conversations: number; inbound: number }[];
    expect(days.reduce((n, d) => n + d.conversations, 0)).toBe(3);
    expect(days.reduce((n, d) => n + d.inbound, 0)).toBe(5);
    expect(JSON.stringify(stats)).not.toMatch(/Winterreifen|4915|Anfrage/);

    expect((await w.api('GET', '/api/v1/statistics', undefined, w.agentToken)).statusCode).toBe(403);
    expect((await w.api('GET', `/api/v1/statistics?from=${to}&to=${from}`, undefined, w.adminToken)).statusCode).toBe(
      400,
    );
    expect(
      (await w.api('GET', '/api/v1/statistics?from=2020-01-01T00:00:00Z', undefined, w.adminToken)).statusCode,
    ).toBe(400);
  });
});
