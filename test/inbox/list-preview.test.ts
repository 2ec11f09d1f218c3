import { existsSync, readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { describeEachStore } from '../support/stores.ts';
import { buttonReply, startWorld, textMessage, type World } from './inbox-world.ts';

const LONG =
  'Guten Morgen, mein Getriebe macht seit gestern beim Anfahren ein lautes Knacken und ich bräuchte bitte bald einen Termin in der Werkstatt';

interface Item {
  id: string;
  label: string;
  priority: 'normal' | 'high';
  unread: number;
  preview: { text: string | null; kind: string; direction: string; at: string } | null;
}

describeEachStore('conversation list: preview of the newest message', (dialect) => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld(dialect);
  });
  afterAll(async () => {
    await w.close();
  });
  const list = async () => (await w.api('GET', '/api/v1/conversations')).json().items as Item[];

  it('shows the newest message cut to 80 characters, follows replies and notes, and stores no plain text', async () => {
    await w.webhook(textMessage(w.clock, 'wamid.V1', 'Hallo', '491700000071'));
    await w.webhook(buttonReply(w.clock, 'wamid.V2', CONSENT_AGREE_ID, 'Zustimmen', '491700000071'));
    await w.drain();
    w.clock.advance(60_000);
    await w.webhook(textMessage(w.clock, 'wamid.V3', LONG, '491700000071'));
    await w.drain();
    let [item] = await list();
    expect(item!.unread).toBeGreaterThan(0);
    expect(item!.preview).toMatchObject({ direction: 'in', kind: 'text' });
    expect([...item!.preview!.text!]).toHaveLength(80);
    expect(item!.preview!.text!.startsWith('Guten Morgen, mein Getriebe')).toBe(true);
    expect(item!.preview!.text!.endsWith('…')).toBe(true);

    w.clock.advance(60_000);
    const reply = await w.api('POST', `/api/v1/conversations/${item!.id}/messages`, { text: 'Gern, Dienstag 9 Uhr?' });
    expect(reply.statusCode).toBe(202);
    [item] = await list();
    expect(item!.preview).toMatchObject({ direction: 'out', text: 'Gern, Dienstag 9 Uhr?' });

    w.clock.advance(60 * 60_000);
    const note = await w.api('POST', `/api/v1/conversations/${item!.id}/notes`, { text: 'Kunde hat Garantie' });
    expect(note.statusCode).toBeLessThan(300);
    [item] = await list();
    expect(item!.preview).toMatchObject({ direction: 'note', text: 'Kunde hat Garantie' });
    expect(Date.parse(item!.preview!.at)).toBeGreaterThanOrEqual(w.clock.now().getTime());

    // The preview is opened in memory per request: neither the texts nor the cut preview are anywhere on disk.
    await w.drain();
    const needles = [LONG, item!.preview!.text!, 'Gern, Dienstag 9 Uhr?', 'Kunde hat Garantie', 'Getriebe macht'];
    let haystack: Buffer;
    if (dialect === 'sqlite') {
      const files = w.sparsam.store.files.filter((f) => existsSync(f));
      expect(files.length).toBeGreaterThan(0);
      haystack = Buffer.concat(files.map((f) => readFileSync(f)));
    } else {
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
      haystack = Buffer.concat(parts);
    }
    // Control: the scan finds a text that is stored in plain text (the inbox id).
    expect(haystack.includes(Buffer.from('wa-main'))).toBe(true);
    for (const n of needles) expect(haystack.includes(Buffer.from(n)), n).toBe(false);
  });

  it('sets a priority (audited, bad values refused), shows it and sorts high ones first on request', async () => {
    w.clock.advance(60_000);
    await w.webhook(textMessage(w.clock, 'wamid.P1', 'Hallo', '491700000072'));
    await w.webhook(buttonReply(w.clock, 'wamid.P2', CONSENT_AGREE_ID, 'Zustimmen', '491700000072'));
    await w.drain();
    const [newest, older] = await list();
    expect(newest!.priority).toBe('normal');
    expect(older!.priority).toBe('normal');

    const bad = await w.api('POST', `/api/v1/conversations/${older!.id}/priority`, { priority: 'urgent' });
    expect(bad.statusCode).toBe(400);
    const unknown = await w.api('POST', '/api/v1/conversations/no-such-id/priority', { priority: 'high' });
    expect(unknown.statusCode).toBe(404);
    const dpo = await w.api('POST', `/api/v1/conversations/${older!.id}/priority`, { priority: 'high' }, w.dpoToken);
    expect(dpo.statusCode).toBe(403);
    expect((await list()).every((c) => c.priority === 'normal')).toBe(true);

    const set = await w.api('POST', `/api/v1/conversations/${older!.id}/priority`, { priority: 'high' });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toEqual({ priority: 'high' });
    // The default order stays newest first; sort=priority puts the high one first.
    expect((await list()).map((c) => [c.id, c.priority])).toEqual([
      [newest!.id, 'normal'],
      [older!.id, 'high'],
    ]);
    const sorted = (await w.api('GET', '/api/v1/conversations?sort=priority')).json().items as Item[];
    expect(sorted.map((c) => c.id)).toEqual([older!.id, newest!.id]);
    expect((await w.api('GET', `/api/v1/conversations/${older!.id}`)).json().conversation.priority).toBe('high');
    const audit = await w.sparsam.audit.list({ action: 'conversation.priority' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ target_id: older!.id });

    // Setting it again changes nothing and writes no second entry; back to normal is recorded.
    await w.api('POST', `/api/v1/conversations/${older!.id}/priority`, { priority: 'high' });
    expect(await w.sparsam.audit.list({ action: 'conversation.priority' })).toHaveLength(1);
    await w.api('POST', `/api/v1/conversations/${older!.id}/priority`, { priority: 'normal' });
    expect(await w.sparsam.audit.list({ action: 'conversation.priority' })).toHaveLength(2);
    expect((await list()).every((c) => c.priority === 'normal')).toBe(true);
  });
});
