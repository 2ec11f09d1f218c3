import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { buttonReply, startWorld, textMessage, type World } from '../inbox/inbox-world.ts';

/**
 * Hostile requests to the authenticated /api/v1 routes, driven by the routes' own OpenAPI document: every write
 * route (auth/* aside, which has its own tests) gets bodies with one field of the wrong type, over-long strings, deep
 * nesting, bodies over the size limit, path-traversal and junk ids, and tokens of roles the route does not admit.
 * Each must be answered 4xx and change nothing in the database. (test/inbox/inbox-api.test.ts, test/web/auth.test.ts
 * and test/web/route-walk.test.ts already cover missing credentials and a few role and validation cases by hand.)
 */

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  minLength?: number;
  maxLength?: number;
  format?: string;
  items?: Schema;
  default?: unknown;
};

interface Operation {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Fastify form: /api/v1/conversations/:id/labels. */
  path: string;
  roles: string[];
  body: Schema | undefined;
}

/**
 * Routes about the signed-in user (their saved views too), and the API token screen (a token never mints tokens):
 * they need a session, and an API token gets 403.
 */
const SESSION_ONLY = /^\/api\/v1\/(me|views|admin\/tokens|admin\/notifications)(\/|$)/;

/** Tables whose rows are bookkeeping of the requests themselves (the audit trail, token use), not state. */
const BOOKKEEPING = new Set(['audit_log', 'audit_chain', 'api_tokens', 'sparsam_migration', 'sparsam_migration_lock']);

const HOSTILE_IDS = [
  '..',
  '../../etc/passwd',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f%2e%2e%2fkeys',
  '..%5C..%5Cwindows%5Cwin.ini',
  '%00',
  'c1%00.json',
  "1'%20OR%20'1'%3D'1",
  '%3Cscript%3Ealert(1)%3C%2Fscript%3E',
  '%F0%9F%98%80',
  'x'.repeat(99),
  'x'.repeat(5000),
  '-1',
  '0',
  'null',
  '__proto__',
  'constructor',
];

/** A value of the schema's type, good enough to make the other fields of a body valid. */
function example(schema: Schema): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  if (schema.anyOf) return example(schema.anyOf[0]!);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      if (schema.format === 'date-time') return '2026-11-23T09:00:00.000Z';
      return 'x'.repeat(Math.max(schema.minLength ?? 1, 6));
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return Object.fromEntries(
        Object.entries(schema.properties ?? {})
          .filter(([name]) => schema.required?.includes(name))
          .map(([name, s]) => [name, example(s)]),
      );
    default:
      return null;
  }
}

/** JSON types the schema admits. */
function types(schema: Schema): Set<string> {
  if (schema.anyOf) return new Set(schema.anyOf.flatMap((s) => [...types(s)]));
  if (schema.const !== undefined || schema.enum) return new Set(['enum']);
  const t = schema.type;
  return new Set(Array.isArray(t) ? t : t ? [t] : []);
}

/** Values of a type the schema does not admit (or, for enums and consts, a string outside them). */
function wrongValues(schema: Schema): unknown[] {
  const admitted = types(schema);
  const candidates: [string, unknown][] = [
    ['string', 'not-what-you-expect'],
    ['number', 12345],
    ['boolean', false],
    ['array', ['x', 1]],
    ['object', { nested: { deeper: true } }],
    ['null', null],
  ];
  const out = candidates.filter(([type]) => !admitted.has(type) && !(type === 'number' && admitted.has('integer')));
  if (admitted.has('enum')) out.push(['string', '__not-one-of-them__']);
  if (admitted.has('string') && schema.maxLength) out.push(['string', 'y'.repeat(schema.maxLength + 1)]);
  return out.map(([, v]) => v).filter((v) => !(admitted.has('enum') && v === false && schema.const === true));
}

/** Every top-level property of a body schema (across anyOf alternatives). */
function properties(schema: Schema): [string, Schema][] {
  if (schema.anyOf) return schema.anyOf.flatMap(properties);
  return Object.entries(schema.properties ?? {});
}

describe('hostile requests to the authenticated /api/v1 routes [sqlite]', () => {
  let w: World;
  let operations: Operation[];
  const ids: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    w = await startWorld('sqlite');
    tokens.admin = w.adminToken;
    tokens.agent = w.agentToken;
    tokens.dpo = w.dpoToken;
    // Real ids for the path parameters, so that wrong bodies meet existing rows.
    expect((await w.webhook(textMessage(w.clock, 'wamid.API-1', 'Hallo'))).statusCode).toBe(200);
    expect((await w.webhook(buttonReply(w.clock, 'wamid.API-2', CONSENT_AGREE_ID, 'Zustimmen'))).statusCode).toBe(200);
    await w.drain();
    const conversation = await w.sparsam.store.db.selectFrom('conversations').select('id').executeTakeFirstOrThrow();
    const quickReply = await w.api(
      'POST',
      '/api/v1/quick-replies',
      { shortcut: 'hallo', title: 'Begrüßung', text: 'Guten Tag!' },
      w.adminToken,
    );
    expect(quickReply.statusCode).toBeLessThan(300);
    const user = await w.api('POST', '/api/v1/users', { email: 'agent2@example.org', role: 'agent' }, w.adminToken);
    expect(user.statusCode).toBeLessThan(300);
    const note = await w.api('POST', `/api/v1/conversations/${conversation.id}/notes`, { text: 'Rückruf morgen' });
    expect(note.statusCode).toBeLessThan(300);
    const breach = await w.api(
      'POST',
      '/api/v1/compliance/breaches',
      { description: 'Laptop verloren', risk: 'risk', discoveredAt: '2026-11-22T08:00:00.000Z' },
      w.dpoToken,
    );
    expect(breach.statusCode).toBeLessThan(300);
    const firstId = (table: 'quick_replies' | 'users' | 'breaches') =>
      w.sparsam.store.db.selectFrom(table).select('id').executeTakeFirstOrThrow();
    const noteRow = await w.sparsam.store.db
      .selectFrom('messages')
      .select('id')
      .where('direction', '=', 'note')
      .executeTakeFirstOrThrow();
    Object.assign(ids, {
      conversations: conversation.id,
      'quick-replies': (await firstId('quick_replies')).id,
      users: (
        await w.sparsam.store.db
          .selectFrom('users')
          .select('id')
          .where('email', '=', 'agent2@example.org')
          .executeTakeFirstOrThrow()
      ).id,
      breaches: (await firstId('breaches')).id,
      notes: noteRow.id,
      channels: 'wa-main',
      inboxes: 'service',
      media: 'none',
    });

    const doc = (await w.api('GET', '/api/v1/openapi.json', undefined, w.adminToken)).json() as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    operations = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (path.startsWith('/api/v1/auth/')) continue;
      for (const [method, op] of Object.entries(methods)) {
        if (method === 'get' || method === 'head') continue;
        const body = (op.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined)?.content?.[
          'application/json'
        ]?.schema;
        operations.push({
          method: method.toUpperCase() as Operation['method'],
          path: path.replace(/\{(\w+)\}/g, ':$1'),
          roles: (op['x-sparsam-roles'] as string[] | undefined) ?? [],
          body,
        });
      }
    }
  });

  afterAll(async () => {
    await w?.close();
  });

  /** A digest of every row of every table but the bookkeeping ones: equal digests, nothing changed. */
  async function state(): Promise<string> {
    const tables = (await w.sparsam.store.db.introspection.getTables()).map((t) => t.name).sort();
    const hash = createHash('sha256');
    for (const table of tables) {
      if (BOOKKEEPING.has(table)) continue;
      const rows = await w.sparsam.store.db
        .selectFrom(table as 'messages')
        .selectAll()
        .execute();
      const lines = rows.map((r) =>
        JSON.stringify(r, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v)),
      );
      hash.update(`${table}\n${lines.sort().join('\n')}\n`);
    }
    return hash.digest('hex');
  }

  /** The route's URL with a real id of the resource named before the parameter, or with `id`. */
  function url(op: Operation, id?: string): string {
    const segments = op.path.split('/');
    return segments
      .map((segment, i) => (segment.startsWith(':') ? (id ?? ids[segments[i - 1]!] ?? 'unknown') : segment))
      .join('/');
  }

  async function call(op: Operation, target: string, payload: string | undefined, role: string): Promise<number> {
    const response = await w.sparsam.http.inject({
      method: op.method,
      url: target,
      headers: {
        authorization: `Bearer ${tokens[role]}`,
        ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(payload !== undefined ? { payload } : {}),
    });
    statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
    return response.statusCode;
  }

  const isClientError = (status: number) => status >= 400 && status < 500;

  it('the OpenAPI document lists the write routes with their roles', () => {
    expect(operations.length).toBeGreaterThanOrEqual(20);
    expect(operations.every((op) => op.roles.length > 0)).toBe(true);
    expect(operations.filter((op) => op.body).length).toBeGreaterThanOrEqual(15);
  });

  it('refuses a field of the wrong type or over its length in every body, with 400, changing nothing', async () => {
    const before = await state();
    let requests = 0;
    for (const op of operations) {
      if (!op.body || SESSION_ONLY.test(op.path)) continue;
      const role = op.roles[0]!;
      const base = example(op.body) as Record<string, unknown>;
      for (const [name, schema] of properties(op.body)) {
        for (const wrong of wrongValues(schema)) {
          requests++;
          const status = await call(op, url(op), JSON.stringify({ ...base, [name]: wrong }), role);
          expect(status, `${op.method} ${op.path} with ${name} = ${JSON.stringify(wrong).slice(0, 40)}`).toBe(400);
        }
      }
      // Only a misspelt field: not an empty change answered 200.
      requests++;
      expect(await call(op, url(op), JSON.stringify({ retentoin: 1 }), role), `${op.method} ${op.path}`).toBe(400);
      // The body as a whole of the wrong type.
      for (const wrong of ['"text"', '42', 'true', 'null', '[]', '[{"text":"x"}]']) {
        requests++;
        const status = await call(op, url(op), wrong, role);
        expect(status, `${op.method} ${op.path} with body ${wrong}`).toBe(400);
      }
    }
    expect(requests).toBeGreaterThan(100);
    expect(await state()).toBe(before);
  }, 60_000);

  it('answers deep nesting with 400 on every route that reads a body, and bodies over the limit with 413 on every write route, changing nothing', async () => {
    const before = await state();
    const limit = w.sparsam.config.bodyLimitBytes;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...operations.filter((op) => op.body)),
        fc.integer({ min: 100, max: 50_000 }),
        fc.constantFrom('array', 'object', 'in-field'),
        async (op, depth, shape) => {
          const role = op.roles[0]!;
          const nested =
            shape === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
          // In-field: the nesting in place of the route's first field (no field of any route takes nested arrays).
          const field = properties(op.body!)[0]![0];
          const payload = shape === 'in-field' ? `{"${field}":${'['.repeat(depth)}"x"${']'.repeat(depth)}}` : nested;
          const status = await call(op, url(op), payload, role);
          expect(isClientError(status), `${op.method} ${op.path}: ${status}`).toBe(true);
          expect(status).not.toBe(401);
        },
      ),
      { numRuns: 300 },
    );
    for (const op of operations) {
      const status = await call(op, url(op), JSON.stringify({ text: 'x'.repeat(limit + 1) }), op.roles[0]!);
      if (op.path.endsWith('/attachments') || op.path.endsWith('/profile/photo')) {
        // The upload routes take raw file bytes up to their own limit (413 beyond it: outbound-media.test.ts);
        // JSON is no file type they take, so this body is refused as such.
        expect(status, `${op.method} ${op.path}`).toBe(415);
      } else {
        expect(status, `${op.method} ${op.path}`).toBe(413);
      }
    }
    expect(await state()).toBe(before);
  }, 60_000);

  it('answers path traversal and junk ids with 4xx on every route with an id, changing nothing', async () => {
    const before = await state();
    let requests = 0;
    const withId = operations.filter((op) => op.path.includes(':'));
    expect(withId.length).toBeGreaterThanOrEqual(10);
    const reads = ['/api/v1/conversations/:id', '/api/v1/media/:id', '/api/v1/channels/:id/templates'];
    for (const id of HOSTILE_IDS) {
      for (const op of withId) {
        requests++;
        const body = op.body ? JSON.stringify(example(op.body)) : undefined;
        const status = await call(op, url(op, id), body, op.roles[0]!);
        expect(isClientError(status), `${op.method} ${op.path} with id ${id.slice(0, 30)}: ${status}`).toBe(true);
      }
      for (const read of reads) {
        requests++;
        const response = await w.api('GET', read.replace(':id', id));
        expect(isClientError(response.statusCode), `GET ${read} with id ${id.slice(0, 30)}`).toBe(true);
        expect(response.body).not.toContain('root:');
      }
    }
    expect(requests).toBeGreaterThan(200);
    expect(await state()).toBe(before);
  }, 60_000);

  it('refuses every write route to the roles it does not admit with 403, even with a valid body, changing nothing', async () => {
    const before = await state();
    let refused = 0;
    for (const op of operations) {
      for (const role of ['admin', 'agent', 'dpo'].filter((r) => !op.roles.includes(r))) {
        refused++;
        const body = op.body ? JSON.stringify(example(op.body)) : undefined;
        expect(await call(op, url(op), body, role), `${role}: ${op.method} ${op.path}`).toBe(403);
      }
    }
    expect(refused).toBeGreaterThanOrEqual(15);
    expect(await state()).toBe(before);
    expect(statuses.get(500) ?? 0).toBe(0);
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
    console.info(`[hostile-api] answers by status: ${JSON.stringify(Object.fromEntries(statuses))}`);
  });
});
