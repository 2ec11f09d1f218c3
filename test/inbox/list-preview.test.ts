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

    w.clock.advance(60_000);
    const note = await w.api('POST', `/api/v1/conversations/${item!.id}/notes`, { text: 'Kunde hat Garantie' });
    expect(note.statusCode).toBeLessThan(300);
    [item] = await list();
    expect(item!.preview).toMatchObject({ direction: 'note', text: 'Kunde hat Garantie' });
    expect(Date.parse(item!.preview!.at)).toBe(w.clock.now().getTime());

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
});
