import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import type { Sparsam } from '../../src/main.ts';
import { describeEachStore } from '../support/stores.ts';
import { CUSTOMER, PHONE_NUMBER_ID, buttonReply, startWorld, textMessage, type World } from '../inbox/inbox-world.ts';
import { Browser, createUser } from '../web/web-support.ts';

const DAY = 86_400_000;
/** What the customer's WhatsApp sends back as the tapped row's title: must never be stored. */
const TAP_TITLE = 'Vier-Sterne-Antwort';

/** A tap on a row of an interactive list, as Meta delivers it. */
function listReply(clock: ManualClock, id: string, rowId: string, title = TAP_TITLE) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: PHONE_NUMBER_ID },
              contacts: [{ profile: { name: 'Erika Mustermann' }, wa_id: CUSTOMER }],
              messages: [
                {
                  from: CUSTOMER,
                  id,
                  timestamp: String(Math.floor(clock.now().getTime() / 1000)),
                  type: 'interactive',
                  interactive: { type: 'list_reply', list_reply: { id: rowId, title } },
                },
              ],
            },
          },
        ],
      },
    ],
  };
}

/** Every byte sparsam keeps: the SQLite files (with WAL), or every value of every PostgreSQL table. */
async function everything(w: World): Promise<Buffer> {
  if (w.dialect === 'sqlite') {
    await w.sparsam.store.scrub?.().catch(() => undefined);
    const parts: Buffer[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const file = path.join(dir, name);
        if (statSync(file).isDirectory()) walk(file);
        else parts.push(readFileSync(file));
      }
    };
    walk(w.dataDir);
    return Buffer.concat(parts);
  }
  const parts: Buffer[] = [];
  for (const db of [w.sparsam.store.db, w.sparsam.store.keys] as const) {
    const tables = await sql<{ table_schema: string; table_name: string }>`
      select table_schema, table_name from information_schema.tables
      where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'`.execute(db);
    for (const t of tables.rows) {
      const rows = await sql<
        Record<string, unknown>
      >`select * from ${sql.table(`${t.table_schema}.${t.table_name}`)}`.execute(db);
      for (const row of rows.rows) {
        for (const v of Object.values(row)) parts.push(Buffer.isBuffer(v) ? v : Buffer.from(String(v)));
      }
    }
  }
  return Buffer.concat(parts);
}

const count = async (s: Sparsam, table: 'messages' | 'conversations' | 'csat_surveys') =>
  Number(
    (
      await s.store.db
        .selectFrom(table)
        .select(sql<number>`count(*)`.as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

const withCsat =
  (enabled: boolean, team = 'Werkstatt') =>
  (yaml: string) =>
    yaml.replace('    media: strip\n', `    media: strip\n    team: ${team}\n    csat:\n      enabled: ${enabled}\n`);

describeEachStore('satisfaction question after close', (dialect) => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  /** A consented conversation with one reply by the agent lena, closed by her; returns the questions sent. */
  async function closedByLena(world: World) {
    await createUser(world.sparsam, 'lena@example.org', 'agent');
    const lena = new Browser(world.sparsam);
    expect((await lena.login('lena@example.org')).statusCode).toBe(200);
    await world.webhook(textMessage(world.clock, 'wamid.Q1', 'Ist mein Auto fertig?'));
    await world.webhook(buttonReply(world.clock, 'wamid.Q2', CONSENT_AGREE_ID, 'Zustimmen'));
    await world.drain();
    const [conv] = (await world.api('GET', '/api/v1/conversations')).json().items as { id: string }[];
    world.clock.advance(5 * 60_000);
    expect((await lena.post(`/api/v1/conversations/${conv!.id}/messages`, { text: 'Ja, ab 16 Uhr.' })).statusCode).toBe(
      202,
    );
    await world.drain();
    const before = world.graph.sends.length;
    const closed = await lena.post(`/api/v1/conversations/${conv!.id}/close`);
    expect(closed.statusCode, closed.body).toBe(200);
    await world.drain();
    return { conversationId: conv!.id, questions: world.graph.sends.slice(before) };
  }

  it('asks once as a list of five, keeps only the score (once), shows it per agent, team and inbox, and after erasure', async () => {
    w = await startWorld(dialect, {
      eraseAfterCloseDays: 30,
      clock: new ManualClock(Date.UTC(2026, 11, 1, 9, 0)),
      editYaml: withCsat(true),
    });
    const { conversationId, questions } = await closedByLena(w);
    expect(questions).toHaveLength(1);
    const interactive = questions[0]!.body.interactive as {
      type: string;
      body: { text: string };
      action: { button: string; sections: { rows: { id: string; title: string }[] }[] };
    };
    // WhatsApp's reply buttons stop at three: five answers go out as an interactive list.
    expect(interactive.type).toBe('list');
    expect(interactive.body.text).toBe('Wie zufrieden waren Sie? 1–5');
    expect(interactive.action.button).toBe('Bewerten');
    const rows = interactive.action.sections[0]!.rows;
    expect(rows.map((r) => r.title)).toEqual(['1 – unzufrieden', '2', '3', '4', '5 – sehr zufrieden']);
    expect(await count(w.sparsam, 'csat_surveys')).toBe(1);

    const messagesBefore = await count(w.sparsam, 'messages');
    w.clock.advance(60 * 60_000);
    const tap = listReply(w.clock, 'wamid.TAP1', rows[3]!.id);
    expect((await w.webhook(tap)).statusCode).toBe(200);
    // A redelivery and a second answer count nothing.
    expect((await w.webhook(tap)).statusCode).toBe(200);
    expect((await w.webhook(listReply(w.clock, 'wamid.TAP2', rows[0]!.id))).statusCode).toBe(200);
    await w.drain();

    // The tap is no message and opens nothing: the conversation stays closed, nobody has anything new to read.
    expect(await count(w.sparsam, 'messages')).toBe(messagesBefore);
    expect(await count(w.sparsam, 'conversations')).toBe(1);
    const list = (await w.api('GET', '/api/v1/conversations')).json().items as { id: string }[];
    expect(list).toEqual([]);
    const conversation = (await w.api('GET', `/api/v1/conversations/${conversationId}`)).json();
    expect(conversation.conversation.state).toBe('closed');
    expect(await count(w.sparsam, 'csat_surveys')).toBe(0);

    const facts = await w.sparsam.store.db.selectFrom('report_facts').selectAll().where('kind', '=', 'csat').execute();
    expect(facts).toHaveLength(1);
    expect(facts[0]).toMatchObject({ score: 4, inbox_id: 'service', channel_kind: 'whatsapp-cloud' });
    // Kept to the day (midnight in Berlin), not to the minute of the tap.
    expect(Number(facts[0]!.at)).toBe(Date.UTC(2026, 10, 30, 23, 0));
    const bytes = await everything(w);
    expect(bytes.includes(Buffer.from(TAP_TITLE))).toBe(false);

    const report = async () => {
      const res = await w!.api('GET', '/api/v1/reports?from=2026-12-01&to=2026-12-01', undefined, w!.adminToken);
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    };
    const r = await report();
    expect(r.totals.csat).toEqual({ count: 1, average: 4, scores: [0, 0, 0, 1, 0] });
    expect(r.byAgent).toHaveLength(1);
    expect(r.byAgent[0]).toMatchObject({ name: 'lena', csat: { count: 1, average: 4 } });
    expect(r.byTeam).toEqual([
      expect.objectContaining({
        team: 'Werkstatt',
        inboxIds: ['service'],
        csat: expect.objectContaining({ count: 1 }),
      }),
    ]);
    expect(r.byTeam[0].firstResponse.count).toBe(1);
    expect(r.byTeam[0].resolution.count).toBe(1);
    expect(r.byInbox[0]).toMatchObject({ inboxId: 'service', team: 'Werkstatt', csat: { count: 1, average: 4 } });
    const csv = (await w.api('GET', '/api/v1/reports.csv?from=2026-12-01&to=2026-12-01', undefined, w.adminToken)).body;
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toMatch(/,csat_answers,csat_avg$/);
    expect(lines.find((l) => l.startsWith('team,'))).toMatch(/^team,Werkstatt,,\d+,\d+,1,300,300,1,\d+,\d+,1,4$/);
    expect(lines.find((l) => l.startsWith('agent,'))).toMatch(/,1,4$/);
    expect(lines.find((l) => l.startsWith('inbox,'))).toMatch(/^inbox,service,Werkstatt,.*,1,4$/);

    // Erasing the customer leaves the score: it was never linked to them.
    const erased = await w.api(
      'POST',
      '/api/v1/compliance/dsar/erase',
      { channelId: 'wa-main', address: CUSTOMER, reason: 'Art. 17 request by letter' },
      w.dpoToken,
    );
    expect(erased.statusCode, erased.body).toBe(200);
    expect(await count(w.sparsam, 'conversations')).toBe(0);
    expect((await report()).totals.csat).toEqual({ count: 1, average: 4, scores: [0, 0, 0, 1, 0] });
  });

  it('ignores an answer after seven days and one after the customer was erased', async () => {
    w = await startWorld(dialect, { eraseAfterCloseDays: 30, editYaml: withCsat(true) });
    const { questions } = await closedByLena(w);
    const rows = (questions[0]!.body.interactive as { action: { sections: { rows: { id: string }[] }[] } }).action
      .sections[0]!.rows;
    w.clock.advance(7 * DAY + 60_000);
    expect((await w.webhook(listReply(w.clock, 'wamid.LATE', rows[4]!.id))).statusCode).toBe(200);
    await w.drain();
    const csat = await w.sparsam.store.db.selectFrom('report_facts').selectAll().where('kind', '=', 'csat').execute();
    expect(csat).toEqual([]);
    // A late tap is not a message either: nothing opens.
    expect((await w.api('GET', '/api/v1/conversations')).json().items).toEqual([]);

    // A new conversation, closed, then the customer is erased: the question goes with them.
    w.clock.advance(DAY);
    await w.webhook(textMessage(w.clock, 'wamid.Q9', 'Noch eine Frage'));
    await w.drain();
    const [again] = (await w.api('GET', '/api/v1/conversations')).json().items as { id: string }[];
    const before = w.graph.sends.length;
    expect((await w.api('POST', `/api/v1/conversations/${again!.id}/close`)).statusCode).toBe(200);
    await w.drain();
    const second = w.graph.sends.slice(before).find((s) => s.type === 'interactive');
    expect(second).toBeDefined();
    expect(await count(w.sparsam, 'csat_surveys')).toBe(1);
    await w.api(
      'POST',
      '/api/v1/compliance/dsar/erase',
      { channelId: 'wa-main', address: CUSTOMER, reason: 'Art. 17 request by letter' },
      w.dpoToken,
    );
    expect(await count(w.sparsam, 'csat_surveys')).toBe(0);
    const rowId = (second!.body.interactive as { action: { sections: { rows: { id: string }[] }[] } }).action
      .sections[0]!.rows[2]!.id;
    await w.webhook(listReply(w.clock, 'wamid.AFTER', rowId));
    await w.drain();
    expect(
      await w.sparsam.store.db.selectFrom('report_facts').selectAll().where('kind', '=', 'csat').execute(),
    ).toEqual([]);
  });

  it('asks nothing where the inbox does not ask or the conversation is erased at close; admins switch it on', async () => {
    w = await startWorld(dialect, { eraseAfterCloseDays: 30, editYaml: withCsat(false) });
    expect((await closedByLena(w)).questions).toEqual([]);
    expect(await count(w.sparsam, 'csat_surveys')).toBe(0);

    // A team name too long is refused and changes nothing; then the admin switches the question on.
    const bad = await w.api('PUT', '/api/v1/admin/inboxes/service', { team: 'x'.repeat(61) }, w.adminToken);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('VALIDATION');
    const on = await w.api(
      'PUT',
      '/api/v1/admin/inboxes/service',
      { csat: { enabled: true }, team: 'Verkauf' },
      w.adminToken,
    );
    expect(on.statusCode, on.body).toBe(200);
    expect(on.json().item.settings).toMatchObject({ team: 'Verkauf', csat: { enabled: true } });
    const other = '4917600000001';
    w.clock.advance(60_000);
    await w.webhook(textMessage(w.clock, 'wamid.O1', 'Gibt es den Wagen noch?', other));
    await w.webhook(buttonReply(w.clock, 'wamid.O2', CONSENT_AGREE_ID, 'Zustimmen', other));
    await w.drain();
    const [open] = (await w.api('GET', '/api/v1/conversations')).json().items as { id: string }[];
    const before = w.graph.sends.length;
    expect((await w.api('POST', `/api/v1/conversations/${open!.id}/close`)).statusCode).toBe(200);
    await w.drain();
    const asked = w.graph.sends.slice(before);
    expect(asked.map((s) => [s.to, s.type])).toEqual([[other, 'interactive']]);
    expect(await count(w.sparsam, 'csat_surveys')).toBe(1);
    await w.close();
    w = await startWorld(dialect, { eraseAfterCloseDays: 0, editYaml: withCsat(true) });
    expect((await closedByLena(w)).questions).toEqual([]);
    expect(await count(w.sparsam, 'csat_surveys')).toBe(0);
  });
});
