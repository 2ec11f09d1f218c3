import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { foldText, matchSnippet } from '../../src/core/inbox/text-search.ts';
import { describeEachStore } from '../support/stores.ts';
import { CUSTOMER, buttonReply, startWorld, textMessage, type World } from './inbox-world.ts';

const OTHER = '4915187654321';
const PENDING = '4915100000003';

interface Hit {
  id: string;
  label: string;
  match: { messageId: string; snippet: string } | null;
}

/** Every byte under the data directory (SQLite files, WAL, keys) or, on PostgreSQL, every row of every table. */
async function rawBytes(w: World): Promise<Buffer> {
  if (w.dialect === 'sqlite') {
    const parts: Buffer[] = [];
    const walk = (dir: string): void => {
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

describe('text folding for the search', () => {
  it('ignores case and accents and maps the hit back to the original text', () => {
    expect(foldText('Straße GERÄUSCH Café')).toBe('strasse gerausch cafe');
    expect(matchSnippet('Die Bremsbeläge quietschen seit Montag', foldText('BREMSBELAGE'))).toBe(
      'Die Bremsbeläge quietschen seit Montag',
    );
    const long = `${'a'.repeat(100)} Zündkerze ${'b'.repeat(100)}`;
    const snippet = matchSnippet(long, foldText('zundkerze'))!;
    expect(snippet).toContain('Zündkerze');
    expect(snippet.startsWith('…')).toBe(true);
    expect(snippet.endsWith('…')).toBe(true);
    expect(matchSnippet('nichts', 'zünd')).toBeUndefined();
  });
});

describeEachStore('message search', (dialect) => {
  let w: World;
  beforeEach(async () => {
    w = await startWorld(dialect);
  });
  afterEach(async () => {
    await w.close();
  });

  async function search(q: string, view = 'all', token?: string) {
    const res = await w.api(
      'GET',
      `/api/v1/conversations/search?q=${encodeURIComponent(q)}&view=${view}`,
      undefined,
      token,
    );
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { items: Hit[]; limited: boolean; scanned: { messages: number }; bound: { messages: number } };
  }

  async function openConversation(from: string, id: string, text: string): Promise<void> {
    await w.webhook(textMessage(w.clock, `wamid.${id}a`, text, from));
    await w.webhook(buttonReply(w.clock, `wamid.${id}b`, CONSENT_AGREE_ID, 'Zustimmen', from));
    await w.drain();
  }

  it('finds conversations by message text, case- and accent-insensitive, with a snippet, and audits no query', async () => {
    await openConversation(CUSTOMER, 'A', 'Die Bremsbeläge quietschen seit Montag');
    await openConversation(OTHER, 'B', 'Wann ist mein Reifenwechsel fertig?');
    // A customer who has not agreed yet: invisible to staff, so the search must not find the text either.
    await w.webhook(textMessage(w.clock, 'wamid.Ca', 'Bremsbeläge bitte auch bei mir', PENDING));
    await w.drain();

    const result = await search('BREMSBELAGE');
    expect(result.items.map((i) => i.label)).toEqual(['Anfrage 1']);
    expect(result.items[0]!.match!.snippet).toBe('Die Bremsbeläge quietschen seit Montag');
    expect(result.limited).toBe(false);
    expect(result.bound.messages).toBe(10_000);
    expect((await search('reifenwechsel')).items.map((i) => i.label)).toEqual(['Anfrage 2']);
    expect((await search('nirgendwo')).items).toEqual([]);
    // Label numbers match as substrings, without a message match.
    const byNumber = await search('1');
    expect(byNumber.items.map((i) => [i.label, i.match])).toEqual([['Anfrage 1', null]]);

    // The data protection officer does not search conversations.
    const dpo = await w.api('GET', '/api/v1/conversations/search?q=x', undefined, w.dpoToken);
    expect(dpo.statusCode).toBe(403);
    const empty = await w.api('GET', '/api/v1/conversations/search?q=%20');
    expect(empty.statusCode).toBe(400);

    const audits = await w.sparsam.store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'conversation.search')
      .execute();
    expect(audits.length).toBe(4);
    const all = JSON.stringify(audits);
    expect(all).not.toMatch(/BREMSBELAGE|reifenwechsel|nirgendwo/i);
    expect(all).toMatch(/hits\\?":1/);
    expect(all).toMatch(/limited\\?":false/);

    // Nothing of the query or the texts lies in plain text in the database files.
    const raw = await rawBytes(w);
    for (const needle of ['BREMSBELAGE', 'bremsbelage', 'Bremsbeläge', 'reifenwechsel', 'Reifenwechsel']) {
      expect(raw.includes(Buffer.from(needle)), needle).toBe(false);
    }
  });

  it('does not find erased conversations', async () => {
    await openConversation(CUSTOMER, 'A', 'Ölwechsel beim Golf');
    const [hit] = (await search('olwechsel')).items;
    expect(hit?.label).toBe('Anfrage 1');
    const closed = await w.api('POST', `/api/v1/conversations/${hit!.id}/close`);
    expect(closed.json().conversation.erased).toBe(true);
    expect((await search('olwechsel')).items).toEqual([]);
    expect((await search('olwechsel', 'closed')).items).toEqual([]);
  });
});
