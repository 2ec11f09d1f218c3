import { ProviderRefs } from '../../src/store/sql/provider-ref.ts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../support/stores.ts';
import { D360_SECRET, startWorld, textMessage, type World } from '../inbox/inbox-world.ts';

describeEachStore('360dialog webhooks on /webhooks/whatsapp/:channelId', (dialect) => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld(dialect, { dialog360: true });
  });
  afterAll(async () => {
    await w.close();
  });

  const post = (secret: string | undefined, id: string) =>
    w.sparsam.http.inject({
      method: 'POST',
      url: '/webhooks/whatsapp/d360-main',
      payload: JSON.stringify(textMessage(w.clock, id, 'Hallo über 360dialog')),
      headers: { 'content-type': 'application/json', ...(secret ? { 'x-sparsam-webhook-secret': secret } : {}) },
    });

  it('stores a message carrying the shared webhook secret, refuses and audits one without it', async () => {
    expect((await post(D360_SECRET, 'wamid.D360A')).statusCode).toBe(200);
    const stored = await w.sparsam.store.db
      .selectFrom('messages')
      .select(['channel_id', 'direction'])
      .where('channel_id', '=', 'd360-main')
      .execute();
    expect(stored).toContainEqual({ channel_id: 'd360-main', direction: 'in' });

    expect((await post('wrong-secret-wrong-secret', 'wamid.D360B')).statusCode).toBe(401);
    expect((await post(undefined, 'wamid.D360C')).statusCode).toBe(401);
    const forged = await w.sparsam.audit.list({ action: 'webhook.forged' });
    expect(forged.map((e) => e.actor)).toEqual(['webhook:d360-main', 'webhook:d360-main']);
    const ids = await w.sparsam.store.db.selectFrom('messages').select('provider_message_id').execute();
    const refs = new ProviderRefs(w.sparsam.keys.pepper);
    expect(ids.map((r) => r.provider_message_id)).not.toContain(refs.ref('wamid.D360B'));
    expect(ids.map((r) => r.provider_message_id)).not.toContain(refs.ref('wamid.D360C'));
  });
});
