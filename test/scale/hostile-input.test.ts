import v8 from 'node:v8';
import vm from 'node:vm';
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMessengerBody } from '../../src/channels/messenger/messenger.signature.ts';
import { parseForm } from '../../src/channels/sms/sms.parser.ts';
import { twilioSignature } from '../../src/channels/sms/sms.signature.ts';
import { signWhatsAppBody } from '../../src/channels/whatsapp-cloud/whatsapp-cloud.signature.ts';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { ProviderRefs } from '../../src/store/sql/provider-ref.ts';
import {
  APP_SECRET,
  D360_SECRET,
  PHONE_NUMBER_ID,
  buttonReply,
  imageMessage,
  startWorld,
  textMessage,
  type World,
} from '../inbox/inbox-world.ts';

/**
 * Hostile webhook bodies against one instance, in process (app.inject, no sockets): random and truncated JSON,
 * wrong types in every field of a valid payload, deep nesting, strings near and over the body limit, forged
 * signatures, payloads for another phone number id, and replays. None of it may crash sparsam, answer 5xx, or store
 * anything it should not; a replayed message is stored once.
 */

/** A forced garbage collection: --expose-gc if node has it, else switched on at run time; undefined if neither works. */
function forcedGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const tables = ['messages', 'contacts', 'conversations'] as const;

describe('hostile webhook input [sqlite]', () => {
  let w: World;
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    w = await startWorld('sqlite');
  });

  afterAll(async () => {
    await w?.close();
  });

  async function counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const table of tables) {
      const row = await w.sparsam.store.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      out[table] = Number(row.n);
    }
    return out;
  }

  /** Posts exact bytes, signed with the channel's secret unless a signature (or null: none) is given. */
  async function post(raw: string | Buffer, signature?: string | null): Promise<number> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (signature !== null) headers['x-hub-signature-256'] = signature ?? signWhatsAppBody(APP_SECRET, raw);
    const response = await w.sparsam.http.inject({
      method: 'POST',
      url: '/webhooks/whatsapp/wa-main',
      payload: raw,
      headers,
    });
    statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
    return response.statusCode;
  }

  const isClientError = (status: number) => status >= 400 && status < 500;

  /** Every path to a leaf or object of a JSON value, for replacing one field at a time. */
  function paths(value: Json, at: (string | number)[] = []): (string | number)[][] {
    const out: (string | number)[][] = at.length ? [at] : [];
    if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...at, i])));
    else if (value && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...at, k]));
    return out;
  }

  function replaced(value: Json, at: (string | number)[], next: Json): Json {
    if (at.length === 0) return next;
    const [head, ...rest] = at;
    if (Array.isArray(value)) return value.map((v, i) => (i === head ? replaced(v, rest, next) : v));
    if (value && typeof value === 'object') return { ...value, [head!]: replaced(value[head as string]!, rest, next) };
    return value;
  }

  const valid = (id: string, phoneNumberId = PHONE_NUMBER_ID) =>
    textMessage(w.clock, id, 'Hallo, ist mein Auto fertig?', '4915199990000', phoneNumberId) as Json;

  it('answers 10,000 malformed, forged, misaddressed and replayed bodies with 4xx or a deduplicated 200, never 5xx', async () => {
    const gc = forcedGc();
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const before = await counts();
    let runs = 0;
    const refusedIds = new Set<string>(['wamid.TRUNCATED']);

    // 1. Random JSON values, signed correctly: not a WhatsApp webhook.
    await fc.assert(
      fc.asyncProperty(fc.json({ maxDepth: 4 }), async (text) => {
        runs++;
        expect(isClientError(await post(text))).toBe(true);
      }),
      { numRuns: 2500 },
    );

    // 2. Truncated valid payloads, signed correctly: malformed JSON.
    const full = JSON.stringify(valid('wamid.TRUNCATED'));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: full.length - 1 }), async (cut) => {
        runs++;
        expect(isClientError(await post(full.slice(0, cut)))).toBe(true);
      }),
      { numRuns: 1500 },
    );

    // 3. One field of a valid payload replaced by a value of another type, signed correctly. Some fields do not
    //    matter (an odd profile name, an extra display number) and may be accepted; none may fail with 5xx, and
    //    each accepted body stores at most its one message.
    const template = valid('wamid.MUTANT');
    const fields = paths(template);
    const wrongValue: fc.Arbitrary<Json> = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double(),
      fc.string({ maxLength: 20 }),
      fc.constant([] as Json[]),
      fc.constant({} as Record<string, Json>),
      fc.array(fc.integer(), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
    );
    let mutantsAccepted = 0;
    const messagesBeforeMutants = (await counts()).messages!;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: fields.length - 1 }), wrongValue, fc.nat(), async (field, next, n) => {
        runs++;
        let body = replaced(template, fields[field]!, next);
        // Give each mutant its own message id (unless the mutation hit the id) so that stored rows can be counted.
        body = replaced(body, ['entry', 0, 'changes', 0, 'value', 'messages', 0, 'id'], `wamid.M${n}`);
        body = replaced(body, fields[field]!, next);
        const status = await post(JSON.stringify(body));
        expect(status).toBeLessThan(500);
        if (status === 200) mutantsAccepted++;
        else expect(isClientError(status)).toBe(true);
      }),
      { numRuns: 2500 },
    );
    expect((await counts()).messages! - messagesBeforeMutants).toBeLessThanOrEqual(mutantsAccepted);

    // 4. Deeply nested objects and arrays, signed correctly.
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 50, max: 20_000 }), fc.boolean(), async (depth, arrays) => {
        runs++;
        const raw = arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
        expect(isClientError(await post(raw))).toBe(true);
      }),
      { numRuns: 200 },
    );

    // 5. Valid payloads with a wrong, malformed or missing signature.
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.oneof(
          fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `sha256=${hex}`),
          fc.string({ maxLength: 80 }),
          fc.constant(null),
          fc.constant(signWhatsAppBody('another-app-secret', 'x')),
        ),
        async (n, signature) => {
          runs++;
          refusedIds.add(`wamid.FORGED${runs}-${n}`);
          expect(await post(JSON.stringify(valid(`wamid.FORGED${runs}-${n}`)), signature)).toBe(401);
        },
      ),
      { numRuns: 1500 },
    );

    // 6. Valid signed payloads for another phone number id: Meta's (signed), for no configured number: answered 200
    //    so that Meta does not retry, and nothing of them is stored (checked below with the refused ids).
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[0-9]{6,18}$/), fc.nat(), async (phoneNumberId, n) => {
        fc.pre(phoneNumberId !== PHONE_NUMBER_ID);
        runs++;
        refusedIds.add(`wamid.OTHER${runs}-${n}`);
        expect(await post(JSON.stringify(valid(`wamid.OTHER${runs}-${n}`, phoneNumberId)))).toBe(200);
      }),
      { numRuns: 1000 },
    );

    // 7. Replays of one valid signed payload: stored once.
    const replay = JSON.stringify(valid('wamid.REPLAYED'));
    const replayStatuses = await Promise.all(Array.from({ length: 50 }, () => post(replay)));
    for (let i = 0; i < 750; i++) {
      runs++;
      replayStatuses.push(await post(replay));
    }
    runs += 50;
    expect(replayStatuses.every((s) => s === 200)).toBe(true);
    const replayed = await w.sparsam.store.db
      .selectFrom('messages')
      .select('id')
      .where('provider_message_id', '=', new ProviderRefs(w.sparsam.keys.pepper).ref('wamid.REPLAYED'))
      .execute();
    expect(replayed).toHaveLength(1);

    expect(runs).toBeGreaterThanOrEqual(10_000);
    expect(statuses.get(500) ?? 0).toBe(0);

    // Nothing stored but the replayed message (with its contact and pending conversation) and accepted mutants.
    const after = await counts();
    expect(after.messages! - before.messages!).toBeLessThanOrEqual(1 + mutantsAccepted);
    // None of the refused messages is stored (provider ids are stored as keyed hashes).
    const refs = new ProviderRefs(w.sparsam.keys.pepper);
    const refusedRefs = [...refusedIds].map((id) => refs.ref(id));
    expect(refusedRefs.length).toBeGreaterThan(1000);
    const leaked = await w.sparsam.store.db
      .selectFrom('messages')
      .select('id')
      .where('provider_message_id', 'in', refusedRefs)
      .execute();
    expect(leaked).toEqual([]);

    // Still serving.
    expect((await w.sparsam.http.inject({ method: 'GET', url: '/healthz' })).statusCode).toBeLessThan(500);

    if (gc) {
      gc();
      const grownMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
      console.info(`[hostile-input] heap growth after ${runs} bodies: ${grownMb.toFixed(1)} MB`);
      expect(grownMb, 'heap growth after 10,000 hostile webhooks (MB)').toBeLessThan(64);
    } else {
      console.warn('[hostile-input] heap bound not checked: no forced garbage collection (run node with --expose-gc)');
    }
    console.info(`[hostile-input] ${runs} bodies; answers by status: ${JSON.stringify(Object.fromEntries(statuses))}`);
  }, 120_000);

  it('refuses bodies over the body limit with 413 and takes strings just under it without 5xx', async () => {
    const before = await counts();
    const limit = w.sparsam.config.bodyLimitBytes;
    // A valid-looking payload padded with a huge unknown field, just under the limit: signed, parsed, stored once.
    const body = valid('wamid.NEAR-LIMIT') as Record<string, Json>;
    const base = JSON.stringify({ ...body, padding: '' });
    const near = JSON.stringify({ ...body, padding: 'x'.repeat(limit - base.length - 16) });
    expect(near.length).toBeLessThan(limit);
    expect(await post(near)).toBeLessThan(500);
    // A huge phone number id, just under the limit: no configured number's; answered, not stored.
    const hugeId = JSON.stringify(valid('wamid.HUGE-ID', '1'.repeat(limit - base.length - 64)));
    expect(hugeId.length).toBeLessThan(limit);
    expect(await post(hugeId)).toBe(200);
    // Over the limit, signed or not.
    const over = JSON.stringify({ ...body, padding: 'x'.repeat(limit + 1) });
    expect(await post(over)).toBe(413);
    expect(await post(over, null)).toBe(413);
    expect(await post(Buffer.alloc(limit * 2, 0x7b))).toBe(413);
    const after = await counts();
    expect(after.messages! - before.messages!).toBeLessThanOrEqual(1);
    const stored = await w.sparsam.store.db
      .selectFrom('messages')
      .select('provider_message_id')
      .where('provider_message_id', '=', new ProviderRefs(w.sparsam.keys.pepper).ref('wamid.HUGE-ID'))
      .execute();
    expect(stored).toEqual([]);
  }, 60_000);

  it('a zip bomb sent as a customer photo is downloaded, refused without being unpacked, and stores no bytes', async () => {
    const customer = '4915177770000';
    expect(await post(JSON.stringify(textMessage(w.clock, 'wamid.BOMB-1', 'Hallo', customer)))).toBe(200);
    expect(
      await post(JSON.stringify(buttonReply(w.clock, 'wamid.BOMB-2', CONSENT_AGREE_ID, 'Zustimmen', customer))),
    ).toBe(200);
    await w.drain();
    // One zip entry that inflates to 100 MB of zeros, about 100 KB on the wire, announced as a JPEG.
    const size = 100 * 1024 * 1024;
    const compressed = deflateRawSync(Buffer.alloc(size));
    const name = Buffer.from('bomb.txt');
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(8, 8);
    header.writeUInt32LE(compressed.length, 18);
    header.writeUInt32LE(size, 22);
    header.writeUInt16LE(name.length, 26);
    w.graph.media.set('bomb-photo', { data: Buffer.concat([header, name, compressed]), mime: 'image/jpeg' });
    const requestsBefore = w.graph.mediaRequests;
    const body = imageMessage(w.clock, 'wamid.BOMB-3', 'bomb-photo') as Json;
    const fromCustomer = replaced(
      replaced(body, ['entry', 0, 'changes', 0, 'value', 'messages', 0, 'from'], customer),
      ['entry', 0, 'changes', 0, 'value', 'contacts', 0, 'wa_id'],
      customer,
    );
    expect(await post(JSON.stringify(fromCustomer))).toBe(200);
    await w.drain();
    expect(w.graph.mediaRequests).toBe(requestsBefore + 1);
    const message = await w.sparsam.store.db
      .selectFrom('messages')
      .select('id')
      .where('provider_message_id', '=', new ProviderRefs(w.sparsam.keys.pepper).ref('wamid.BOMB-3'))
      .executeTakeFirstOrThrow();
    const media = await w.sparsam.store.db
      .selectFrom('media')
      .select(['state', 'data_enc'])
      .where('message_id', '=', message.id)
      .execute();
    expect(media).toEqual([{ state: 'rejected', data_enc: null }]);
    expect((await w.sparsam.http.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  }, 60_000);
});

// ------------------------------------------------------------------------------------------ the other webhook routes

const TG_SECRET = 'hostile_tg_secret_0123';
const FB_SECRET = 'hostile-fb-app-secret';
const FB_PAGE = '1234567890';
const FB_OTHER_PAGE = '9876543210';
const SMS_ACCOUNT = 'AC0123456789abcdef0123456789abcdef';
const SMS_OTHER_ACCOUNT = 'ACffffffffffffffffffffffffffffffff';
const SMS_TOKEN = 'hostile-sms-auth-token';
const SMS_NUMBER = '+4915112345678';

/** One webhook route under attack: how a valid body for it looks, and how it is signed. */
interface HostileRoute {
  channel: string;
  url: string;
  contentType: string;
  /** A valid body carrying one new inbound text message, unique per `n`. */
  valid(n: number): string;
  /** A valid, signed body for another account, page or number: refused with 400. */
  misaddressed(n: number): string;
  /** Headers that make `body` authentic. */
  sign(body: string): Record<string, string>;
  /** Headers that are wrong, malformed or missing, for a forged request. */
  forgery: fc.Arbitrary<Record<string, string>>;
  /** A body of the route's format that is not a webhook (random JSON, or random form fields for Twilio). */
  junk: fc.Arbitrary<string>;
  /**
   * The provider sends updates sparsam does not use (Telegram: other update types; Messenger: other page events) and
   * redelivers anything not answered 2xx, so an authentic body of an unknown shape may be answered 200, keeping
   * nothing. Elsewhere it is a 400.
   */
  acknowledgesUnknown: boolean;
}

describe('hostile input on the 360dialog, Telegram, Messenger and SMS webhook routes [sqlite]', () => {
  let w: World;
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    w = await startWorld('sqlite', {
      dialog360: true,
      editYaml: (yaml) => `${yaml.trimEnd()}
  - id: tg-main
    kind: telegram
    inbox: service
    botToken: 7000000009:AAH-hostile-test-token
    secretToken: ${TG_SECRET}
    apiBaseUrl: http://127.0.0.1:9
  - id: fb-main
    kind: messenger
    inbox: service
    pageId: "${FB_PAGE}"
    pageAccessToken: hostile-page-token
    appSecret: ${FB_SECRET}
    verifyToken: hostile-fb-verify
    graphBaseUrl: http://127.0.0.1:9
  - id: sms-main
    kind: sms
    inbox: service
    accountSid: ${SMS_ACCOUNT}
    authToken: ${SMS_TOKEN}
    fromNumber: "${SMS_NUMBER}"
    apiBaseUrl: http://127.0.0.1:9
`,
    });
  });

  afterAll(async () => {
    await w?.close();
  });

  /** The URL Twilio signs: sparsam's public base URL and the route. */
  const smsUrl = () => `${w.sparsam.config.baseUrl}/webhooks/sms/sms-main`;
  const seconds = () => Math.floor(w.clock.now().getTime() / 1000);
  const hex32 = (n: number) => n.toString(16).padStart(32, '0');
  const randomJson = fc.json({ maxDepth: 4 });

  const smsForm = (n: number, account = SMS_ACCOUNT) =>
    new URLSearchParams({
      ToCountry: 'DE',
      SmsMessageSid: `SM${hex32(n)}`,
      NumMedia: '0',
      SmsSid: `SM${hex32(n)}`,
      SmsStatus: 'received',
      Body: 'Hallo, ist mein Auto fertig?',
      FromCountry: 'DE',
      To: SMS_NUMBER,
      NumSegments: '1',
      MessageSid: `SM${hex32(n)}`,
      From: '+4917600000001',
      ApiVersion: '2010-04-01',
      AccountSid: account,
    }).toString();

  const messengerEvent = (n: number, page = FB_PAGE) => {
    const at = w.clock.now().getTime();
    return JSON.stringify({
      object: 'page',
      entry: [
        {
          id: page,
          time: at,
          messaging: [
            {
              sender: { id: '6543210987654321' },
              recipient: { id: page },
              timestamp: at,
              message: { mid: `m_hostile${n}`, text: 'Hallo, ist ein Termin frei?' },
            },
          ],
        },
      ],
    });
  };

  const telegramUpdate = (n: number, chatType = 'private') =>
    JSON.stringify({
      update_id: 100_000 + n,
      message: {
        message_id: n,
        from: { id: 5071234567, is_bot: false, first_name: 'Jana' },
        chat: { id: chatType === 'private' ? 5071234567 : -100123, type: chatType, first_name: 'Jana' },
        date: seconds(),
        text: 'Hallo, haben Sie morgen Zeit?',
      },
    });

  const routes: HostileRoute[] = [
    {
      channel: 'd360-main',
      url: '/webhooks/whatsapp/d360-main',
      contentType: 'application/json',
      valid: (n) => JSON.stringify(textMessage(w.clock, `wamid.D360-${n}`, 'Hallo über 360dialog', '4915199990001')),
      misaddressed: (n) =>
        JSON.stringify(textMessage(w.clock, `wamid.D360-OTHER-${n}`, 'Hallo', '4915199990001', '999999999')),
      sign: () => ({ 'x-sparsam-webhook-secret': D360_SECRET }),
      forgery: fc.oneof(
        fc.string({ maxLength: 80 }).map((s) => ({ 'x-sparsam-webhook-secret': s })),
        fc.constant({} as Record<string, string>),
        fc.constant({ 'x-sparsam-webhook-secret': `${D360_SECRET}x` }),
        fc.constant({ 'x-sparsam-webhook-secret': D360_SECRET.slice(0, -1) }),
      ),
      junk: randomJson,
      acknowledgesUnknown: false,
    },
    {
      channel: 'tg-main',
      url: '/webhooks/telegram/tg-main',
      contentType: 'application/json',
      valid: (n) => telegramUpdate(n),
      // Telegram has no addressee in the body: a group chat is what the bot must not take in.
      misaddressed: (n) => telegramUpdate(500_000 + n, 'group'),
      sign: () => ({ 'x-telegram-bot-api-secret-token': TG_SECRET }),
      forgery: fc.oneof(
        fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/).map((s) => ({ 'x-telegram-bot-api-secret-token': s })),
        fc.constant({} as Record<string, string>),
        fc.constant({ 'x-telegram-bot-api-secret-token': TG_SECRET.toUpperCase() }),
        fc.constant({ 'x-telegram-bot-api-secret-token': `${TG_SECRET} ` }),
      ),
      junk: randomJson,
      acknowledgesUnknown: true,
    },
    {
      channel: 'fb-main',
      url: '/webhooks/messenger/fb-main',
      contentType: 'application/json',
      valid: (n) => messengerEvent(n),
      misaddressed: (n) => messengerEvent(500_000 + n, FB_OTHER_PAGE),
      sign: (body) => ({ 'x-hub-signature-256': signMessengerBody(FB_SECRET, body) }),
      forgery: fc.oneof(
        fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => ({ 'x-hub-signature-256': `sha256=${hex}` })),
        fc.string({ maxLength: 80 }).map((s) => ({ 'x-hub-signature-256': s })),
        fc.constant({} as Record<string, string>),
        fc.constant({ 'x-hub-signature-256': signMessengerBody('another-app-secret', 'x') }),
        // The WhatsApp channel's app secret is not the Messenger page's.
        fc.constant({ 'x-hub-signature-256': signWhatsAppBody(APP_SECRET, 'x') }),
      ),
      junk: randomJson,
      acknowledgesUnknown: true,
    },
    {
      channel: 'sms-main',
      url: '/webhooks/sms/sms-main',
      contentType: 'application/x-www-form-urlencoded',
      valid: (n) => smsForm(n),
      misaddressed: (n) => smsForm(500_000 + n, SMS_OTHER_ACCOUNT),
      sign: (body) => ({
        'x-twilio-signature': twilioSignature(SMS_TOKEN, smsUrl(), parseForm(Buffer.from(body))),
      }),
      forgery: fc.oneof(
        fc.base64String({ minLength: 28, maxLength: 28 }).map((s) => ({ 'x-twilio-signature': s })),
        fc.string({ maxLength: 80 }).map((s) => ({ 'x-twilio-signature': s })),
        fc.constant({} as Record<string, string>),
        // Signed over another URL (another channel's webhook) or with another account's token.
        fc.constant({ 'x-twilio-signature': 'OTHER-URL' }),
        fc.constant({ 'x-twilio-signature': 'OTHER-TOKEN' }),
      ),
      junk: fc
        .array(fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 30 })), { maxLength: 12 })
        .map((pairs) => new URLSearchParams(pairs).toString()),
      acknowledgesUnknown: false,
    },
  ];

  async function counts(channel?: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const table of tables) {
      let query = w.sparsam.store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n'));
      if (channel) query = query.where('channel_id', '=', channel);
      out[table] = Number((await query.executeTakeFirstOrThrow()).n);
    }
    return out;
  }

  /** Forged webhooks recorded in the audit log: one by one, or aggregated per minute with their count. */
  async function forgedAudits(channel: string): Promise<number> {
    await w.sparsam.forgedWebhooks.flush();
    const entries = await w.sparsam.audit.list({ action: 'webhook.forged', limit: 100_000 });
    return entries
      .filter((e) => e.actor === `webhook:${channel}`)
      .reduce((n, e) => n + ((JSON.parse(e.details) as { count?: number }).count ?? 1), 0);
  }

  async function send(
    route: HostileRoute,
    body: string | Buffer,
    headers: Record<string, string>,
    contentType: string | null = route.contentType,
  ): Promise<number> {
    const response = await w.sparsam.http.inject({
      method: 'POST',
      url: route.url,
      payload: body,
      headers: { ...(contentType !== null ? { 'content-type': contentType } : {}), ...headers },
    });
    statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
    return response.statusCode;
  }

  /** Resolves the symbolic SMS forgeries into real but wrong Twilio signatures. */
  function forged(headers: Record<string, string>, body: string): Record<string, string> {
    const signature = headers['x-twilio-signature'];
    const params = () => parseForm(Buffer.from(body));
    if (signature === 'OTHER-URL')
      return { 'x-twilio-signature': twilioSignature(SMS_TOKEN, `${smsUrl()}-other`, params()) };
    if (signature === 'OTHER-TOKEN')
      return { 'x-twilio-signature': twilioSignature('another-auth-token', smsUrl(), params()) };
    return headers;
  }

  const isClientError = (status: number) => status >= 400 && status < 500;

  it('answers about 2,000 hostile bodies per route with 4xx (or 200 for a redelivery), stores nothing and audits every forgery', async () => {
    const gc = forcedGc();
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const limit = w.sparsam.config.bodyLimitBytes;
    let total = 0;
    let seq = 0;

    for (const route of routes) {
      // The route works: one valid signed message is stored (so that a refusal below is not a broken route).
      const first = route.valid(++seq);
      expect(await send(route, first, route.sign(first)), `${route.channel}: a valid webhook`).toBe(200);
      const before = await counts();
      const channelBefore = await counts(route.channel);
      // The message itself and the consent notice queued for it.
      expect(channelBefore.messages).toBeGreaterThanOrEqual(1);
      let runs = 0;

      // 1. Random bodies of the route's format, authentic: not a webhook. Refused, or acknowledged as an update of
      //    no use where the provider would redeliver it; either way nothing is stored (counted below).
      await fc.assert(
        fc.asyncProperty(route.junk, async (body) => {
          runs++;
          const status = await send(route, body, route.sign(body));
          expect(isClientError(status) || (route.acknowledgesUnknown && status === 200), `${status}`).toBe(true);
        }),
        { numRuns: 600 },
      );

      // 2. Truncated valid bodies, authentic: malformed JSON or an incomplete form.
      const full = route.valid(900_000);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: full.length - 1 }), async (cut) => {
          runs++;
          const body = full.slice(0, cut);
          expect(isClientError(await send(route, body, route.sign(body)))).toBe(true);
        }),
        { numRuns: 400 },
      );

      // 3. Deep nesting, authentic.
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 50, max: 20_000 }), fc.boolean(), async (depth, arrays) => {
          runs++;
          const body = arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
          expect(isClientError(await send(route, body, route.sign(body)))).toBe(true);
        }),
        { numRuns: 80 },
      );

      // 4. Valid bodies with a wrong, malformed or missing signature: 401, and each one counted in the audit log.
      const auditsBefore = await forgedAudits(route.channel);
      let forgeries = 0;
      await fc.assert(
        fc.asyncProperty(route.forgery, async (headers) => {
          runs++;
          forgeries++;
          const body = route.valid(++seq);
          expect(await send(route, body, forged(headers, body))).toBe(401);
        }),
        { numRuns: 200 },
      );
      expect(await forgedAudits(route.channel)).toBe(auditsBefore + forgeries);

      // 5. Authentic bodies under a wrong content type: refused before or by the channel.
      const wrongType = fc.constantFrom(
        null,
        'text/plain',
        'text/xml',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        route.contentType === 'application/json' ? 'application/x-www-form-urlencoded' : 'application/json',
      );
      await fc.assert(
        fc.asyncProperty(wrongType, async (contentType) => {
          runs++;
          const body = route.valid(++seq);
          expect(isClientError(await send(route, body, route.sign(body), contentType))).toBe(true);
        }),
        { numRuns: 250 },
      );

      // 6. Authentic bodies for another account, page or a group chat.
      await fc.assert(
        fc.asyncProperty(fc.nat(), async (n) => {
          runs++;
          const body = route.misaddressed(n);
          const status = await send(route, body, route.sign(body));
          // Telegram answers updates from group chats 200 (else it redelivers them) and keeps nothing; so does
          // 360dialog for a signed entry of a number no channel has (a WhatsApp app serves several numbers).
          const acknowledged = route.channel === 'tg-main' || route.channel === 'd360-main';
          expect(acknowledged ? status === 200 : status === 400).toBe(true);
        }),
        { numRuns: 250 },
      );

      // 7. Bodies over the limit, authentic or not: 413 before anything reads them.
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: limit + 1, max: limit * 2 }), fc.boolean(), async (size, signed) => {
          runs++;
          const body = Buffer.alloc(size, route.contentType === 'application/json' ? 0x20 : 0x61);
          expect(await send(route, body, signed ? route.sign(body.toString()) : {})).toBe(413);
        }),
        { numRuns: 6 },
      );

      const after = await counts();
      expect(after, `${route.channel}: nothing stored by ${runs} hostile bodies`).toEqual(before);

      // 8. Redeliveries of the first valid message: answered 200, stored once.
      const replays = await Promise.all(Array.from({ length: 25 }, () => send(route, first, route.sign(first))));
      for (let i = 0; i < 175; i++) replays.push(await send(route, first, route.sign(first)));
      runs += replays.length;
      expect(replays.every((s) => s === 200)).toBe(true);
      expect(await counts(route.channel)).toEqual(channelBefore);

      total += runs;
      console.info(`[hostile-input] ${route.channel}: ${runs} hostile bodies`);
    }

    expect(total).toBeGreaterThanOrEqual(routes.length * 1_950);
    expect(statuses.get(500) ?? 0).toBe(0);
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
    expect((await w.sparsam.http.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // No phone number, secret or message text in the log lines of all this.
    const logText = w.logs.join('');
    for (const secret of ['4917600000001', '5071234567', '6543210987654321', TG_SECRET, FB_SECRET, SMS_TOKEN, 'Hallo'])
      expect(logText).not.toContain(secret);

    if (gc) {
      gc();
      const grownMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
      console.info(`[hostile-input] heap growth after ${total} bodies on four routes: ${grownMb.toFixed(1)} MB`);
      expect(grownMb, 'heap growth after the hostile webhooks on four routes (MB)').toBeLessThan(64);
    }
    console.info(`[hostile-input] ${total} bodies; answers by status: ${JSON.stringify(Object.fromEntries(statuses))}`);
  }, 120_000);
});
