import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachStore } from '../support/stores.ts';
import { consentedConversation } from '../compliance/compliance-world.ts';
import { CUSTOMER, startWorld, textMessage, type World } from './inbox-world.ts';

/**
 * What agents see of WhatsApp's richer messages, and the reply to one message: a customer's reply shows the message
 * it quotes, reactions sit on the bubble they react to (and go when taken back), locations, contact cards and
 * unsupported types are shown from their sealed details, and an agent's reply to a customer message is sent with
 * WhatsApp's `context.message_id`.
 */

interface View {
  id: string;
  direction: string;
  kind: string;
  text: string | null;
  replyTo?: { id: string; text: string | null };
  reactions?: { emoji: string; by: string }[];
  location?: { latitude: number; longitude: number; name?: string };
  contacts?: { name?: string; phones: string[]; emails: string[] }[];
  unsupported?: { providerType: string; reason: string | null };
}

/** A customer message of any type, as Meta posts it. */
function customerMessage(w: World, message: Record<string, unknown>): Record<string, unknown> {
  const payload = textMessage(w.clock, String(message.id), 'x') as {
    entry: { changes: { value: { messages: Record<string, unknown>[] } }[] }[];
  };
  payload.entry[0]!.changes[0]!.value.messages = [
    { from: CUSTOMER, timestamp: String(Math.floor(w.clock.now().getTime() / 1000)), ...message },
  ];
  return payload;
}

describeEachStore('WhatsApp replies, reactions, locations and contact cards in the inbox', (dialect) => {
  let w: World;
  let conversationId: string;
  beforeEach(async () => {
    w = await startWorld(dialect);
    conversationId = await consentedConversation(w, CUSTOMER, 'Wann ist mein Termin?', 'RICH');
  });
  afterEach(async () => {
    await w.close();
  });

  const thread = async () =>
    (
      (await w.api('GET', `/api/v1/conversations/${conversationId}`, undefined, w.adminToken)).json() as {
        messages: View[];
      }
    ).messages;
  const deliver = async (message: Record<string, unknown>) => {
    expect((await w.webhook(customerMessage(w, message))).statusCode).toBe(200);
    await w.drain();
  };

  it('sends an agent reply to one customer message with its context, and shows the quote', async () => {
    const question = (await thread()).find((m) => m.text === 'Wann ist mein Termin?')!;
    const res = await w.api(
      'POST',
      `/api/v1/conversations/${conversationId}/messages`,
      { text: 'Am Dienstag um 9 Uhr.', replyTo: question.id },
      w.adminToken,
    );
    expect(res.statusCode).toBe(202);
    expect(res.json().message.replyTo).toMatchObject({ id: question.id, text: 'Wann ist mein Termin?' });
    await w.drain();
    const sent = w.graph.sends.find(
      (s) => (s.body.text as { body?: string } | undefined)?.body === 'Am Dienstag um 9 Uhr.',
    );
    expect(sent?.body.context).toEqual({ message_id: 'wamid.RICH1' });
    const answer = (await thread()).find((m) => m.text === 'Am Dienstag um 9 Uhr.')!;
    expect(answer.replyTo).toMatchObject({ id: question.id, text: 'Wann ist mein Termin?' });

    // Only a customer message of this conversation can be answered this way.
    const wrong = await w.api(
      'POST',
      `/api/v1/conversations/${conversationId}/messages`,
      { text: 'Hallo', replyTo: answer.id },
      w.adminToken,
    );
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('replyTo');
  });

  it("sends reply buttons the customer taps, within WhatsApp's limits", async () => {
    const url = `/api/v1/conversations/${conversationId}/messages`;
    const before = w.graph.sends.length;
    for (const buttons of [['A', 'B', 'C', 'D'], ['Dienstag', 'dienstag'], ['x'.repeat(21)], ['']]) {
      const res = await w.api('POST', url, { text: 'Wann passt es?', buttons }, w.adminToken);
      expect(res.statusCode, JSON.stringify(buttons)).toBe(400);
    }
    await w.drain();
    expect(w.graph.sends.length).toBe(before);
    const res = await w.api('POST', url, { text: 'Wann passt es?', buttons: ['Dienstag', 'Mittwoch'] }, w.adminToken);
    expect(res.statusCode).toBe(202);
    expect(res.json().message.buttons).toEqual([
      { id: 'reply-1', title: 'Dienstag' },
      { id: 'reply-2', title: 'Mittwoch' },
    ]);
    await w.drain();
    const sent = w.graph.sends.at(-1)!;
    expect(sent.body).toMatchObject({
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'Wann passt es?' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'reply-1', title: 'Dienstag' } },
            { type: 'reply', reply: { id: 'reply-2', title: 'Mittwoch' } },
          ],
        },
      },
    });
    await deliver({
      id: 'wamid.RICH9',
      type: 'interactive',
      interactive: { type: 'button_reply', button_reply: { id: 'reply-2', title: 'Mittwoch' } },
      context: { from: '15550783881', id: sent.id },
    });
    const tapped = (await thread()).find((m) => m.kind === 'button' && m.text === 'Mittwoch')!;
    expect(tapped.replyTo).toMatchObject({ text: 'Wann passt es?' });
  });

  it("reacts to a customer's message for the team and takes the reaction back", async () => {
    const detail = (await w.api('GET', `/api/v1/conversations/${conversationId}`, undefined, w.adminToken)).json() as {
      conversation: { canReact: boolean };
      messages: View[];
    };
    expect(detail.conversation.canReact).toBe(true);
    const question = detail.messages.find((m) => m.text === 'Wann ist mein Termin?')!;
    const url = `/api/v1/conversations/${conversationId}/messages/${question.id}/reaction`;
    expect((await w.api('POST', url, { emoji: 'hallo' }, w.adminToken)).statusCode).toBe(400);
    const res = await w.api('POST', url, { emoji: '👍' }, w.adminToken);
    expect(res.statusCode).toBe(202);
    await w.drain();
    expect(w.graph.sends.at(-1)!.body).toMatchObject({
      type: 'reaction',
      reaction: { message_id: 'wamid.RICH1', emoji: '👍' },
    });
    let view = await thread();
    expect(view.find((m) => m.id === question.id)!.reactions).toEqual([{ emoji: '👍', by: 'staff' }]);
    expect(view.some((m) => m.kind === 'reaction')).toBe(false);

    expect((await w.api('POST', url, { emoji: '' }, w.adminToken)).statusCode).toBe(202);
    await w.drain();
    expect(w.graph.sends.at(-1)!.body).toMatchObject({ type: 'reaction', reaction: { emoji: '' } });
    view = await thread();
    expect(view.find((m) => m.id === question.id)!.reactions).toBeUndefined();
  });

  it("shows the customer's quote, reactions on the bubble, a location, contact cards and unsupported types", async () => {
    await w.api('POST', `/api/v1/conversations/${conversationId}/messages`, { text: 'Passt Dienstag?' }, w.adminToken);
    await w.drain();
    const ours = w.graph.sends.at(-1)!;
    // The customer quotes our message and reacts to it, then changes the reaction and takes it back.
    await deliver({
      id: 'wamid.RICH3',
      type: 'text',
      text: { body: 'Ja, passt.' },
      context: { from: '15550783881', id: ours.id },
    });
    await deliver({ id: 'wamid.RICH4', type: 'reaction', reaction: { message_id: ours.id, emoji: '👍' } });
    let view = await thread();
    const reply = view.find((m) => m.text === 'Ja, passt.')!;
    expect(reply.replyTo).toMatchObject({ text: 'Passt Dienstag?' });
    expect(view.find((m) => m.text === 'Passt Dienstag?')!.reactions).toEqual([{ emoji: '👍', by: 'customer' }]);
    expect(view.some((m) => m.kind === 'reaction')).toBe(false);
    await deliver({ id: 'wamid.RICH5', type: 'reaction', reaction: { message_id: ours.id, emoji: '' } });
    expect((await thread()).find((m) => m.text === 'Passt Dienstag?')!.reactions).toBeUndefined();

    await deliver({
      id: 'wamid.RICH6',
      type: 'location',
      location: { latitude: 52.520008, longitude: 13.404954, name: 'Werkstatt Mitte', address: 'Alexanderplatz 1' },
    });
    await deliver({
      id: 'wamid.RICH7',
      type: 'contacts',
      contacts: [
        {
          name: { formatted_name: 'Max Beispiel', first_name: 'Max' },
          phones: [{ phone: '+49 151 2345678', type: 'CELL' }],
          emails: [{ email: 'max@example.org' }],
        },
      ],
    });
    await deliver({
      id: 'wamid.RICH8',
      type: 'unsupported',
      errors: [{ code: 131051, title: 'Message type unknown', message: 'Message type unknown' }],
    });
    view = await thread();
    expect(view.find((m) => m.kind === 'location')!.location).toEqual({
      latitude: 52.520008,
      longitude: 13.404954,
      name: 'Werkstatt Mitte',
      address: 'Alexanderplatz 1',
    });
    expect(view.find((m) => m.kind === 'contacts')!.contacts).toEqual([
      { name: 'Max Beispiel', phones: ['+49 151 2345678'], emails: ['max@example.org'] },
    ]);
    const unsupported = view.find((m) => m.kind === 'unsupported')!.unsupported!;
    expect(unsupported.providerType).toBe('unsupported');
    expect(unsupported.reason).toContain('131051');
  });
});
