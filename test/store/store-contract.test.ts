import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AccountService } from '../../src/core/accounts/account.service.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { InboxStore } from '../../src/store/sql/inbox.store.ts';
import { UserStore } from '../../src/store/sql/user.store.ts';
import { loadConfig } from '../../src/config/config.ts';
import { mainMigrations } from '../../src/store/migrations/index.ts';
import { describeEachStore, openTestStore, type TestStore } from '../support/stores.ts';

describeEachStore('store contract', (dialect) => {
  let t: TestStore;
  beforeAll(async () => {
    t = await openTestStore(dialect);
  });
  afterAll(async () => t?.cleanup());

  it('runs every migration and records it', async () => {
    const rows = await sql<{ name: string }>`select name from sparsam_migration order by name`.execute(t.store.db);
    expect(rows.rows.map((r) => r.name)).toEqual(mainMigrations.map((m) => m.name));
    await t.store.ping();
  });

  it('keeps the key store apart from the main database', async () => {
    const main = await t.store.db.introspection.getTables();
    const keys = await t.store.keys.introspection.getTables();
    const mainOwn = main.filter((x) => dialect === 'sqlite' || x.schema === 'public').map((x) => x.name);
    expect(mainOwn).toContain('messages');
    expect(mainOwn).not.toContain('data_keys');
    const keysOwn = keys.filter((x) => dialect === 'sqlite' || x.schema === 'sparsam_keys').map((x) => x.name);
    expect(keysOwn).toContain('data_keys');
    expect(keysOwn).not.toContain('messages');
    if (dialect === 'sqlite') expect(t.store.files.some((f) => f.endsWith('keys.db'))).toBe(true);
  });

  it('stores users, refuses duplicates and checks passwords', async () => {
    const users = new UserStore(t.store.db);
    const accounts = new AccountService(users, new ManualClock());
    const created = await accounts.createUser({
      email: 'Anna@Example.org',
      password: 'correct horse battery',
      role: 'admin',
    });
    expect(created.password_hash).toMatch(/^\$argon2id\$/);
    await expect(
      accounts.createUser({ email: 'anna@example.org', password: 'another long password', role: 'agent' }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await accounts.verifyPassword('anna@example.org', 'correct horse battery')).toMatchObject({
      id: created.id,
    });
    expect(await accounts.verifyPassword('anna@example.org', 'wrong password!!')).toBeUndefined();
    expect(await accounts.verifyPassword('nobody@example.org', 'correct horse battery')).toBeUndefined();
    expect(await users.countAdmins()).toBe(1);
  });

  it('refuses short passwords and unknown roles', async () => {
    const accounts = new AccountService(new UserStore(t.store.db), new ManualClock());
    await expect(
      accounts.createUser({ email: 'b@example.org', password: 'short', role: 'agent' }),
    ).rejects.toMatchObject({
      code: 'VALIDATION',
    });
    await expect(
      accounts.createUser({ email: 'b@example.org', password: 'long enough password', role: 'root' as 'admin' }),
    ).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('keeps API tokens only as hashes', async () => {
    const users = new UserStore(t.store.db);
    const accounts = new AccountService(users, new ManualClock());
    const { token } = await accounts.createApiToken('crm-import', 'agent');
    const rows = await users.listApiTokens();
    expect(rows.some((r) => r.token_hash.includes(token) || r.name === token)).toBe(false);
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it('mirrors configured inboxes and channels, keeping sequence numbers and the kill switch', async () => {
    const inboxes = new InboxStore(t.store.db);
    const config = loadConfig({
      env: { SPARSAM_CONFIG: 'x', TOKEN: 'tok' },
      readFile: () => `
inboxes: [{ id: service, language: de }]
channels:
  - { id: tg-main, kind: telegram, inbox: service, botToken: env:TOKEN, secretToken: abc }
`,
    });
    await inboxes.syncConfigured(config.inboxes, config.channels, 1000);
    await t.store.db.updateTable('inboxes').set({ next_seq: 42 }).execute();
    await inboxes.setChannelEnabled('tg-main', false, 2000);
    await inboxes.syncConfigured(config.inboxes, config.channels, 3000);
    expect(await inboxes.findInbox('service')).toMatchObject({ next_seq: 42, label_prefix: 'Anfrage' });
    const channel = await inboxes.findChannel('tg-main');
    expect(channel).toMatchObject({ enabled: false, kind: 'telegram', source: 'config' });
    expect(JSON.stringify(channel!.settings)).not.toContain('tok');
    expect(typeof channel!.created_at).toBe('number');
  });

  it('reads the kill switch fresh, one query at a time for a burst of webhooks', async () => {
    let queries = 0;
    let answered = 0;
    let release!: () => void;
    const firstAnswerHeld = new Promise<void>((resolve) => (release = resolve));
    const counted = t.store.db.withPlugin({
      transformQuery: (args) => {
        queries += 1;
        return args.node;
      },
      // The first query's answer is held back, as if the database were slow.
      transformResult: async (args) => {
        if (answered++ === 0) await firstAnswerHeld;
        return args.result;
      },
    });
    const inboxes = new InboxStore(counted);
    const other = new InboxStore(t.store.db); // another instance, or the CLI
    const config = loadConfig({
      env: { SPARSAM_CONFIG: 'x', TOKEN: 'tok' },
      readFile: () => `
inboxes: [{ id: service, language: de }]
channels: [{ id: tg-main, kind: telegram, inbox: service, botToken: env:TOKEN, secretToken: abc }]
`,
    });
    await other.syncConfigured(config.inboxes, config.channels, 1000);
    await other.setChannelEnabled('tg-main', true, 4000);
    const asks = [inboxes.isChannelEnabled('tg-main')];
    // Webhooks keep arriving, turn after turn, while the query runs: they share the next query.
    for (let turn = 0; turn < 5; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
      for (let i = 0; i < 20; i++) asks.push(inboxes.isChannelEnabled('tg-main'));
    }
    release();
    expect(await Promise.all(asks)).toEqual(Array(asks.length).fill(true));
    expect(queries).toBeLessThanOrEqual(2);
    // A pause by another writer is seen by the next call, at once.
    await other.setChannelEnabled('tg-main', false, 5000);
    expect(await inboxes.isChannelEnabled('tg-main')).toBe(false);
    await other.setChannelEnabled('tg-main', true, 6000);
    expect(await inboxes.isChannelEnabled('tg-main')).toBe(true);
  });

  it('rolls back a failed transaction completely', async () => {
    await expect(
      t.store.db.transaction().execute(async (tx) => {
        await tx
          .insertInto('jobs')
          .values({
            id: 'j1',
            queue: 'q',
            payload: '{}',
            dedupe_key: 'd1',
            status: 'pending',
            run_at: 1,
            attempts: 0,
            max_attempts: 3,
            locked_by: null,
            locked_until: null,
            last_error: null,
            created_at: 1,
            updated_at: 1,
          })
          .execute();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await t.store.db.selectFrom('jobs').selectAll().execute()).toEqual([]);
  });
});
