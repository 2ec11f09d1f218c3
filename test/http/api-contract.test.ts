import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { api } from '../../src/http/contract/index.ts';
import { buttonReply, startWorld, textMessage, type World } from '../inbox/inbox-world.ts';

/** Every registered route as "METHOD /path", read from Fastify's route tree. */
function registeredRoutes(w: World): string[] {
  const tree = w.sparsam.http.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)(?:├── |└── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.replace(/\u00a0/g, ' '));
    if (!m) continue;
    stack.length = m[1]!.length / 4;
    stack.push(m[2]!);
    if (m[3]) for (const method of m[3].split(',').map((s) => s.trim())) out.push(`${method} ${stack.join('')}`);
  }
  return out;
}

describe('the /api/v1 contract [sqlite]', () => {
  let w: World;
  let conversationId: string;
  beforeAll(async () => {
    w = await startWorld('sqlite');
    expect((await w.webhook(textMessage(w.clock, 'wamid.C-1', 'Hallo'))).statusCode).toBe(200);
    expect((await w.webhook(buttonReply(w.clock, 'wamid.C-2', CONSENT_AGREE_ID, 'Zustimmen'))).statusCode).toBe(200);
    await w.drain();
    conversationId = (await w.sparsam.store.db.selectFrom('conversations').select('id').executeTakeFirstOrThrow()).id;
  });
  afterAll(async () => w?.close());

  it('documents every /api/v1 route the server answers, with the roles its guard admits, and no other', async () => {
    const served = registeredRoutes(w)
      .filter((r) => r.split(' ')[1]!.startsWith('/api/v1/') && !/^(HEAD|OPTIONS) /.test(r))
      .sort();
    const doc = (await w.api('GET', '/api/v1/openapi.json', undefined, w.adminToken)).json() as {
      paths: Record<string, Record<string, { 'x-sparsam-roles': string[] }>>;
    };
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`))
      .sort();
    expect(served.length).toBeGreaterThan(60);
    expect(documented).toEqual(served);
    // Roles as documented are the roles enforced: the agent may list conversations, the DPO may not.
    expect(doc.paths['/api/v1/conversations']!.get!['x-sparsam-roles']).toEqual(['admin', 'agent']);
    expect((await w.api('GET', '/api/v1/conversations', undefined, w.agentToken)).statusCode).toBe(200);
    expect((await w.api('GET', '/api/v1/conversations', undefined, w.dpoToken)).statusCode).toBe(403);
  });

  it('answers with the shapes the contract gives the web inbox: no field missing or of another type', async () => {
    const reply = await w.api('POST', `/api/v1/conversations/${conversationId}/messages`, { text: 'Guten Tag' });
    expect(reply.statusCode).toBe(202);
    await w.drain();
    const created = await w.api(
      'POST',
      '/api/v1/quick-replies',
      { shortcut: 'hallo', title: 'Begrüßung', text: 'Guten Tag!' },
      w.adminToken,
    );
    expect(created.statusCode).toBe(201);
    const checks: [string, string, z.ZodType][] = [
      ['POST-answer', '', api.conversations.reply.response.schema],
      [w.agentToken, '/api/v1/conversations', api.conversations.list.response.schema],
      [w.agentToken, `/api/v1/conversations/${conversationId}`, api.conversations.get.response.schema],
      [w.agentToken, '/api/v1/quick-replies', api.quickReplies.list.response.schema],
      [w.agentToken, '/api/v1/team/members', api.team.members.response.schema],
      [w.agentToken, '/api/v1/labels', api.team.knownLabels.response.schema],
      [w.agentToken, '/api/v1/channels/wa-main/templates', api.conversations.templates.response.schema],
      [w.adminToken, '/api/v1/users', api.users.list.response.schema],
      [w.adminToken, '/api/v1/admin/channels', api.admin.channels.response.schema],
      [w.adminToken, '/api/v1/admin/inboxes', api.admin.inboxes.response.schema],
      [w.adminToken, '/api/v1/admin/security', api.users.security.response.schema],
      [w.adminToken, '/api/v1/marketing/broadcasts', api.marketing.list.response.schema],
      [w.dpoToken, '/api/v1/compliance/channels', api.compliance.channels.response.schema],
      [w.dpoToken, '/api/v1/compliance/audit', api.compliance.audit.response.schema],
    ];
    for (const [token, url, schema] of checks) {
      const body = token === 'POST-answer' ? reply.json() : (await w.api('GET', url, undefined, token)).json();
      const result = schema.safeParse(body);
      expect(result.success, `${url || 'POST …/messages'}: ${JSON.stringify(result.error?.issues)}`).toBe(true);
    }
    const detail = api.conversations.get.response.schema.parse(
      (await w.api('GET', `/api/v1/conversations/${conversationId}`)).json(),
    );
    // The fields that drifted once: every message says whether it was edited or deleted.
    expect(detail.messages.length).toBeGreaterThan(0);
    for (const m of detail.messages) expect([typeof m.edited, typeof m.deleted]).toEqual(['boolean', 'boolean']);
  });
});
