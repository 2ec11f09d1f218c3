import v8 from 'node:v8';
import vm from 'node:vm';
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWhatsAppBody } from '../../src/channels/whatsapp-cloud/whatsapp-cloud.signature.ts';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { ProviderRefs } from '../../src/store/sql/provider-ref.ts';
import {
  APP_SECRET,
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

    // 6. Valid signed payloads for another phone number id.
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[0-9]{6,18}$/), fc.nat(), async (phoneNumberId, n) => {
        fc.pre(phoneNumberId !== PHONE_NUMBER_ID);
        runs++;
        refusedIds.add(`wamid.OTHER${runs}-${n}`);
        expect(await post(JSON.stringify(valid(`wamid.OTHER${runs}-${n}`, phoneNumberId)))).toBe(400);
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
    // A huge phone number id, just under the limit: not this channel's.
    const hugeId = JSON.stringify(valid('wamid.HUGE-ID', '1'.repeat(limit - base.length - 64)));
    expect(hugeId.length).toBeLessThan(limit);
    expect(await post(hugeId)).toBe(400);
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
