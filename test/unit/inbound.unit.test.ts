import { describe, expect, it } from 'vitest';
import type { InboundEvent, InboundMessage } from '../../src/core/channel/channel.port.ts';
import { InboundProcessor } from '../../src/core/inbox/inbox.receive.ts';
import { CONSENT_AGREE_ID, declineReply, mediaRejectedReply, stopConfirmation } from '../../src/core/inbox/notices.ts';
import type { ConversationRecord, MessageRecord } from '../../src/core/ports/model.ts';
import { CHANNEL_ID, INBOX_ID, memoryChannel, memoryInbox, type MemoryInbox } from '../support/memory-ports.ts';

/**
 * The inbound pipeline (src/core/inbox/inbox.receive.ts) over in-memory ports: group commit, the consent gate,
 * delivery statuses, edits, revokes and changed numbers, without a database. The SQL stores are held to the same
 * behaviour by the store and inbox suites in test/.
 */

const CUSTOMER = 'customer-a';
const OTHER = 'customer-b';
let seq = 0;

function message(
  w: MemoryInbox,
  text: string | undefined,
  opts: Partial<Pick<InboundMessage, 'address' | 'buttonId' | 'media' | 'providerMessageId' | 'channelId'>> = {},
): InboundMessage {
  return {
    type: 'message',
    channelId: opts.channelId ?? CHANNEL_ID,
    providerMessageId: opts.providerMessageId ?? `wamid.IN${++seq}`,
    address: opts.address ?? CUSTOMER,
    profileName: undefined,
    sentAt: w.clock.now().getTime(),
    kind: opts.media ? 'image' : 'text',
    text,
    buttonId: opts.buttonId,
    media: opts.media,
    replyToProviderMessageId: undefined,
    extra: undefined,
  };
}

function setup(options: Parameters<typeof memoryInbox>[0] = {}) {
  const w = memoryInbox(options);
  const inbound = new InboundProcessor(w.deps);
  const receive = async (...events: InboundEvent[]) => {
    await inbound.receive(events);
    w.clock.advance(1000);
  };
  const conversations = () => [...w.tables.conversations.values()];
  const messages = (direction?: MessageRecord['direction']) =>
    [...w.tables.messages.values()]
      .filter((m) => direction === undefined || m.direction === direction)
      .sort((a, b) => a.created_at - b.created_at);
  const only = <T>(items: T[]): T => {
    expect(items).toHaveLength(1);
    return items[0]!;
  };
  return { w, inbound, receive, conversations, messages, only };
}

/** A customer who agreed earlier: their messages open a conversation at once. */
async function consentedCustomer(s: ReturnType<typeof setup>, address = CUSTOMER): Promise<ConversationRecord> {
  const { contact } = await s.w.contacts.findOrCreate({
    inboxId: INBOX_ID,
    channelId: CHANNEL_ID,
    channelKind: 'whatsapp-cloud',
    address,
  });
  await s.w.consent.grant({ contactId: contact.id, purpose: 'service', method: 'button:test' });
  await s.receive(message(s.w, 'Guten Tag', { address }));
  return s.conversations().find((c) => c.contact_id === contact.id)!;
}

/** An outbound message of the conversation that the provider accepted under `providerId`. */
function sentMessage(s: ReturnType<typeof setup>, conversation: ConversationRecord, providerId: string): MessageRecord {
  const row: MessageRecord = {
    id: `out-${providerId}`,
    conversation_id: conversation.id,
    channel_id: CHANNEL_ID,
    direction: 'out',
    kind: 'text',
    provider_message_id: providerId,
    status: 'sent',
    body_enc: null,
    media_id: null,
    author_id: null,
    error_code: null,
    error_reason: null,
    created_at: s.w.clock.now().getTime(),
    updated_at: s.w.clock.now().getTime(),
    edited: false,
    deleted: false,
    handled: true,
  };
  s.w.tables.messages.set(row.id, row);
  return row;
}

describe('inbound pipeline: group commit', () => {
  it('writes webhooks that arrive while a group is formed in one transaction and answers each after it', async () => {
    const s = setup();
    await Promise.all([
      s.inbound.receive([message(s.w, 'eins')]),
      s.inbound.receive([message(s.w, 'zwei', { address: OTHER })]),
      s.inbound.receive([message(s.w, 'drei')]),
    ]);
    expect(s.w.transactions.count).toBe(1);
    expect(s.messages('in').map((m) => s.w.content(m).text)).toEqual(['eins', 'zwei', 'drei']);
    expect(s.conversations()).toHaveLength(2);
  });

  it('retries a failed group webhook by webhook; a webhook that fails alone is the only one refused', async () => {
    const s = setup();
    const orphan = memoryChannel('wa-orphan', 'no-such-inbox');
    const channels = s.w.deps.channels;
    s.w.deps.channels = { get: (id) => (id === orphan.id ? orphan : channels.get(id)) };
    const inbound = new InboundProcessor(s.w.deps);
    const results = await Promise.allSettled([
      inbound.receive([message(s.w, 'vorher')]),
      inbound.receive([message(s.w, 'kaputt', { channelId: orphan.id })]),
      inbound.receive([message(s.w, 'nachher', { address: OTHER })]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(s.messages('in').map((m) => s.w.content(m).text)).toEqual(['vorher', 'nachher']);
  });

  it('rolls a failed commit back and stores every message of the group exactly once on the retries', async () => {
    const s = setup();
    s.w.transactions.failNext = 1;
    await Promise.all([
      s.inbound.receive([message(s.w, 'eins')]),
      s.inbound.receive([message(s.w, 'zwei', { address: OTHER })]),
    ]);
    expect(s.w.transactions.count).toBe(3); // the group, then each webhook alone
    expect(s.messages('in').map((m) => s.w.content(m).text)).toEqual(['eins', 'zwei']);
    expect(s.conversations()).toHaveLength(2);
    // One notice per new conversation, not one per attempt.
    const notices = s.messages('out').filter((m) => s.w.content(m).extra?.['notice'] === true);
    expect(notices).toHaveLength(2);
    expect(s.w.tables.jobs.filter((j) => notices.some((n) => j.payload['messageId'] === n.id))).toHaveLength(2);
  });

  it('stores a provider retry of the same message once and counts it unread once', async () => {
    const s = setup();
    const conversation = await consentedCustomer(s);
    const first = message(s.w, 'Termin morgen?');
    await s.receive(first);
    await s.receive({ ...first });
    await Promise.all([s.inbound.receive([{ ...first }]), s.inbound.receive([{ ...first }])]);
    expect(s.messages('in').filter((m) => s.w.content(m).text === 'Termin morgen?')).toHaveLength(1);
    expect(s.w.tables.conversations.get(conversation.id)!.unread).toBe(2);
  });
});

describe('inbound pipeline: consent gate', () => {
  it("holds a new customer's first message, queues the privacy notice once and shows staff nothing yet", async () => {
    const s = setup();
    await s.receive(message(s.w, 'Hallo, ist mein Auto fertig?'));
    await s.receive(message(s.w, 'Noch eine Frage'));
    const conversation = s.only(s.conversations());
    expect(conversation.state).toBe('pending_consent');
    expect(s.messages('in').map((m) => m.status)).toEqual(['held', 'held']);
    const notice = s.only(s.messages('out'));
    expect(notice.status).toBe('queued');
    expect(s.w.content(notice).text).toMatch(/Datenschutz|datenschutz/);
    expect(conversation.notice_version).toBe(s.w.deps.noticeVersion(s.w.content(notice).text!));
    expect(s.w.tables.jobs).toEqual([
      { queue: 'outbound-send', payload: { messageId: notice.id }, dedupeKey: `outbound-send:${notice.id}` },
    ]);
    expect(s.w.published).toEqual([]);
  });

  it('opens the conversation on "JA" after the notice: consent recorded, held messages released to staff', async () => {
    const s = setup();
    await s.receive(message(s.w, 'Hallo'));
    await s.receive(message(s.w, 'Zweite Nachricht'));
    await s.receive(message(s.w, 'ja'));
    const conversation = s.only(s.conversations());
    expect(conversation.state).toBe('open');
    expect(s.messages('in').map((m) => m.status)).toEqual(['received', 'received', 'received']);
    // The two messages are unread; the "ja" that answered the notice is not.
    expect(conversation.unread).toBe(2);
    expect(s.w.consent.events).toMatchObject([{ action: 'grant', purpose: 'service', method: 'keyword:JA' }]);
    expect(s.w.audit.map((a) => a.action)).toEqual(['consent.grant']);
    expect(s.w.published).toContainEqual({
      type: 'conversation.created',
      inboxId: INBOX_ID,
      conversationId: conversation.id,
    });
    expect(s.messages('in').every((m) => m.handled)).toBe(true);
  });

  it('accepts the notice button as consent', async () => {
    const s = setup();
    await s.receive(message(s.w, 'Hallo'));
    await s.receive(message(s.w, 'Einverstanden', { buttonId: CONSENT_AGREE_ID }));
    expect(s.only(s.conversations()).state).toBe('open');
    expect(s.w.consent.events).toMatchObject([{ method: `button:${CONSENT_AGREE_ID}` }]);
  });

  it('treats a first message "JA" as a message, not as consent to a notice never shown', async () => {
    const s = setup();
    await s.receive(message(s.w, 'JA'));
    expect(s.only(s.conversations()).state).toBe('pending_consent');
    expect(s.w.consent.events).toEqual([]);
    expect(s.only(s.messages('in')).status).toBe('held');
  });

  it('on "NEIN" answers directly, then erases the conversation and the contact that never consented', async () => {
    const s = setup();
    await s.receive(message(s.w, 'Hallo'));
    const conversation = s.only(s.conversations());
    await s.receive(message(s.w, 'nein'));
    expect(s.w.channel.sent).toEqual([
      { type: 'text', address: CUSTOMER, text: declineReply('de', s.w.deps.organisation) },
    ]);
    expect(s.conversations()).toEqual([]);
    expect(s.messages()).toEqual([]);
    expect(s.w.erased.conversations).toEqual([conversation.id]);
    expect(s.w.erased.contacts).toEqual([conversation.contact_id]);
    expect(s.w.audit.map((a) => a.action)).toEqual(['consent.decline']);
  });

  it('on STOP withdraws the consent, confirms, and erases the contact with all its conversations', async () => {
    const s = setup();
    const conversation = await consentedCustomer(s);
    await s.receive(message(s.w, 'stop'));
    expect(s.w.channel.sent).toEqual([
      { type: 'text', address: CUSTOMER, text: stopConfirmation('de', s.w.deps.organisation) },
    ]);
    expect(s.conversations()).toEqual([]);
    expect(s.w.erased.contacts).toEqual([conversation.contact_id]);
    expect(s.w.published).toContainEqual({
      type: 'conversation.erased',
      inboxId: INBOX_ID,
      conversationId: conversation.id,
    });
    expect(s.w.audit.at(-1)).toMatchObject({
      action: 'consent.withdraw',
      details: { conversationsErased: 1, wasGranted: true },
    });
  });

  it('opens a conversation at once for a customer whose consent is on record, and tells staff', async () => {
    const s = setup();
    const conversation = await consentedCustomer(s);
    expect(conversation.state).toBe('open');
    expect(s.messages('out')).toEqual([]);
    const received = s.only(s.messages('in'));
    expect(received.status).toBe('received');
    expect(s.w.published).toEqual([
      { type: 'conversation.created', inboxId: INBOX_ID, conversationId: conversation.id },
      {
        type: 'message.created',
        inboxId: INBOX_ID,
        conversationId: conversation.id,
        messageId: received.id,
        assigned: false,
      },
    ]);
  });

  it('refuses media under the reject policy with one polite reply per conversation', async () => {
    const s = setup({ settings: { media: 'reject' } });
    await consentedCustomer(s);
    const media = { providerMediaId: 'm1', mimeType: 'image/jpeg', fileName: undefined, sha256: undefined, size: 10 };
    await s.receive(message(s.w, undefined, { media }));
    await s.receive(message(s.w, undefined, { media: { ...media, providerMediaId: 'm2' } }));
    expect([...s.w.tables.media.values()].map((m) => m.state)).toEqual(['rejected', 'rejected']);
    const reply = s.only(s.messages('out'));
    expect(s.w.content(reply).text).toBe(mediaRejectedReply('de'));
    expect(s.w.tables.jobs.filter((j) => j.queue === 'media-fetch')).toEqual([]);
  });
});

describe('inbound pipeline: delivery statuses', () => {
  it('moves an outbound message forward only and tells staff about each change', async () => {
    const s = setup();
    const conversation = await consentedCustomer(s);
    const out = sentMessage(s, conversation, 'wamid.OUT1');
    const status = (value: 'sent' | 'delivered' | 'read' | 'failed') =>
      ({
        type: 'status',
        channelId: CHANNEL_ID,
        providerMessageId: 'wamid.OUT1',
        status: value,
        at: s.w.clock.now().getTime(),
        error: undefined,
        pricingCategory: undefined,
      }) as const;
    s.w.published.length = 0;
    await s.receive(status('delivered'));
    await s.receive(status('read'));
    await s.receive(status('delivered'));
    expect(s.w.tables.messages.get(out.id)!.status).toBe('read');
    expect(s.w.published).toEqual([
      {
        type: 'message.updated',
        inboxId: INBOX_ID,
        conversationId: conversation.id,
        messageId: out.id,
        status: 'delivered',
      },
      {
        type: 'message.updated',
        inboxId: INBOX_ID,
        conversationId: conversation.id,
        messageId: out.id,
        status: 'read',
      },
    ]);
  });

  it("records the provider's code and reason when a message failed", async () => {
    const s = setup();
    const conversation = await consentedCustomer(s);
    const out = sentMessage(s, conversation, 'wamid.OUT2');
    await s.receive({
      type: 'status',
      channelId: CHANNEL_ID,
      providerMessageId: 'wamid.OUT2',
      status: 'failed',
      at: s.w.clock.now().getTime(),
      error: { code: '131047', reason: 'outside the 24h window' },
      pricingCategory: undefined,
    });
    expect(s.w.tables.messages.get(out.id)).toMatchObject({
      status: 'failed',
      error_code: '131047',
      error_reason: 'outside the 24h window',
    });
  });

  it('parks a status for a provider id no message carries yet, creating no message or conversation', async () => {
    const s = setup();
    await s.receive({
      type: 'status',
      channelId: CHANNEL_ID,
      providerMessageId: 'wamid.LATER',
      status: 'delivered',
      at: s.w.clock.now().getTime(),
      error: undefined,
      pricingCategory: undefined,
    });
    expect(s.messages()).toEqual([]);
    expect(s.conversations()).toEqual([]);
    expect([...s.w.tables.parked.values()].flat().map((p) => p.status)).toEqual(['delivered']);
    expect(s.w.published).toEqual([]);
  });
});

describe('inbound pipeline: edits and revokes', () => {
  it("replaces an edited message's text and marks it edited", async () => {
    const s = setup();
    const conversation = await consentedCustomer(s);
    const original = message(s.w, 'Termin um 10');
    await s.receive(original);
    s.w.published.length = 0;
    await s.receive({
      type: 'edit',
      channelId: CHANNEL_ID,
      providerMessageId: 'wamid.EDIT1',
      originalProviderMessageId: original.providerMessageId,
      address: CUSTOMER,
      sentAt: s.w.clock.now().getTime(),
      text: 'Termin um 11',
    });
    const row = s.messages('in').find((m) => m.provider_message_id === original.providerMessageId)!;
    expect(row.edited).toBe(true);
    expect(s.w.content(row).text).toBe('Termin um 11');
    expect(s.w.published).toEqual([
      {
        type: 'message.updated',
        inboxId: INBOX_ID,
        conversationId: conversation.id,
        messageId: row.id,
        status: 'received',
      },
    ]);
  });

  it('removes the content and the file of a revoked message, and ignores a later edit of it', async () => {
    const s = setup();
    await consentedCustomer(s);
    const media = { providerMediaId: 'm9', mimeType: 'image/jpeg', fileName: undefined, sha256: undefined, size: 10 };
    const original = message(s.w, 'Foto', { media });
    await s.receive(original);
    const row = () => s.messages('in').find((m) => m.provider_message_id === original.providerMessageId)!;
    expect(s.w.tables.media.size).toBe(1);
    const ref = {
      channelId: CHANNEL_ID,
      originalProviderMessageId: original.providerMessageId,
      address: CUSTOMER,
      sentAt: s.w.clock.now().getTime(),
    };
    await s.receive({ type: 'revoke', providerMessageId: 'wamid.DEL1', ...ref });
    expect(row()).toMatchObject({ deleted: true, body_enc: null, media_id: null });
    expect(s.w.tables.media.size).toBe(0);
    await s.receive({ type: 'edit', providerMessageId: 'wamid.EDIT2', text: 'neu', ...ref });
    expect(row()).toMatchObject({ deleted: true, edited: false, body_enc: null });
  });

  it("ignores an edit that names one of sparsam's own messages", async () => {
    const s = setup();
    const conversation = await consentedCustomer(s);
    const out = sentMessage(s, conversation, 'wamid.OUT3');
    await s.receive({
      type: 'edit',
      channelId: CHANNEL_ID,
      providerMessageId: 'wamid.EDIT3',
      originalProviderMessageId: 'wamid.OUT3',
      address: CUSTOMER,
      sentAt: s.w.clock.now().getTime(),
      text: 'untergeschoben',
    });
    expect(s.w.tables.messages.get(out.id)!.edited).toBe(false);
  });
});

describe('inbound pipeline: changed numbers', () => {
  it('keeps the conversation when the customer changes number: later messages from the new number join it', async () => {
    const s = setup();
    const conversation = await consentedCustomer(s);
    await s.receive(
      {
        type: 'system',
        channelId: CHANNEL_ID,
        providerMessageId: 'wamid.SYS1',
        address: CUSTOMER,
        sentAt: s.w.clock.now().getTime(),
        systemType: 'user_changed_number',
        newAddress: 'customer-a-new',
      },
      message(s.w, 'Neue Nummer, gleiche Person', { address: 'customer-a-new' }),
    );
    expect(s.only(s.conversations()).id).toBe(conversation.id);
    expect(s.messages('in').map((m) => m.conversation_id)).toEqual([conversation.id, conversation.id]);
    expect(s.w.audit).toContainEqual({
      action: 'contact.address_changed',
      targetId: conversation.contact_id,
      details: undefined,
    });
    // The old number is nobody now: a message from it starts a new contact and waits for consent.
    await s.receive(message(s.w, 'Wer ist das?', { address: CUSTOMER }));
    expect(
      s
        .conversations()
        .map((c) => c.state)
        .sort(),
    ).toEqual(['open', 'pending_consent']);
  });

  it('ignores a number change for a customer it does not know', async () => {
    const s = setup();
    await s.receive({
      type: 'system',
      channelId: CHANNEL_ID,
      providerMessageId: 'wamid.SYS2',
      address: 'unknown',
      sentAt: s.w.clock.now().getTime(),
      systemType: 'user_changed_number',
      newAddress: 'unknown-new',
    });
    expect(s.w.contacts.byId.size).toBe(0);
    expect(s.w.audit).toEqual([]);
  });
});
