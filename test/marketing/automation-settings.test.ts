import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachStore } from '../support/stores.ts';
import type { World } from '../inbox/inbox-world.ts';
import {
  AWAY,
  GREETING,
  consentedCustomer,
  isConsentConfirmation,
  say,
  startMarketingWorld,
  textsTo,
} from './marketing-world.ts';

const ANNA = '4915111111111';
const BERT = '4915122222222';
const LATE_AWAY = 'Wir sind montags erst ab 14 Uhr da.';

interface AutomationView {
  greeting: { enabled: boolean; text: { de: string; en: string } };
  away: {
    enabled: boolean;
    text: { de: string; en: string };
    timeZone: string;
    hours: Record<string, string[]>;
    holidays: string[];
    cooldownHours: number;
  };
}

describeEachStore('automated messages edited by an admin', (dialect) => {
  let w: World;
  beforeEach(async () => {
    // Monday 23 Nov 2026, 10:00 in Berlin: inside the configured hours (Mon-Fri 08:00-18:00).
    w = await startMarketingWorld(dialect);
  });
  afterEach(async () => {
    await w.close();
  });

  const put = (body: unknown, token = w.adminToken) => w.api('PUT', '/api/v1/admin/inboxes/service', body, token);
  async function automation(): Promise<AutomationView> {
    const res = await w.api('GET', '/api/v1/admin/inboxes', undefined, w.adminToken);
    expect(res.statusCode).toBe(200);
    return (res.json().items as { id: string; automation: AutomationView }[]).find((i) => i.id === 'service')!
      .automation;
  }
  const settingsAudits = () =>
    w.sparsam.store.db.selectFrom('audit_log').selectAll().where('action', '=', 'inbox.settings-changed').execute();
  /** Settings are cached per instance for 3 seconds. */
  const letSettingsReachTheInbox = () => w.clock.advance(5_000);

  it('shows the configured messages and applies changed hours to the next customer message', async () => {
    const before = await automation();
    expect(before.greeting).toEqual({ enabled: true, text: { de: GREETING, en: '' } });
    expect(before.away).toMatchObject({ enabled: true, timeZone: 'Europe/Berlin', holidays: ['2026-12-24'] });
    expect(before.away.hours.mon).toEqual(['08:00-18:00']);

    // Inside the configured hours: greeting, no away message.
    await consentedCustomer(w, ANNA);
    expect(textsTo(w, ANNA)).toContain(GREETING);
    expect(textsTo(w, ANNA)).not.toContain(AWAY);

    const res = await put({
      automation: { away: { hours: { mon: ['14:00-18:00'] }, text: { de: LATE_AWAY }, holidays: ['2026-12-31'] } },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().item.automation.away.hours.mon).toEqual(['14:00-18:00']);
    expect(res.json().item.automation.away.hours.tue).toEqual(['08:00-18:00']);
    letSettingsReachTheInbox();

    // 10:00 on a Monday is now outside the hours: the new away message goes out, in the inbox's language.
    await consentedCustomer(w, BERT);
    expect(textsTo(w, BERT)).toContain(GREETING);
    expect(textsTo(w, BERT)).toContain(LATE_AWAY);
    expect(textsTo(w, BERT)).not.toContain(AWAY);

    // Audited like the other settings changes, without the texts.
    const audits = await settingsAudits();
    expect(audits).toHaveLength(1);
    expect(JSON.parse(audits[0]!.details)).toMatchObject({
      automationChanged: true,
      awayMessage: true,
      greeting: true,
      awayTimeZone: 'Europe/Berlin',
      awayHolidays: 1,
    });
    expect(audits[0]!.details).not.toContain(LATE_AWAY);
  });

  it('switches a message off and on again without losing its text', async () => {
    expect((await put({ automation: { greeting: { enabled: false } } })).statusCode).toBe(200);
    expect((await automation()).greeting).toEqual({ enabled: false, text: { de: GREETING, en: '' } });
    letSettingsReachTheInbox();
    await consentedCustomer(w, ANNA);
    expect(textsTo(w, ANNA)).not.toContain(GREETING);

    expect((await put({ automation: { greeting: { enabled: true } } })).statusCode).toBe(200);
    letSettingsReachTheInbox();
    await consentedCustomer(w, BERT);
    expect(textsTo(w, BERT)).toContain(GREETING);
  });

  it('refuses agents and DPOs', async () => {
    const change = { automation: { away: { hours: { mon: [] } } } };
    expect((await put(change, w.agentToken)).statusCode).toBe(403);
    expect((await put(change, w.dpoToken)).statusCode).toBe(403);
    expect((await w.api('GET', '/api/v1/admin/inboxes', undefined, w.agentToken)).statusCode).toBe(403);
    expect((await automation()).away.hours.mon).toEqual(['08:00-18:00']);
    expect(await settingsAudits()).toHaveLength(0);
  });

  it('refuses an unknown time zone and other bad values with a clear error and changes nothing', async () => {
    const before = await automation();
    const cases: [unknown, RegExp, string][] = [
      [{ away: { timeZone: 'Mars/Olympus', hours: { mon: [] } } }, /IANA time zone.*Europe\/Berlin/, 'away.timeZone'],
      [{ away: { timeZone: '+01:00' } }, /IANA time zone/, 'away.timeZone'],
      [{ away: { hours: { mon: ['18:00-08:00'] } } }, /HH:MM-HH:MM/, 'away.hours.mon'],
      [{ away: { holidays: ['2026-02-30'] } }, /YYYY-MM-DD/, 'away.holidays'],
      [{ away: { cooldownHours: 0 } }, /cooldown/, 'away.cooldownHours'],
      [{ greeting: { text: { de: '  ' } } }, /German or English/, 'greeting.text'],
    ];
    for (const [change, message, field] of cases) {
      const res = await put({ automation: change, media: 'reject' });
      expect(res.statusCode, JSON.stringify(change)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION');
      expect(res.json().error.message).toMatch(message);
      expect(res.json().error.details.field).toBe(`automation.${field}`);
    }
    // A misspelt key is refused too, not silently ignored.
    const typo = await put({ automation: { away: { timezone: 'Europe/Berlin' } } });
    expect(typo.statusCode).toBe(400);
    expect(typo.json().error.message).toMatch(/automation\.away/);

    expect(await automation()).toEqual(before);
    const inbox = (await w.api('GET', '/api/v1/admin/inboxes', undefined, w.adminToken)).json().items[0];
    expect(inbox.settings.media).toBe('strip');
    expect(inbox.overridden).toBe(false);
    expect(await settingsAudits()).toHaveLength(0);
    // The configured hours still hold: no away message at 10:00 on a Monday.
    letSettingsReachTheInbox();
    await consentedCustomer(w, ANNA);
    await say(w, ANNA, 'Hallo?');
    expect(textsTo(w, ANNA)).not.toContain(AWAY);
  });

  it('stores the canonical zone name and returns to the configured messages on reset', async () => {
    const res = await put({ automation: { away: { timeZone: 'europe/vienna' } } });
    expect(res.statusCode).toBe(200);
    expect(res.json().item.automation.away.timeZone).toBe('Europe/Vienna');
    expect((await put({ reset: true })).statusCode).toBe(200);
    expect((await automation()).away.timeZone).toBe('Europe/Berlin');
  });
});

describeEachStore('automated messages of an inbox without any configured', (dialect) => {
  let w: World;
  beforeEach(async () => {
    w = await startMarketingWorld(dialect, false);
  });
  afterEach(async () => {
    await w.close();
  });

  it('offers both messages switched off, and saving the form unchanged (as the settings screen does) sends nothing', async () => {
    const view = (await w.api('GET', '/api/v1/admin/inboxes', undefined, w.adminToken)).json().items[0];
    expect(view.automation.greeting.enabled).toBe(false);
    expect(view.automation.away.enabled).toBe(false);
    const res = await w.api(
      'PUT',
      '/api/v1/admin/inboxes/service',
      { retention: view.settings.retention, media: view.settings.media, automation: view.automation },
      w.adminToken,
    );
    expect(res.statusCode).toBe(200);
    w.clock.set(new Date(Date.UTC(2026, 10, 23, 22, 0))); // late evening: the form's example hours are closed
    await consentedCustomer(w, ANNA);
    await say(w, ANNA, 'Hallo?');
    // The notice went out (with buttons); no automated text followed.
    expect(
      w.graph.sends
        .filter((s) => s.to === ANNA)
        .filter((s) => !isConsentConfirmation((s.body.text as { body: string } | undefined)?.body ?? ''))
        .map((s) => s.type),
    ).toEqual(['interactive']);
    expect(textsTo(w, ANNA)).toEqual([]);
  });
});
