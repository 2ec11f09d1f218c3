import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachStore } from '../support/stores.ts';
import { CUSTOMER, ORG_CONTACT, startWorld, textMessage, type World } from '../inbox/inbox-world.ts';
import { consentedConversation } from './compliance-world.ts';

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describeEachStore('channel kill switch', (dialect) => {
  let w: World;
  beforeEach(async () => {
    w = await startWorld(dialect);
  });
  afterEach(async () => {
    await w.close();
  });

  const kill = (enabled: boolean, reason: unknown, token = w.adminToken) =>
    w.api(
      'POST',
      '/api/v1/admin/channels/wa-main/kill-switch',
      { enabled, ...(reason === undefined ? {} : { reason }) },
      token,
    );

  async function counts() {
    const db = w.sparsam.store.db;
    const n = async (t: 'contacts' | 'conversations' | 'messages' | 'media' | 'consent_events') =>
      Number(
        (
          await db
            .selectFrom(t)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    return {
      contacts: await n('contacts'),
      conversations: await n('conversations'),
      messages: await n('messages'),
      media: await n('media'),
      consent: await n('consent_events'),
    };
  }

  it('needs an admin and a reason, and is audited both ways', async () => {
    expect((await kill(false, 'token leaked', w.agentToken)).statusCode).toBe(403);
    expect((await kill(false, 'token leaked', w.dpoToken)).statusCode).toBe(403);
    expect((await kill(false, undefined)).statusCode).toBe(400);
    expect((await kill(false, 'x')).statusCode).toBe(400);
    expect((await w.sparsam.inboxes.findChannel('wa-main'))?.enabled).toBe(true);
    const nope = await w.api(
      'POST',
      '/api/v1/admin/channels/nope/kill-switch',
      { enabled: false, reason: 'testing it' },
      w.adminToken,
    );
    expect(nope.statusCode).toBe(404);

    const off = await kill(false, 'access token leaked');
    expect(off.statusCode).toBe(200);
    expect(off.json()).toMatchObject({ channelId: 'wa-main', enabled: false, changed: true });
    expect((await w.sparsam.inboxes.findChannel('wa-main'))?.enabled).toBe(false);
    const on = await kill(true, 'token rotated');
    expect(on.json()).toMatchObject({ enabled: true, changed: true });
    expect((await w.sparsam.inboxes.findChannel('wa-main'))?.enabled).toBe(true);

    const audit = (await w.api('GET', '/api/v1/compliance/audit?targetId=wa-main', undefined, w.dpoToken)).json()
      .items as { action: string; details: Record<string, unknown> }[];
    expect(audit.map((a) => a.action)).toEqual(['channel.enabled', 'channel.disabled']);
    expect(audit[1]!.details).toMatchObject({ reason: 'access token leaked', kind: 'whatsapp-cloud' });
  });

  it('the admin screen’s channel toggle is audited like the kill switch', async () => {
    const before = (await w.api('GET', '/api/v1/compliance/audit?targetId=wa-main', undefined, w.dpoToken)).json().items
      .length as number;
    const off = await w.api('PUT', '/api/v1/admin/channels/wa-main/enabled', { enabled: false }, w.adminToken);
    expect(off.statusCode).toBe(200);
    expect((await w.sparsam.inboxes.findChannel('wa-main'))?.enabled).toBe(false);
    const on = await w.api('PUT', '/api/v1/admin/channels/wa-main/enabled', { enabled: true }, w.adminToken);
    expect(on.statusCode).toBe(200);
    const audit = (await w.api('GET', '/api/v1/compliance/audit?targetId=wa-main', undefined, w.dpoToken)).json()
      .items as { action: string; actor: string; details: Record<string, unknown> }[];
    expect(audit).toHaveLength(before + 2);
    expect(audit.slice(0, 2).map((a) => a.action)).toEqual(['channel.enabled', 'channel.disabled']);
    expect(audit[1]!.details).toMatchObject({ kind: 'whatsapp-cloud', changed: true });
  });

  it('while off, inbound stores nothing and the customer gets the alternative contact; on again, it works', async () => {
    expect((await kill(false, 'access token leaked')).statusCode).toBe(200);
    const before = await counts();
    const res = await w.webhook(textMessage(w.clock, 'wamid.K1', 'Hallo, ist jemand da?'));
    expect(res.statusCode).toBe(200);
    await until(() => w.graph.sends.length > 0);
    expect(await counts()).toEqual(before);
    expect(w.graph.sends).toHaveLength(1);
    const reply = w.graph.sends[0]!;
    expect(reply.to).toBe(CUSTOMER);
    expect(reply.type).toBe('text');
    expect(JSON.stringify(reply.body)).toContain(ORG_CONTACT);

    expect((await kill(true, 'token rotated')).statusCode).toBe(200);
    expect((await w.webhook(textMessage(w.clock, 'wamid.K2', 'Hallo nochmal'))).statusCode).toBe(200);
    await w.drain();
    expect((await counts()).messages).toBeGreaterThan(before.messages);
  });

  it('a reply queued before the switch is not sent while the channel is off, and new replies are refused', async () => {
    const id = await consentedConversation(w, CUSTOMER, 'Wann ist mein Auto fertig?', 'Q');
    await w.sparsam.jobs.stop();
    const sendsBefore = w.graph.sends.length;
    const queued = await w.api('POST', `/api/v1/conversations/${id}/messages`, { text: 'Morgen um zehn' });
    expect(queued.statusCode).toBe(202);
    const messageId = queued.json().message.id as string;

    expect((await kill(false, 'access token leaked')).statusCode).toBe(200);
    await w.drain();
    expect(w.graph.sends.length).toBe(sendsBefore);
    const row = await w.sparsam.store.db
      .selectFrom('messages')
      .selectAll()
      .where('id', '=', messageId)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('failed');
    expect(row.error_code).toBe('CHANNEL_DISABLED');

    const refused = await w.api('POST', `/api/v1/conversations/${id}/messages`, { text: 'Noch eine Frage' });
    expect(refused.statusCode).toBe(503);
    expect(refused.json().error.code).toBe('CHANNEL_DISABLED');
  });
});
