import { afterEach, beforeEach, expect, it } from 'vitest';
import { CONSENT_AGREE_ID, CONSENT_DECLINE_ID } from '../../src/core/inbox/notices.ts';
import { HOUR_MS } from '../../src/shared/clock.ts';
import { describeEachStore } from '../support/stores.ts';
import { CUSTOMER, ORG_CONTACT, buttonReply, startWorld, textMessage, type World } from './inbox-world.ts';

describeEachStore('inbox consent answers', (dialect) => {
  let w: World;
  beforeEach(async () => {
    w = await startWorld(dialect);
  });
  afterEach(async () => {
    await w.close();
  });

  const rows = async () => ({
    contacts: await w.sparsam.store.db.selectFrom('contacts').select('id').execute(),
    conversations: await w.sparsam.store.db.selectFrom('conversations').selectAll().execute(),
    messages: await w.sparsam.store.db.selectFrom('messages').select('id').execute(),
    consent: await w.sparsam.store.db.selectFrom('consent_events').selectAll().execute(),
    keys: await w.sparsam.store.keys.selectFrom('data_keys').select(['owner_type', 'owner_id']).execute(),
  });
  const textOf = (i: number) => (w.graph.sends[i]!.body.text as { body: string } | undefined)?.body ?? '';

  it('hides a conversation waiting for consent from every staff route', async () => {
    await w.webhook(textMessage(w.clock, 'wamid.H1', 'Hallo'));
    const { conversations } = await rows();
    expect(conversations).toHaveLength(1);
    expect(conversations[0]!.state).toBe('pending_consent');
    const id = conversations[0]!.id;
    expect((await w.api('GET', `/api/v1/conversations/${id}`)).statusCode).toBe(404);
    expect((await w.api('POST', `/api/v1/conversations/${id}/messages`, { text: 'Hallo?' })).statusCode).toBe(404);
    expect((await w.api('POST', `/api/v1/conversations/${id}/close`)).statusCode).toBe(404);
    expect((await w.api('GET', '/api/v1/conversations?view=unassigned')).json().items).toEqual([]);
  });

  it('on decline replies with other ways to reach the organisation, then erases everything', async () => {
    await w.webhook(textMessage(w.clock, 'wamid.D1', 'Ich brauche einen Termin'));
    await w.drain();
    const res = await w.webhook(buttonReply(w.clock, 'wamid.D2', CONSENT_DECLINE_ID, 'Ablehnen'));
    expect(res.statusCode).toBe(200);
    // The reply went out directly, before the keys were destroyed.
    expect(w.graph.sends).toHaveLength(2);
    expect(w.graph.sends[1]!.to).toBe(CUSTOMER);
    expect(textOf(1)).toContain(ORG_CONTACT);
    expect(textOf(1)).toContain('gelöscht');
    const after = await rows();
    expect(after.conversations).toHaveLength(0);
    expect(after.messages).toHaveLength(0);
    expect(after.contacts).toHaveLength(0);
    expect(after.keys).toHaveLength(0);
    const erased = await w.sparsam.audit.list({ action: 'conversation.erased' });
    expect(erased).toHaveLength(1);
    expect(await w.sparsam.audit.list({ action: 'consent.decline' })).toHaveLength(1);
  });

  it('accepts the keyword JA as consent on the notice, but not as the first message', async () => {
    await w.webhook(textMessage(w.clock, 'wamid.K1', 'ja'));
    await w.drain();
    expect((await rows()).conversations[0]!.state).toBe('pending_consent');
    expect((await rows()).consent).toHaveLength(0);
    await w.webhook(textMessage(w.clock, 'wamid.K2', ' Ja! '));
    const after = await rows();
    expect(after.conversations[0]!.state).toBe('open');
    expect(after.consent.map((c) => c.method)).toEqual(['keyword:JA']);
  });

  it('STOP withdraws consent, confirms, and erases the contact with its conversations', async () => {
    await w.webhook(textMessage(w.clock, 'wamid.S1', 'Hallo'));
    await w.webhook(buttonReply(w.clock, 'wamid.S2', CONSENT_AGREE_ID, 'Zustimmen'));
    await w.drain();
    const [conv] = (await w.api('GET', '/api/v1/conversations')).json().items as { id: string }[];
    expect(conv).toBeDefined();

    const res = await w.webhook(textMessage(w.clock, 'wamid.S3', 'widerruf'));
    expect(res.statusCode).toBe(200);
    const confirmation = w.graph.sends.at(-1)!;
    expect(confirmation.to).toBe(CUSTOMER);
    expect((confirmation.body.text as { body: string }).body).toContain('Widerruf');
    const after = await rows();
    expect(after.conversations).toHaveLength(0);
    expect(after.contacts).toHaveLength(0);
    expect(after.messages).toHaveLength(0);
    expect(after.keys).toHaveLength(0);
    expect((await w.api('GET', `/api/v1/conversations/${conv!.id}`)).statusCode).toBe(404);
    const withdraw = await w.sparsam.audit.list({ action: 'consent.withdraw' });
    expect(withdraw).toHaveLength(1);
    expect(withdraw[0]!.details).toContain('"wasGranted":true');

    // Writing again starts over with a new notice.
    await w.webhook(textMessage(w.clock, 'wamid.S4', 'Doch noch eine Frage'));
    await w.drain();
    expect(w.graph.sends.at(-1)!.type).toBe('interactive');
    expect((await rows()).conversations[0]!.state).toBe('pending_consent');
  });

  it('erases an unanswered conversation after the consent timeout (retention sweeper)', async () => {
    await w.webhook(textMessage(w.clock, 'wamid.T1', 'Hallo'));
    await w.drain();
    w.clock.advance(23 * HOUR_MS);
    await w.sparsam.retention.sweep();
    expect((await rows()).conversations).toHaveLength(1);
    w.clock.advance(2 * HOUR_MS);
    await w.sparsam.retention.sweep();
    const after = await rows();
    expect(after.conversations).toHaveLength(0);
    expect(after.messages).toHaveLength(0);
    expect(after.keys.filter((k) => k.owner_type === 'conversation')).toHaveLength(0);
  });
});
