import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeEachStore } from '../../support/stores.ts';
import { startWorld, type World } from '../../inbox/inbox-world.ts';

/**
 * The WhatsApp Business Account of a 360dialog number managed from sparsam's admin API: template sync over
 * 360dialog's offset pages, create and delete at `/v1/configs/templates`, the business profile and the number's
 * messaging status, every call with the channel's D360-API-KEY and none with a Meta token.
 */

const API_KEY = 'test-d360-key';
const photoPath = path.join(import.meta.dirname, '../../fixtures/images/jpg_gps_DSCN0010.jpg');

interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  key: string | undefined;
  auth: string | undefined;
  body: unknown;
}

/** A stand-in for waba-v2.360dialog.io: templates, profile and health, as its documentation describes them. */
class Fake360 {
  server!: Server;
  url = '';
  calls: Call[] = [];
  templates: Record<string, unknown>[] = Array.from({ length: 150 }, (_, i) => ({
    id: String(9_000_000 + i),
    name: `vorlage_${String(i).padStart(3, '0')}`,
    language: 'de',
    status: i === 3 ? 'rejected' : 'approved',
    rejected_reason: i === 3 ? 'INVALID_FORMAT' : 'NONE',
    category: 'UTILITY',
    components: [{ type: 'BODY', text: `Ihr Termin Nr. ${i} ist am {{1}}.` }],
  }));
  profile: Record<string, unknown> = { about: 'Werkstatt', vertical: 'AUTO', websites: [] };

  async start(): Promise<void> {
    this.server = createServer(
      (req, res) =>
        void this.#handle(req).then(([s, b]) =>
          res.writeHead(s, { 'content-type': 'application/json' }).end(JSON.stringify(b)),
        ),
    );
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async #handle(req: IncomingMessage): Promise<[number, unknown]> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    const url = new URL(req.url ?? '/', 'http://x');
    const call: Call = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      key: req.headers['d360-api-key'] as string | undefined,
      auth: req.headers.authorization,
      body: text ? (JSON.parse(text) as unknown) : undefined,
    };
    this.calls.push(call);
    if (call.key !== API_KEY) return [401, { meta: { success: false, http_code: 401 } }];
    if (url.pathname === '/v1/configs/templates' && call.method === 'GET') {
      const offset = Number(url.searchParams.get('offset') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 1000);
      const page = this.templates.slice(offset, offset + limit);
      return [
        200,
        {
          count: page.length,
          filters: {},
          limit,
          offset,
          sort: ['id'],
          total: this.templates.length,
          waba_templates: page,
        },
      ];
    }
    if (url.pathname === '/v1/configs/templates' && call.method === 'POST') {
      const draft = call.body as Record<string, unknown>;
      this.templates.push({ ...draft, id: '777', status: 'submitted' });
      return [
        201,
        { id: '777', status: 'submitted', category: draft.category, name: draft.name, language: draft.language },
      ];
    }
    const del = /^\/v1\/configs\/templates\/([^/]+)$/.exec(url.pathname);
    if (del && call.method === 'DELETE') {
      const name = decodeURIComponent(del[1]!);
      if (!this.templates.some((t) => t.name === name)) {
        return [
          404,
          { error: { code: 100, message: 'template not found', error_data: { details: 'template not found' } } },
        ];
      }
      this.templates = this.templates.filter((t) => t.name !== name);
      return [200, { success: true }];
    }
    if (url.pathname === '/whatsapp_business_profile' && call.method === 'GET') {
      return [200, { data: [{ messaging_product: 'whatsapp', ...this.profile }] }];
    }
    if (url.pathname === '/whatsapp_business_profile' && call.method === 'POST') {
      const { messaging_product: _m, ...rest } = call.body as Record<string, unknown>;
      this.profile = { ...this.profile, ...rest };
      return [200, { success: true }];
    }
    if (url.pathname === '/health_status') {
      return [200, { health_status: { can_send_message: 'LIMITED', entities: [] } }];
    }
    return [404, { error: { code: 100, message: 'unknown path' } }];
  }
}

describeEachStore('360dialog business account', (dialect) => {
  const fake = new Fake360();
  let w: World;
  beforeAll(() => fake.start());
  afterAll(() => new Promise<void>((resolve) => fake.server.close(() => resolve())));
  beforeEach(async () => {
    fake.calls = [];
    w = await startWorld(dialect, { dialog360: true, graphUrl: fake.url });
  });
  afterEach(() => w.close());

  const api = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
    w.sparsam.http.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${w.adminToken}` },
      ...(payload !== undefined ? { payload: payload as string } : {}),
    });
  type Item = { name: string; status: string; reason: string | null; category: string };
  const templates = async () =>
    (await api('GET', '/admin/channels/d360-main/whatsapp/templates')).json<{ items: Item[] }>().items;

  it('syncs every template over the offset pages, with the rejection reason, and offers approved ones to agents', async () => {
    const res = await api('POST', '/admin/channels/d360-main/whatsapp/templates/sync');
    expect(res.statusCode).toBe(200);
    const items = await templates();
    expect(items.filter((t) => t.name.startsWith('vorlage_'))).toHaveLength(150);
    expect(items.find((t) => t.name === 'vorlage_003')).toMatchObject({ status: 'REJECTED', reason: 'INVALID_FORMAT' });
    expect(items.find((t) => t.name === 'vorlage_149')).toMatchObject({ status: 'APPROVED', category: 'UTILITY' });
    const offered = await w.sparsam.http.inject({
      method: 'GET',
      url: '/api/v1/channels/d360-main/templates',
      headers: { authorization: `Bearer ${w.agentToken}` },
    });
    const names = offered.json<{ items: { name: string }[] }>().items.map((t) => t.name);
    expect(names).toContain('vorlage_042');
    expect(names).not.toContain('vorlage_003');
    const lists = fake.calls.filter((c) => c.path === '/v1/configs/templates');
    expect(lists.map((c) => c.query.get('offset'))).toEqual(['0', '100']);
    // The channel's own key on every call; no Meta token ever leaves for 360dialog.
    expect(fake.calls.every((c) => c.key === API_KEY && c.auth === undefined)).toBe(true);
  });

  it('submits a template with 360dialog and deletes it there; a refusal is shown with its reason', async () => {
    const created = await api('POST', '/admin/channels/d360-main/whatsapp/templates', {
      name: 'termin_bestaetigung',
      language: 'de',
      category: 'UTILITY',
      body: 'Ihr Termin am {{1}} ist bestätigt.',
      bodyExamples: ['3. März'],
      footer: 'Autohaus Beispiel',
    });
    expect(created.statusCode).toBe(201);
    const post = fake.calls.find((c) => c.method === 'POST' && c.path === '/v1/configs/templates')!;
    expect(post.body).toEqual({
      name: 'termin_bestaetigung',
      language: 'de',
      category: 'UTILITY',
      components: [
        { type: 'BODY', text: 'Ihr Termin am {{1}} ist bestätigt.', example: { body_text: [['3. März']] } },
        { type: 'FOOTER', text: 'Autohaus Beispiel' },
      ],
    });
    expect((await templates()).find((t) => t.name === 'termin_bestaetigung')?.status).toBe('SUBMITTED');

    const del = await api('DELETE', '/admin/channels/d360-main/whatsapp/templates/termin_bestaetigung');
    expect(del.statusCode).toBe(200);
    expect(fake.templates.some((t) => t.name === 'termin_bestaetigung')).toBe(false);
    expect((await templates()).some((t) => t.name === 'termin_bestaetigung')).toBe(false);
    const again = await api('DELETE', '/admin/channels/d360-main/whatsapp/templates/termin_bestaetigung');
    expect(again.statusCode).toBe(502);
    expect(again.json()).toMatchObject({ error: { code: 'PROVIDER_REFUSED' } });
  });

  it('edits the business profile and puts the privacy link in; a photo is refused with a clear reason', async () => {
    const profile = (await api('GET', '/admin/channels/d360-main/whatsapp/profile')).json();
    expect(profile).toMatchObject({ profile: { about: 'Werkstatt', vertical: 'AUTO' } });
    const update = await api('POST', '/admin/channels/d360-main/whatsapp/profile', {
      about: 'Ihr Autohaus in Berlin',
      websites: ['https://autohaus.example'],
    });
    expect(update.statusCode).toBe(200);
    expect(fake.profile).toMatchObject({ about: 'Ihr Autohaus in Berlin', websites: ['https://autohaus.example'] });

    const before = JSON.stringify(fake.profile);
    const photo = await w.sparsam.http.inject({
      method: 'POST',
      url: '/api/v1/admin/channels/d360-main/whatsapp/profile/photo',
      headers: { authorization: `Bearer ${w.adminToken}`, 'content-type': 'image/jpeg' },
      payload: readFileSync(photoPath),
    });
    expect(photo.statusCode).toBeGreaterThanOrEqual(400);
    expect(photo.statusCode).toBeLessThan(500);
    expect(JSON.stringify(photo.json())).toContain('360dialog Hub');
    expect(JSON.stringify(fake.profile)).toBe(before);
  });

  it('reports whether the number may send (health status)', async () => {
    const res = await api('GET', '/admin/channels/d360-main/whatsapp/phone-number');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ messagingStatus: 'LIMITED', qualityRating: null });
  });
});
