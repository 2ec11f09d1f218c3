import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { noticeVersion } from '../../src/core/privacy/consent/consent.service.ts';
import { createSparsam, type Sparsam } from '../../src/main.ts';
import { DAY_MS, HOUR_MS, ManualClock } from '../../src/shared/clock.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { describeEachStore, openTestStore, type TestStore } from '../support/stores.ts';
import { addConversation } from './fixtures.ts';

const PEOPLE = [
  {
    phone: '+49 170 1234567',
    digits: '491701234567',
    name: 'Erika Mustermann',
    texts: ['Mein Getriebe macht Geräusche', 'Rückruf bitte nach 17 Uhr'],
  },
  {
    phone: '+43 664 9876543',
    digits: '436649876543',
    name: 'Jörg Beispiel',
    texts: ['Kostenvoranschlag für die Bremsen?'],
  },
  {
    phone: '+49 151 5550123',
    digits: '491515550123',
    name: 'Ayşe Yılmaz',
    texts: ['Ich warte noch auf die Rechnung 2026-0815'],
  },
];

/** Every byte form in which a phone number or a text could have been written. */
function needles(): { what: string; bytes: Buffer }[] {
  const out: { what: string; bytes: Buffer }[] = [];
  const add = (what: string, s: string) => {
    out.push({ what: `${what} utf8`, bytes: Buffer.from(s, 'utf8') });
    out.push({ what: `${what} utf16le`, bytes: Buffer.from(s, 'utf16le') });
    out.push({ what: `${what} utf16be`, bytes: Buffer.from(s, 'utf16le').swap16() });
  };
  for (const p of PEOPLE) {
    add(p.digits, p.digits);
    add(p.digits, `+${p.digits}`);
    add(p.digits, p.phone);
    add(p.digits, `0${p.digits.slice(2)}`);
    out.push({ what: `${p.digits} hex`, bytes: Buffer.from(Buffer.from(p.digits).toString('hex')) });
    out.push({
      what: `${p.digits} base64`,
      bytes: Buffer.from(Buffer.from(p.digits).toString('base64').replace(/=+$/, '')),
    });
    const n = Buffer.alloc(8);
    n.writeBigInt64BE(BigInt(p.digits));
    out.push({ what: `${p.digits} int64be`, bytes: Buffer.from(n) });
    out.push({ what: `${p.digits} int64le`, bytes: Buffer.from(n.reverse()) });
    add(p.name, p.name);
    for (const text of p.texts) {
      add(text, text);
      add(text, JSON.stringify(text).slice(1, -1));
    }
  }
  return out;
}

function findIn(haystack: Buffer, where: string): string[] {
  return needles()
    .filter((n) => haystack.includes(n.bytes))
    .map((n) => `${n.what} in ${where}`);
}

/** On PostgreSQL there are no files we may read: dump every row of every table of both databases instead. */
async function dumpPostgres(s: Sparsam): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const db of [s.store.db, s.store.keys] as const) {
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

describeEachStore('no phone number or message text in plain text', (dialect) => {
  let t: TestStore;
  let sparsam: Sparsam;
  const logs: string[] = [];
  const clock = new ManualClock(Date.UTC(2026, 4, 1));
  beforeEach(async () => {
    t = await openTestStore(dialect);
    await t.store.close();
    const yaml = `
organisation: { name: Autohaus Beispiel GmbH, contact: datenschutz@example.org }
inboxes:
  - id: service
    language: de
    retention: { consentTimeoutHours: 24, autoCloseAfterDays: 14, eraseAfterCloseDays: 0 }
channels: []
`;
    const config = loadConfig({
      env: { ...t.env, SPARSAM_CONFIG: '/virtual/sparsam.yaml', SPARSAM_LOG_LEVEL: 'debug' },
      readFile: () => yaml,
    });
    const destination = new Writable({
      write(chunk, _enc, cb) {
        logs.push(String(chunk));
        cb();
      },
    });
    sparsam = await createSparsam(config, { clock, logger: createLogger({ level: 'debug', destination }) });
    await sparsam.store.db
      .insertInto('channels')
      .values({
        id: 'wa-main',
        kind: 'whatsapp-cloud',
        inbox_id: 'service',
        enabled: 1,
        settings: '{}',
        secrets_enc: null,
        source: 'config',
        created_at: 0,
        updated_at: 0,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  });
  afterEach(async () => {
    await sparsam?.close();
    await t.cleanup();
  });

  it('in the database files (main, WAL, key store) and the log, through storage, consent, sweeps and erasure', async () => {
    const ids: string[] = [];
    for (const [i, p] of PEOPLE.entries()) {
      const r = await addConversation(sparsam.store, sparsam.keys, sparsam.directory, clock, {
        inboxId: 'service',
        channelId: 'wa-main',
        phone: p.phone,
        profileName: p.name,
        texts: p.texts,
        withMedia: true,
        state: i === 2 ? 'pending_consent' : 'open',
      });
      ids.push(r.conversation.id);
      if (i < 2) {
        await sparsam.consent.grant({
          contactId: r.contactId,
          channelId: 'wa-main',
          purpose: 'service',
          noticeVersion: noticeVersion('Hinweis'),
          method: 'button:consent_yes',
        });
      }
    }
    // The services really hold the data: it decrypts (so the scan below could fail).
    const first = await sparsam.directory.findByAddress('wa-main', 'whatsapp-cloud', PEOPLE[0]!.phone);
    expect(await sparsam.directory.address(first!)).toBe(PEOPLE[0]!.phone);

    const scan = async (stage: string) => {
      const hits: string[] = [];
      if (dialect === 'sqlite') {
        for (const file of sparsam.store.files.filter((f) => existsSync(f))) {
          hits.push(...findIn(readFileSync(file), `${path.basename(file)} (${stage})`));
        }
        expect(sparsam.store.files.some((f) => f.endsWith('sparsam.db-wal'))).toBe(true);
      } else {
        hits.push(...findIn(await dumpPostgres(sparsam), `postgres dump (${stage})`));
      }
      hits.push(...findIn(Buffer.from(logs.join('')), `log (${stage})`));
      return hits;
    };
    // Control: the scanner finds the numbers and texts when they are there in plain text.
    expect(findIn(Buffer.from(JSON.stringify(PEOPLE)), 'control').length).toBeGreaterThan(PEOPLE.length * 3);
    expect(await scan('stored')).toEqual([]);

    clock.advance(25 * HOUR_MS); // consent timeout for the third person
    expect(await sparsam.retention.sweep()).toMatchObject({ consentTimeouts: 1 });
    await sparsam.erasure.eraseConversation(ids[0]!, { actor: 'user:dpo', reason: 'dsar' });
    clock.advance(15 * DAY_MS); // auto-close and erase the second
    expect(await sparsam.retention.sweep()).toMatchObject({ autoClosed: 1, retentionErased: 1 });
    expect(await sparsam.audit.verify()).toMatchObject({ ok: true });
    expect(await scan('after erasure')).toEqual([]);
    // The sweeps did log (content-free summaries), so the log scan above looked at real output.
    expect(logs.join('')).toMatch(/retention sweep/);
  });
});
