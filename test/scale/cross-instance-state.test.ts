import { toConversation } from '../../src/store/sql/records.ts';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { openFieldText } from '../../src/core/privacy/keys/field-cipher.ts';
import { ManualClock, systemClock } from '../../src/shared/clock.ts';
import { ProviderRefs } from '../../src/store/sql/provider-ref.ts';
import { SqlInboxTransactions } from '../../src/store/sql/conversation.store.ts';
import { Outbox } from '../../src/core/inbox/outbox.ts';
import type {
  CustomerMessageInput,
  WebhookDelivery,
  WhatsAppSimulator,
} from '../../dev/simulator/whatsapp-simulator.ts';
import {
  closeInstances,
  configYaml,
  startInstance,
  startWhatsAppSimulator,
  until as pollUntil,
  type Instance,
} from '../support/instances.ts';
import { createPgDatabase, postgresAvailable } from '../support/stores.ts';
import { Browser, createUser, totpCode } from '../web/web-support.ts';

/**
 * State that used to live in one process, checked with two sparsam instances on one PostgreSQL database: a key
 * destroyed by an erasure at A is gone from B's memory at once (also when B missed the signal), a kill switch or a
 * settings change made at A holds at B for the very next webhook, and a TOTP code used at A is refused at B.
 */

const MASTER_KEY = randomBytes(32).toString('base64');

/** Looks every 20 ms: a signal between the instances takes milliseconds. */
const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs?: number) =>
  pollUntil(what, check, timeoutMs, 20);

describe.runIf(postgresAvailable)('per-process state with two instances on one database [postgres]', () => {
  let db: { url: string; drop(): Promise<void> };
  let sim: WhatsAppSimulator;
  let a: Instance;
  let b: Instance;
  let adminToken: string;

  const start = (): Promise<Instance> =>
    startInstance({
      yaml: configYaml(sim.url, { retention: true }),
      masterKey: MASTER_KEY,
      databaseUrl: db.url,
      dataDirPrefix: 'sparsam-xstate-',
      env: { SPARSAM_BASE_URL: 'http://inbox.test' },
      logLevel: 'silent',
    });

  beforeAll(async () => {
    db = await createPgDatabase();
    sim = await startWhatsAppSimulator({ autoStatuses: false });
    a = await start();
    b = await start();
    adminToken = (await a.sparsam.accounts.createApiToken('xstate-admin', 'admin')).token;
  });

  afterAll(async () => {
    await closeInstances(a, b);
    await sim?.close();
    await db?.drop();
  });

  function send(to: Instance, input: CustomerMessageInput): Promise<WebhookDelivery> {
    sim.setWebhookUrl(`${to.url}/webhooks/whatsapp/wa-main`);
    return sim.sendCustomerMessage(input);
  }

  function api(to: Instance, method: string, url: string, body?: unknown): Promise<Response> {
    return fetch(`${to.url}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }

  /** A customer who has agreed, with one message in the inbox; returns the message's row. */
  async function consentedConversation(at: Instance, customer: string, text: string) {
    expect((await send(at, { from: customer, text: 'Hallo' })).delivered).toBe(true);
    await until('the consent notice', () => sim.sentMessages().some((m) => m.to === customer));
    expect((await send(at, { from: customer, buttonReply: { id: CONSENT_AGREE_ID, title: 'Zustimmen' } })).delivered);
    const id = `wamid.${randomBytes(6).toString('hex')}`;
    expect((await send(at, { from: customer, text, id })).delivered).toBe(true);
    return a.sparsam.store.db
      .selectFrom('messages')
      .select(['id', 'conversation_id', 'body_enc'])
      .where('provider_message_id', '=', new ProviderRefs(a.sparsam.keys.pepper).ref(id))
      .executeTakeFirstOrThrow();
  }

  it('a conversation erased at A cannot be decrypted from the key B still held in memory', async () => {
    const text = 'Meine Fahrgestellnummer ist WVW123';
    const row = await consentedConversation(b, '4915100000201', text);
    // B shows the conversation: its data key is now cached, unwrapped, in B's memory.
    const shown = await api(b, 'GET', `/api/v1/conversations/${row.conversation_id}`);
    expect(shown.status).toBe(200);
    expect(await shown.text()).toContain(text);
    const held = await b.sparsam.keys.existingDataKey('conversation', row.conversation_id);
    expect(held).toBeDefined();
    // A copy of the ciphertext, as any backup of the main database keeps it.
    const backup = { sealed: row.body_enc!, aad: { table: 'messages', rowId: row.id, column: 'body_enc' } };
    expect(openFieldText(held!, backup.sealed, backup.aad)).toContain(text);

    await a.sparsam.erasure.eraseConversation(row.conversation_id, { actor: 'system', reason: 'dsar' });

    // The destruction reaches B within the notification's round trip (milliseconds), not at B's next restart.
    await until(
      'B to forget the key',
      async () => (await b.sparsam.keys.existingDataKey('conversation', row.conversation_id)) === undefined,
      2000,
    );
    expect(await b.sparsam.keys.existingDataKey('conversation', row.conversation_id)).toBeUndefined();
    expect((await api(b, 'GET', `/api/v1/conversations/${row.conversation_id}`)).status).toBe(404);
  });

  it('a key B cached before its listening connection dropped is not served afterwards', async () => {
    const row = await consentedConversation(b, '4915100000202', 'Termin am Dienstag?');
    expect(await b.sparsam.keys.existingDataKey('conversation', row.conversation_id)).toBeDefined();
    // The connections that listen for cache signals drop (a database failover, a network cut) ...
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND query = 'LISTEN sparsam_cache_signals'`,
      );
      expect(killed.rowCount).toBe(2);
      // ... and meanwhile the key is destroyed without B hearing of it (a key-store restore, a missed signal).
      await admin.query(`DELETE FROM sparsam_keys.data_keys WHERE owner_type = 'conversation' AND owner_id = $1`, [
        row.conversation_id,
      ]);
    } finally {
      await admin.end();
    }
    await until(
      'B to stop serving the cached key',
      async () => (await b.sparsam.keys.existingDataKey('conversation', row.conversation_id)) === undefined,
      2000,
    );
    // After the reconnect B caches again, and hears destructions again.
    await until('the listener back', async () => {
      const probe = new pg.Client({ connectionString: db.url });
      await probe.connect();
      const n = await probe.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND query = 'LISTEN sparsam_cache_signals'`,
      );
      await probe.end();
      return (n.rows[0] as { n: number }).n === 2;
    });
    const other = await consentedConversation(b, '4915100000203', 'Noch eine Frage');
    expect(await b.sparsam.keys.existingDataKey('conversation', other.conversation_id)).toBeDefined();
    await a.sparsam.erasure.eraseConversation(other.conversation_id, { actor: 'system', reason: 'dsar' });
    await until(
      'B to forget the second key',
      async () => (await b.sparsam.keys.existingDataKey('conversation', other.conversation_id)) === undefined,
      2000,
    );
  });

  it('the kill switch turned on at A stops storing at B with the very next webhook', async () => {
    const inbound = async () =>
      Number(
        (
          await a.sparsam.store.db
            .selectFrom('messages')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('direction', '=', 'in')
            .executeTakeFirstOrThrow()
        ).n,
      );
    // B has just stored a message (and read the channel and inbox state).
    expect((await send(b, { from: '4915100000301', text: 'Vor dem Ausschalten' })).delivered).toBe(true);
    const before = await inbound();
    const off = await api(a, 'POST', '/api/v1/admin/channels/wa-main/kill-switch', {
      enabled: false,
      reason: 'Vorfall wird geprüft',
    });
    expect(off.status).toBe(200);
    try {
      expect((await send(b, { from: '4915100000302', text: 'Nach dem Ausschalten' })).delivered).toBe(true);
      expect((await send(b, { from: '4915100000301', text: 'Noch einmal' })).delivered).toBe(true);
      expect(await inbound()).toBe(before);
    } finally {
      const on = await api(a, 'POST', '/api/v1/admin/channels/wa-main/kill-switch', {
        enabled: true,
        reason: 'Vorfall geklärt',
      });
      expect(on.status).toBe(200);
    }
    expect((await send(b, { from: '4915100000302', text: 'Wieder an' })).delivered).toBe(true);
    expect(await inbound()).toBe(before + 1);
  });

  it('a privacy notice changed at A is the one B sends to the very next new customer', async () => {
    // B has just read the inbox settings for a new customer (and would keep them for a few seconds).
    expect((await send(b, { from: '4915100000401', text: 'Guten Tag' })).delivered).toBe(true);
    await until('the first notice', () => sim.sentMessages().some((m) => m.to === '4915100000401'));
    const changed = 'Neuer Hinweis: Wir verarbeiten Ihre Nachricht nur zur Beantwortung Ihrer Anfrage.';
    const put = await api(a, 'PUT', '/api/v1/admin/inboxes/service', { notice: { de: changed } });
    expect(put.status).toBe(200);
    expect((await send(b, { from: '4915100000402', text: 'Guten Tag' })).delivered).toBe(true);
    await until('the second notice', () => sim.sentMessages().some((m) => m.to === '4915100000402'));
    const notice = sim.sentMessages().find((m) => m.to === '4915100000402')!;
    expect(notice.text).toContain(changed);
    expect(sim.sentMessages().find((m) => m.to === '4915100000401')!.text).not.toContain(changed);

    // A third instance starting (a rolling restart) mirrors the configuration file: at no moment may the others
    // read the inbox's settings without the admin's change.
    const watcher = new pg.Client({ connectionString: db.url });
    await watcher.connect();
    const seen = new Set<boolean>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const r = await watcher.query(`SELECT settings FROM inboxes WHERE id = 'service'`);
        seen.add(String((r.rows[0] as { settings: string }).settings).includes(changed));
      }
    })();
    const c = await start();
    watching = false;
    await watch;
    await watcher.end();
    await closeInstances(c);
    expect([...seen]).toEqual([true]);
  });

  it('a TOTP code used to log in at A is refused at B', async () => {
    const user = await createUser(a.sparsam, 'admin-xstate@example.org', 'admin');
    // Real time (both instances run on the system clock); totpCode reads it through a clock set to now.
    const at = (offsetMs: number) => new ManualClock(Date.now() + offsetMs);
    const enrol = new Browser(a.sparsam);
    expect((await enrol.login(user.email)).json().step).toBe('enrol');
    const secret = (await enrol.post('/api/v1/auth/enrol/start')).json().secret as string;
    expect((await enrol.post('/api/v1/auth/enrol/confirm', { code: totpCode(secret, at(0)) })).statusCode).toBe(200);

    // The next time step's code (accepted within the ±1 step window) logs in at A ...
    const code = totpCode(secret, at(30_000));
    const atA = new Browser(a.sparsam);
    expect((await atA.login(user.email)).json().step).toBe('totp');
    expect((await atA.post('/api/v1/auth/totp', { code })).statusCode).toBe(200);
    // ... and the same code, seen by someone looking over the shoulder, is refused at B.
    const atB = new Browser(b.sparsam);
    expect((await atB.login(user.email)).json().step).toBe('totp');
    const replay = await atB.post('/api/v1/auth/totp', { code });
    expect(replay.statusCode).toBe(401);
    expect((await atB.get('/api/v1/me')).statusCode).toBe(401);
  });

  it('the same TOTP code sent to A and B at the same moment logs in only once', async () => {
    const user = await createUser(a.sparsam, 'race-xstate@example.org', 'admin');
    const at = (offsetMs: number) => new ManualClock(Date.now() + offsetMs);
    const enrol = new Browser(a.sparsam);
    await enrol.login(user.email);
    const secret = (await enrol.post('/api/v1/auth/enrol/start')).json().secret as string;
    expect((await enrol.post('/api/v1/auth/enrol/confirm', { code: totpCode(secret, at(0)) })).statusCode).toBe(200);
    const code = totpCode(secret, at(30_000));
    const browsers = [a, b, a, b].map((i) => new Browser(i.sparsam));
    for (const br of browsers) expect((await br.login(user.email)).json().step).toBe('totp');
    const results = await Promise.all(browsers.map((br) => br.post('/api/v1/auth/totp', { code })));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 401, 401, 401]);
  });

  it('wrong passwords tried at A and B at the same time all count towards the lock-out', async () => {
    const user = await createUser(a.sparsam, 'lockout-xstate@example.org', 'agent');
    // Ten wrong attempts at once, spread over both instances (each from its own address, past the per-IP limit).
    const attempts = [a, b, a, b, a, b, a, b, a, b].map((i) =>
      new Browser(i.sparsam).login(user.email, 'wrong password 123'),
    );
    expect((await Promise.all(attempts)).map((r) => r.statusCode)).toEqual(Array(10).fill(401));
    // The account is slowed down at both instances, even for the right password from a browser new to it.
    for (const i of [a, b]) expect((await new Browser(i.sparsam).login(user.email)).statusCode).toBe(429);
    const locks = await a.sparsam.store.db
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'auth.locked')
      .where('target_id', '=', user.id)
      .execute();
    expect(locks).toHaveLength(1);
  });

  it('an away message queued for one conversation by A and B at the same moment goes out once', async () => {
    const row = await consentedConversation(a, '4915100000501', 'Sind Sie heute noch da?');
    const conversation = toConversation(
      await a.sparsam.store.db
        .selectFrom('conversations')
        .selectAll()
        .where('id', '=', row.conversation_id)
        .executeTakeFirstOrThrow(),
    );
    // Each instance's own connection pool: the two transactions really run at the same time. No job is queued (the
    // outbox of each instance gets an enqueue that writes nothing): what counts is which of the two claims the
    // cooldown, as the automated away message claims it.
    const outboxes = [a, b].map(
      (i) =>
        new Outbox({
          clock: systemClock,
          transactions: new SqlInboxTransactions(
            i.sparsam.store.db,
            { enqueue: async () => 'no-job', enqueueMany: async () => undefined },
            new ProviderRefs(i.sparsam.keys.pepper),
          ),
          keys: i.sparsam.keys,
        }),
    );
    const hourMs = 3_600_000;
    for (let round = 0; round < 5; round++) {
      const now = Date.now() + round * 2 * hourMs;
      const results = await Promise.allSettled(
        outboxes.map(async (outbox) => {
          const queued = await outbox.queue(
            [{ conversation, kind: 'text', content: { text: 'Wir sind gleich da.' } }],
            {
              guard: (tx, [messageId]) =>
                tx.marketing.claimAutomatedSend({
                  kind: 'away',
                  conversationId: conversation.id,
                  cooldownMs: hourMs,
                  now,
                  messageId: messageId!,
                }),
            },
          );
          return queued !== undefined;
        }),
      );
      // One queues it, the other sees the cooldown; neither fails.
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'failed')).sort()).toEqual([false, true]);
    }
  });

  it('logging out everywhere at A ends the live-event stream the same user holds open at B at once', async () => {
    const user = await createUser(a.sparsam, 'agent-xstate@example.org', 'agent');
    const atB = new Browser(b.sparsam);
    expect((await atB.login(user.email)).json().step).toBe('done');
    const stream = await fetch(`${b.url}/api/v1/events`, { headers: { cookie: `sparsam_session=${atB.cookie}` } });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain(': connected');
    const ended = (async () => {
      while (!(await reader.read()).done) {
        // events and keep-alives until the stream ends
      }
      return Date.now();
    })();

    const atA = new Browser(a.sparsam);
    expect((await atA.login(user.email)).json().step).toBe('done');
    const out = await atA.post('/api/v1/auth/logout-everywhere');
    expect(out.statusCode).toBe(200);
    const loggedOutAt = Date.now();
    // Without the signal B would notice only at its next keep-alive check, 20 s later.
    const endedAt = await Promise.race([ended, new Promise<number>((r) => setTimeout(() => r(Infinity), 3000))]);
    expect(endedAt - loggedOutAt).toBeLessThan(3000);
    await reader.cancel().catch(() => undefined);
  });
});
