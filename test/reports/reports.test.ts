import { afterEach, beforeEach, expect, it } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { describeEachStore } from '../support/stores.ts';
import { CUSTOMER, buttonReply, startWorld, textMessage, type World } from '../inbox/inbox-world.ts';
import { Browser, createUser } from '../web/web-support.ts';

const MINUTE = 60_000;

describeEachStore('team reports', (dialect) => {
  let w: World;
  beforeEach(async () => {
    // 22:30 UTC on 23 November is 23:30 in Berlin (the default organisation time zone).
    w = await startWorld(dialect, { clock: new ManualClock(Date.UTC(2026, 10, 23, 22, 30)) });
  });
  afterEach(async () => {
    await w.close();
  });

  async function report(query = 'from=2026-11-23&to=2026-11-24', token = w.adminToken) {
    const res = await w.api('GET', `/api/v1/reports?${query}`, undefined, token);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  }

  it('counts by local day and hour, times first response and resolution per agent, and keeps it after erasure', async () => {
    await createUser(w.sparsam, 'lena@example.org', 'agent');
    const lena = new Browser(w.sparsam);
    expect((await lena.login('lena@example.org')).statusCode).toBe(200);

    await w.webhook(textMessage(w.clock, 'wamid.R1', 'Guten Abend, eine Frage zur Rechnung'));
    await w.webhook(buttonReply(w.clock, 'wamid.R2', CONSENT_AGREE_ID, 'Zustimmen'));
    await w.drain();
    const [conv] = (await w.api('GET', '/api/v1/conversations')).json().items as { id: string }[];

    w.clock.advance(10 * MINUTE); // 22:40 UTC, 23:40 local
    const reply = await lena.post(`/api/v1/conversations/${conv!.id}/messages`, { text: 'Gern, worum geht es?' });
    expect(reply.statusCode, reply.body).toBe(202);
    await w.drain();

    w.clock.advance(50 * MINUTE); // 23:30 UTC: 00:30 on the 24th in Berlin
    await w.webhook(textMessage(w.clock, 'wamid.R3', 'Die Rechnungsnummer ist 4711'));
    await w.drain();
    const closed = await lena.post(`/api/v1/conversations/${conv!.id}/close`);
    expect(closed.json().conversation.erased).toBe(true);

    const after = await report();
    expect(after.timeZone).toBe('Europe/Berlin');
    expect(after.byDay).toEqual([
      { day: '2026-11-23', messagesIn: 2, messagesOut: 1 },
      { day: '2026-11-24', messagesIn: 1, messagesOut: 0 },
    ]);
    expect(after.byHour[23]).toEqual({ hour: 23, messagesIn: 2, messagesOut: 1 });
    expect(after.byHour[0]).toEqual({ hour: 0, messagesIn: 1, messagesOut: 0 });
    expect(after.byHour[22]).toEqual({ hour: 22, messagesIn: 0, messagesOut: 0 });
    expect(after.byChannel).toEqual([{ channelKind: 'whatsapp-cloud', messagesIn: 3, messagesOut: 1 }]);
    expect(after.totals.firstResponse).toEqual({ count: 1, medianSeconds: 600, averageSeconds: 600 });
    expect(after.totals.resolution).toEqual({ count: 1, medianSeconds: 3600, averageSeconds: 3600 });
    expect(after.byAgent).toHaveLength(1);
    expect(after.byAgent[0].name).toBe('lena');
    expect(after.byAgent[0].messagesOut).toBe(1);
    expect(after.byAgent[0].firstResponse.medianSeconds).toBe(600);
    expect(after.byInbox).toEqual([expect.objectContaining({ inboxId: 'service', messagesIn: 3, messagesOut: 1 })]);

    // The conversation and its messages are gone; the figures stay.
    expect(await w.sparsam.store.db.selectFrom('messages').selectAll().execute()).toEqual([]);
    // Only the first day, and a period in UTC terms would differ: the 24th (local) holds the late message.
    const first = await report('from=2026-11-23&to=2026-11-23');
    expect(first.byDay).toEqual([{ day: '2026-11-23', messagesIn: 2, messagesOut: 1 }]);

    // CSV, by both spellings, for the data protection officer too (read only).
    const csv = await w.api('GET', '/api/v1/reports.csv?from=2026-11-23&to=2026-11-24', undefined, w.dpoToken);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe(
      'section,key,name,messages_in,messages_out,first_responses,first_response_median_s,first_response_avg_s,resolved,resolution_median_s,resolution_avg_s,csat_answers,csat_avg',
    );
    expect(lines).toContain('day,2026-11-24,,1,0,,,,,,,,');
    expect(lines).toContain('hour,23,,2,1,,,,,,,,');
    expect(lines.find((l) => l.startsWith('agent,'))).toMatch(/,lena,,1,1,600,600,1,3600,3600,0,$/);
    const viaFormat = await w.api(
      'GET',
      '/api/v1/reports?from=2026-11-23&to=2026-11-24&format=csv',
      undefined,
      w.adminToken,
    );
    expect(viaFormat.body).toBe(csv.body);
    // Content-free: nothing of the texts or the number.
    for (const body of [csv.body, JSON.stringify(after)]) {
      expect(body).not.toContain('Rechnung');
      expect(body).not.toContain(CUSTOMER);
    }
  });

  it('refuses agents and bad periods', async () => {
    expect((await w.api('GET', '/api/v1/reports?from=2026-11-01&to=2026-11-30')).statusCode).toBe(403);
    const backwards = await w.api('GET', '/api/v1/reports?from=2026-11-30&to=2026-11-01', undefined, w.adminToken);
    expect(backwards.statusCode).toBe(400);
    const long = await w.api('GET', '/api/v1/reports?from=2024-01-01&to=2026-11-01', undefined, w.adminToken);
    expect(long.statusCode).toBe(400);
    const bad = await w.api('GET', '/api/v1/reports?from=yesterday&to=2026-11-01', undefined, w.adminToken);
    expect(bad.statusCode).toBe(400);
    const empty = await report('from=2026-11-01&to=2026-11-30');
    expect(empty.byDay).toHaveLength(30);
    expect(empty.totals.messagesIn).toBe(0);
  });

  it('reports the last 30 days up to today in Berlin when no period is asked for, also just after local midnight', async () => {
    // 22:30 UTC: still the 23rd in Berlin.
    const evening = await report('');
    expect([evening.from, evening.to]).toEqual(['2026-10-25', '2026-11-23']);
    expect(evening.byDay).toHaveLength(30);
    // 23:30 UTC is 00:30 on the 24th in Berlin, while the date in UTC is still the 23rd.
    w.clock.advance(60 * MINUTE);
    await w.webhook(textMessage(w.clock, 'wamid.MIDNIGHT', 'Noch jemand da?'));
    await w.drain();
    const night = await report('');
    expect([night.from, night.to]).toEqual(['2026-10-26', '2026-11-24']);
    expect(night.byDay.at(-1)).toEqual({ day: '2026-11-24', messagesIn: 1, messagesOut: 0 });
    // Only the end asked for: the 30 days before it.
    expect((await report('to=2026-11-10')).from).toBe('2026-10-12');
    const csv = await w.api('GET', '/api/v1/reports.csv', undefined, w.adminToken);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-disposition']).toContain('sparsam-report-2026-10-26-2026-11-24.csv');
  });

  it("counts the website chat's messages by channel and the resolution time of conversations closed for inactivity", async () => {
    await w.close();
    const SITE = 'https://www.autohaus.example';
    w = await startWorld(dialect, {
      clock: new ManualClock(Date.UTC(2026, 10, 23, 9, 0)),
      editYaml: (yaml) =>
        yaml.replace(
          'channels:\n',
          `channels:\n  - id: chat\n    kind: webchat\n    inbox: service\n    allowedOrigins: ["${SITE}"]\n`,
        ),
    });
    const chat = (url: string, body: unknown, token?: string) =>
      w.sparsam.http.inject({
        method: 'POST',
        url,
        headers: {
          origin: SITE,
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        payload: JSON.stringify(body),
      });
    const config = await w.sparsam.http.inject({
      method: 'GET',
      url: '/webchat/chat/config?lang=de',
      headers: { origin: SITE },
    });
    const consent = await chat('/webchat/chat/consent', {
      language: 'de',
      noticeVersion: config.json().notice.version,
    });
    expect(consent.statusCode, consent.body).toBe(201);
    const token = consent.json().token as string;
    const sent = await chat(
      '/webchat/chat/messages',
      { clientId: 'client-0001', text: 'Ist mein Auto fertig?' },
      token,
    );
    expect(sent.statusCode, sent.body).toBe(201);
    w.clock.advance(30 * MINUTE);
    await chat('/webchat/chat/messages', { clientId: 'client-0002', text: 'Hallo?' }, token);
    await w.drain();

    // Nobody answered; after autoCloseAfterDays (14) of quiet the sweep closes it.
    w.clock.advance(15 * 24 * 60 * MINUTE);
    expect((await w.sparsam.retention.sweep()).autoClosed).toBe(1);

    const r = await report('from=2026-11-23&to=2026-12-08');
    expect(r.byChannel).toEqual([{ channelKind: 'webchat', messagesIn: 2, messagesOut: 0 }]);
    // Resolved when it went quiet (the last message, 30 minutes after the first), not when the sweep came by.
    expect(r.totals.resolution).toEqual({ count: 1, medianSeconds: 1800, averageSeconds: 1800 });
    expect(r.byInbox).toEqual([expect.objectContaining({ inboxId: 'service', team: 'service', messagesIn: 2 })]);
    // Without a team setting an inbox is a team of its own.
    expect(r.byTeam).toEqual([
      expect.objectContaining({
        team: 'service',
        inboxIds: ['service'],
        messagesIn: 2,
        resolution: r.totals.resolution,
      }),
    ]);
  });
});
