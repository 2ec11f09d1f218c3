import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openFieldText } from '../../src/core/privacy/keys/field-cipher.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { createSparsam, type Sparsam } from '../../src/main.ts';
import { loadConfig } from '../../src/config/config.ts';
import { describeEachStore } from '../support/stores.ts';
import { seedConversation } from '../teams/teams-support.ts';
import { Browser, createUser, loginEnrolledAdmin, startWebApp } from './web-support.ts';

/** A free-text label as agents could type it before the admins' list: personal data in a plain column. */
const LEGACY = 'Erika Beispiel 015112345672';

/** Every file under dir (the SQLite database, its WAL and the key store), as one latin1 string. */
function filesText(dir: string): string {
  let out = '';
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    out += statSync(p).isDirectory() ? filesText(p) : readFileSync(p).toString('latin1');
  }
  return out;
}

describeEachStore('labels from the admins’ list', (dialect) => {
  let app: Awaited<ReturnType<typeof startWebApp>>;
  let agent: Browser;
  let admin: Browser;
  let configFile: string;

  const seed = async (sparsam: Sparsam, labels: string[]) =>
    (await seedConversation(sparsam, 'service', 'wa-main', { labels })).id;

  beforeAll(async () => {
    configFile = path.join(tmpdir(), `sparsam-labels-${process.pid}-${dialect}.yaml`);
    writeFileSync(
      configFile,
      [
        'inboxes:',
        '  - id: service',
        'channels:',
        '  - id: wa-main',
        '    kind: whatsapp-cloud',
        '    inbox: service',
        '    phoneNumberId: "106540352242922"',
        '    accessToken: EAAG-test-access-token-1234567890',
        '    appSecret: app-secret-value-123456',
        '    verifyToken: verify-token-value-abcdef',
      ].join('\n'),
    );
    app = await startWebApp(dialect, { SPARSAM_CONFIG: configFile });
    await createUser(app.sparsam, 'agent@example.org', 'agent');
    await createUser(app.sparsam, 'admin@example.org', 'admin');
    agent = new Browser(app.sparsam);
    await agent.login('agent@example.org');
    admin = (await loginEnrolledAdmin(app.sparsam, app.clock, 'admin@example.org')).browser;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('admins keep the list; agents pick from it and free text is refused', async () => {
    expect((await agent.post('/api/v1/labels', { name: 'Rückruf' })).statusCode).toBe(403);
    const saved = await admin.post('/api/v1/labels', { name: 'Rückruf', color: '#d97706' });
    expect(saved.statusCode).toBe(201);
    expect((await admin.post('/api/v1/labels', { name: 'Rückruf' })).statusCode).toBe(409);
    expect(saved.json().item).toEqual({ name: 'Rückruf', color: '#d97706' });
    expect((await admin.post('/api/v1/labels', { name: 'Reklamation', color: '#123456' })).statusCode).toBe(201);
    const recoloured = await admin.request('PATCH', '/api/v1/labels/Reklamation', { color: null });
    expect(recoloured.json().item).toEqual({ name: 'Reklamation', color: null });
    expect((await admin.request('PATCH', '/api/v1/labels/Unbekannt', { color: null })).statusCode).toBe(404);
    expect((await admin.request('PATCH', '/api/v1/labels/Reklamation', { color: 'red' })).statusCode).toBe(400);
    expect((await admin.post('/api/v1/labels', { name: '<b>' })).statusCode).toBe(400);
    expect((await agent.get('/api/v1/labels')).json().items).toEqual(['Reklamation', 'Rückruf']);
    expect((await agent.get('/api/v1/labels/catalogue')).json().items).toEqual([
      { name: 'Reklamation', color: null },
      { name: 'Rückruf', color: '#d97706' },
    ]);

    const id = await seed(app.sparsam, []);
    const ok = await agent.post(`/api/v1/conversations/${id}/labels`, { labels: [' Rückruf ', 'Rückruf'] });
    expect(ok.json().labels).toEqual(['Rückruf']);
    const refused = await agent.post(`/api/v1/conversations/${id}/labels`, { labels: ['Rückruf', LEGACY] });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.message).toMatch(/list the admins keep/);
    expect(refused.body).not.toContain('015112345672');
    const row = await app.sparsam.store.db
      .selectFrom('conversations')
      .select('labels')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(row.labels)).toEqual(['Rückruf']);

    // Filtering by a label still finds the conversation.
    const filtered = await agent.get(`/api/v1/conversations?label=${encodeURIComponent('Rückruf')}`);
    expect(filtered.json().items.map((c: { id: string }) => c.id)).toContain(id);
    const other = await agent.get('/api/v1/conversations?label=Reklamation');
    expect(other.json().items.map((c: { id: string }) => c.id)).not.toContain(id);

    // Removing a label from the list removes it from the conversations too.
    expect((await admin.post('/api/v1/labels', { name: 'Alt' })).statusCode).toBe(201);
    await agent.post(`/api/v1/conversations/${id}/labels`, { labels: ['Rückruf', 'Alt'] });
    const removed = await admin.request('DELETE', '/api/v1/labels/Alt');
    expect(removed.json()).toEqual({ conversations: 1 });
    expect((await admin.request('DELETE', '/api/v1/labels/Alt')).statusCode).toBe(404);
    const after = await app.sparsam.store.db
      .selectFrom('conversations')
      .select('labels')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(after.labels)).toEqual(['Rückruf']);
  });

  it('seals free-text labels of an old row at start: no plaintext in the database files, filter still works', async () => {
    // A row as it was stored before the list: one listed label and one free-text label with personal data.
    const id = await seed(app.sparsam, ['Rückruf', LEGACY]);
    await app.sparsam.close();
    const config = loadConfig({
      env: { ...app.t.env, SPARSAM_BASE_URL: 'http://inbox.test', SPARSAM_CONFIG: configFile },
    });
    app.sparsam = await createSparsam(config, { clock: app.clock, logger: createLogger({ level: 'silent' }) });
    await app.sparsam.http.ready();

    const row = await app.sparsam.store.db
      .selectFrom('conversations')
      .select(['labels', 'labels_legacy_enc'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(row.labels)).toEqual(['Rückruf']);
    expect(row.labels_legacy_enc).toBeTruthy();
    const key = await app.sparsam.keys.dataKeyFor('conversation', id);
    const opened = openFieldText(key, row.labels_legacy_enc!, {
      table: 'conversations',
      rowId: id,
      column: 'labels_legacy_enc',
    });
    expect(JSON.parse(opened)).toEqual([LEGACY]);

    if (dialect === 'sqlite') {
      const raw = filesText(app.t.dataDir);
      expect(raw.length).toBeGreaterThan(10_000);
      expect(raw).not.toContain('015112345672');
      expect(raw).not.toContain('Erika Beispiel');
    } else {
      // Every row of every table, as PostgreSQL prints it.
      const tables = await sql<{ name: string }>`
        select table_name as name from information_schema.tables where table_schema = 'public'`.execute(
        app.sparsam.store.db,
      );
      let all = '';
      for (const t of tables.rows) {
        const rows = await sql<{ t: string }>`select x::text as t from ${sql.table(t.name)} x`.execute(
          app.sparsam.store.db,
        );
        all += rows.rows.map((r) => r.t).join('\n');
      }
      expect(all).toContain('Rückruf');
      expect(all).not.toContain('015112345672');
      expect(all).not.toContain('Erika Beispiel');
    }

    // The listed label still filters, a second start changes nothing.
    const again = new Browser(app.sparsam);
    await again.login('agent@example.org');
    const filtered = await again.get(`/api/v1/conversations?label=${encodeURIComponent('Rückruf')}`);
    expect(filtered.json().items.map((c: { id: string }) => c.id)).toContain(id);
    expect(
      await app.sparsam.team.sealLegacyLabels(
        async () => new Uint8Array(),
        async () => undefined,
      ),
    ).toBe(0);
  });
});
