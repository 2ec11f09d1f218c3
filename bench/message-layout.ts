/**
 * Layouts of the `messages` table compared on one erasure: pages rewritten (WAL frames) and time of deleting one
 * conversation of 10,000 messages (tombstone insert, DELETE, commit, TRUNCATE checkpoint) with sparsam's pragmas
 * (WAL, synchronous=FULL, secure_delete=ON), on plain better-sqlite3, all layouts in one run. The WAL frame count
 * does not depend on the machine's load; the times do.
 *
 *   node --import tsx bench/message-layout.ts [--runs 5] [--background 50000]
 *
 * Layouts: the rowid table with a text primary key (as migrated) with UUIDv4 or UUIDv7 ids, with and without
 * `messages_media_idx`; a `WITHOUT ROWID` table clustered by (conversation_id, id) with a unique index on id.
 * Orders: `consecutive` (the conversation's messages written one after another, as bench/privacy-erasure.ts does)
 * and `interleaved` (four background messages between two of the conversation's, as with real traffic). Provider
 * refs are random in every layout (they are keyed hashes), so `messages_channel_provider_uq` is scattered always.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { newMessageId } from '../src/shared/ids.ts';
import { median } from './privacy-fixtures.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, background: { type: 'string', default: '50000' } },
});

const COLUMNS = `conversation_id text not null, channel_id text not null, direction text not null, kind text not null,
  provider_message_id text, status text not null, body_enc blob, media_id text, author_id text, error_code text,
  error_reason text, created_at integer not null, updated_at integer not null, edited integer default 0 not null,
  deleted integer default 0 not null, handled integer default 1 not null`;

interface Variant {
  name: string;
  clustered: boolean;
  ids: 'v4' | 'v7';
  mediaIndex: boolean;
  interleaved: boolean;
}

function measure(v: Variant): { ms: number; pages: number } {
  const dir = mkdtempSync(path.join(tmpdir(), 'sparsam-layout-'));
  const db = new BetterSqlite3(path.join(dir, 'x.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('secure_delete = ON');
  if (v.clustered) {
    db.exec(`create table messages (id text not null, ${COLUMNS}, primary key (conversation_id, id),
      unique (channel_id, provider_message_id)) without rowid`);
    db.exec('create unique index messages_id_uq on messages (id)');
  } else {
    db.exec(`create table messages (id text primary key, ${COLUMNS}, unique (channel_id, provider_message_id))`);
  }
  db.exec('create index messages_conversation_idx on messages (conversation_id, created_at)');
  if (v.mediaIndex) db.exec('create index messages_media_idx on messages (media_id)');
  db.exec(`create table inbound_receipts (channel_id text not null, provider_ref text not null,
    received_at integer not null, expires_at integer not null, primary key (channel_id, provider_ref))`);
  const insert = db.prepare(`insert into messages (id, conversation_id, channel_id, direction, kind,
    provider_message_id, status, body_enc, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const newId = v.ids === 'v7' ? newMessageId : randomUUID;
  let at = 1;
  const add = (conversation: string, n: number) =>
    insert.run(
      newId(),
      conversation,
      'wa-main',
      n % 2 ? 'out' : 'in',
      'text',
      `r1:${randomBytes(24).toString('base64url')}`,
      'received',
      randomBytes(110),
      at,
      at++,
    );
  const others = Array.from({ length: 200 }, () => randomUUID());
  db.transaction(() => {
    for (let i = 0; i < Number(values.background); i++) add(others[i % 200]!, i);
  })();
  const times: number[] = [];
  const pages: number[] = [];
  for (let r = 0; r < Number(values.runs); r++) {
    const target = randomUUID();
    db.transaction(() => {
      for (let i = 0; i < 10_000; i++) {
        add(target, i);
        if (v.interleaved) for (let k = 0; k < 4; k++) add(others[(i * 4 + k) % 200]!, i);
      }
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    const t = performance.now();
    db.transaction(() => {
      db.prepare(
        `insert into inbound_receipts select channel_id, provider_message_id, 1, 2 from messages
        where conversation_id = ? and direction = 'in' and provider_message_id is not null
        on conflict do nothing`,
      ).run(target);
      if (db.prepare('delete from messages where conversation_id = ?').run(target).changes !== 10_000) {
        throw new Error('not every message was deleted');
      }
    })();
    pages.push(Math.round((statSync(path.join(dir, 'x.db-wal')).size - 32) / (4096 + 24)));
    db.pragma('wal_checkpoint(TRUNCATE)');
    times.push(performance.now() - t);
  }
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return { ms: median(times), pages: median(pages) };
}

const variants: Variant[] = [];
for (const interleaved of [false, true]) {
  variants.push(
    { name: 'rowid, UUIDv4, media index (before)', clustered: false, ids: 'v4', mediaIndex: true, interleaved },
    { name: 'rowid, UUIDv7, no media index (now)', clustered: false, ids: 'v7', mediaIndex: false, interleaved },
    { name: 'WITHOUT ROWID (conversation_id, id), UUIDv4', clustered: true, ids: 'v4', mediaIndex: false, interleaved },
    { name: 'WITHOUT ROWID (conversation_id, id), UUIDv7', clustered: true, ids: 'v7', mediaIndex: false, interleaved },
  );
}
console.log('| layout | order | pages rewritten (WAL frames) | delete + commit + checkpoint |');
console.log('| --- | --- | ---: | ---: |');
for (const v of variants) {
  const r = measure(v);
  console.log(`| ${v.name} | ${v.interleaved ? 'interleaved' : 'consecutive'} | ${r.pages} | ${r.ms.toFixed(1)} ms |`);
}
