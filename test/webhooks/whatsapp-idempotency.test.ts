import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeEachStore } from '../support/stores.ts';
import { CUSTOMER, changedNumber, startWorld, textMessage, type World } from '../inbox/inbox-world.ts';

/**
 * Meta delivers at least once and in no particular order. Every recorded WhatsApp webhook (messages, statuses,
 * edits, revokes, reactions, number changes, template status and category, quality, account and capability
 * updates) delivered twice, in shuffled order, is answered 200 every time and leaves exactly the state that
 * delivering each once leaves. The channel has the fixtures' WhatsApp Business Account, so that the account-level
 * ones take effect (templates and account health stored, audited once).
 */

const FIXTURES_DIR = path.join(import.meta.dirname, '../fixtures/whatsapp');
const FIXTURES = readdirSync(FIXTURES_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
/** The WhatsApp Business Account of the recorded fixtures (entry.id). */
const WABA_ID = '102290129340398';
const raw = (name: string) => readFileSync(path.join(FIXTURES_DIR, name), 'utf8');

/** A deterministic shuffle (mulberry32), so that a failing order can be replayed from its seed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** What a user of sparsam could notice: rows per table and each message's and media item's observable state. */
async function effects(w: World): Promise<Record<string, unknown>> {
  const db = w.sparsam.store.db;
  const count = async (table: 'contacts' | 'conversations' | 'consent_events' | 'jobs' | 'parked_statuses') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const messages = (await db.selectFrom('messages').selectAll().execute())
    .map((m) =>
      [
        m.direction,
        m.kind,
        m.status,
        Number(m.edited),
        Number(m.deleted),
        Number(m.handled),
        m.error_code ?? '-',
        m.body_enc ? 'body' : '-',
        m.media_id ? 'media' : '-',
      ].join(' '),
    )
    .sort();
  const media = (await db.selectFrom('media').select('state').execute()).map((m) => m.state).sort();
  const templates = (await db.selectFrom('whatsapp_templates').selectAll().execute())
    .map((t) => [t.name, t.language, t.status, t.category, t.reason ?? '-'].join(' '))
    .sort();
  const health = (await db.selectFrom('channel_health').selectAll().execute()).map(
    ({ updated_at: _u, ...rest }) => rest,
  );
  const audit = (await db.selectFrom('audit_log').select('action').execute()).map((a) => a.action).sort();
  return {
    contacts: await count('contacts'),
    conversations: await count('conversations'),
    consent: await count('consent_events'),
    jobs: await count('jobs'),
    parked: await count('parked_statuses'),
    messages,
    media,
    templates,
    health,
    audit,
  };
}

describeEachStore('whatsapp webhooks delivered more than once and out of order', (dialect) => {
  const worlds: World[] = [];
  const world = async () => {
    const w = await startWorld(dialect, {
      editYaml: (yaml) => yaml.replace('    graphBaseUrl:', `    businessAccountId: "${WABA_ID}"\n    graphBaseUrl:`),
    });
    worlds.push(w);
    return w;
  };
  afterEach(async () => {
    for (const w of worlds.splice(0)) await w.close();
  });

  it('answers a redelivered number change 200 every time and changes the address once', async () => {
    const w = await world();
    const newNumber = '4915187654321';
    expect((await w.webhook(textMessage(w.clock, 'wamid.BEFORE', 'Hallo'))).statusCode).toBe(200);
    const change = changedNumber(w.clock, 'wamid.CHANGE', CUSTOMER, newNumber);
    for (let i = 0; i < 3; i++) expect((await w.webhook(change)).statusCode).toBe(200);
    // The customer writes from the new number: the same contact, no second conversation.
    expect((await w.webhook(textMessage(w.clock, 'wamid.AFTER', 'Neue Nummer', newNumber))).statusCode).toBe(200);
    expect((await w.webhook(change)).statusCode).toBe(200);
    const contacts = await w.sparsam.store.db.selectFrom('contacts').select('id').execute();
    expect(contacts).toHaveLength(1);
    const changes = await w.sparsam.store.db
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'contact.address_changed')
      .execute();
    expect(changes).toHaveLength(1);
  });

  it('answers a number change 200 when the new number already wrote first, and keeps both contacts', async () => {
    const w = await world();
    const newNumber = '4915187654321';
    expect((await w.webhook(textMessage(w.clock, 'wamid.OLD', 'Hallo'))).statusCode).toBe(200);
    expect((await w.webhook(textMessage(w.clock, 'wamid.NEW', 'Hallo', newNumber))).statusCode).toBe(200);
    const change = changedNumber(w.clock, 'wamid.CHANGE2', CUSTOMER, newNumber);
    for (let i = 0; i < 2; i++) expect((await w.webhook(change)).statusCode).toBe(200);
    expect(await w.sparsam.store.db.selectFrom('contacts').select('id').execute()).toHaveLength(2);
  });

  for (const seed of [1, 2, 3]) {
    it(`gives 200 and exactly one effect for every fixture delivered twice in shuffled order (seed ${seed})`, async () => {
      const order = shuffled([...FIXTURES, ...FIXTURES], seed);
      const firstOccurrences = order.filter((name, i) => order.indexOf(name) === i);

      const once = await world();
      for (const name of firstOccurrences) {
        const res = await once.webhook(raw(name));
        expect({ name, status: res.statusCode, body: res.body }).toMatchObject({ name, status: 200 });
      }
      const twice = await world();
      for (const name of order) {
        const res = await twice.webhook(raw(name));
        expect({ name, status: res.statusCode, body: res.body }).toMatchObject({ name, status: 200 });
      }
      const result = (await effects(twice)) as {
        templates: string[];
        health: Record<string, unknown>[];
        audit: string[];
      };
      expect(result).toEqual(await effects(once));
      // The account-level fixtures took effect (not merely acknowledged), once.
      expect(result.templates).toEqual([
        'hello_world de APPROVED UTILITY -',
        'herbst_aktion de REJECTED MARKETING INVALID_FORMAT',
        'termin_erinnerung de PAUSED MARKETING -',
      ]);
      expect(result.health).toHaveLength(1);
      expect(result.health[0]).toMatchObject({
        quality_event: 'FLAGGED',
        messaging_limit: 'TIER_1K',
        // The newest account_update (the restriction, entry.time 1763900500) is the account's state, whatever the
        // order; an older one arriving later (the violation, 1763900450) changes nothing.
        account_event: 'ACCOUNT_RESTRICTION',
      });
      expect(result.audit.filter((a) => a === 'whatsapp.account_health').length).toBeGreaterThanOrEqual(3);
      // After the queued replies went out, as many left each world. (Their statuses are not compared: which reply a
      // recorded status lands on depends on the order the stand hands out provider ids.)
      await once.drain();
      await twice.drain();
      expect(twice.graph.sends.length).toBe(once.graph.sends.length);
    }, 60_000);
  }
});
