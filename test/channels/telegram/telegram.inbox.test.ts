import { readdirSync, readFileSync, statSync } from 'node:fs';
import exifr from 'exifr';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.ts';
import { CONSENT_AGREE_ID } from '../../../src/core/inbox/notices.ts';
import { createSparsam, type Sparsam } from '../../../src/main.ts';
import { ManualClock } from '../../../src/shared/clock.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { TelegramSimulator, type SimulatedCustomer } from '../../../dev/simulator/telegram-simulator.ts';
import { describeEachStore, openTestStore, type TestStore } from '../../support/stores.ts';

const TOKEN = '7000000009:AAH-inbox-test-token';
const SECRET = 'inbox_test_secret';
const CUSTOMER: SimulatedCustomer = { chatId: 5071234567, firstName: 'Jana', lastName: 'Müller' };
const FIRST_TEXT = 'Hallo, haben Sie morgen Zeit für einen Reifenwechsel?';

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? allFiles(file) : [file];
  });
}

describeEachStore('telegram conversation through the inbox', (dialect) => {
  let t: TestStore;
  let sparsam: Sparsam;
  let simulator: TelegramSimulator;
  let agentToken: string;
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 9, 0, 0));

  beforeEach(async () => {
    t = await openTestStore(dialect);
    await t.store.close();
    simulator = new TelegramSimulator(TOKEN);
    await simulator.start();
    const yaml = `
organisation:
  name: Autohaus Beispiel GmbH
  contact: datenschutz@autohaus.example
inboxes:
  - id: service
    labelPrefix: Anfrage
channels:
  - id: tg-main
    kind: telegram
    inbox: service
    botToken: ${TOKEN}
    secretToken: ${SECRET}
    apiBaseUrl: ${simulator.url}
`;
    const config = loadConfig({
      env: { ...t.env, SPARSAM_CONFIG: '/virtual/sparsam.yaml', SPARSAM_LOG_LEVEL: 'silent' },
      readFile: () => yaml,
    });
    sparsam = await createSparsam(config, { clock, logger: createLogger({ level: 'silent' }) });
    await sparsam.http.ready();
    agentToken = (await sparsam.accounts.createApiToken('agent', 'agent')).token;
  });
  afterEach(async () => {
    await sparsam?.close().catch(() => undefined);
    await simulator?.stop();
    await t?.cleanup();
  });

  function deliver(update: Record<string, unknown>, secret: string | null = SECRET, channel = 'tg-main') {
    return sparsam.http.inject({
      method: 'POST',
      url: `/webhooks/telegram/${channel}`,
      payload: JSON.stringify(update),
      headers: {
        'content-type': 'application/json',
        ...(secret !== null ? { 'x-telegram-bot-api-secret-token': secret } : {}),
      },
    });
  }

  function api(method: 'GET' | 'POST', url: string, body?: unknown) {
    return sparsam.http.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${agentToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
  }

  it('asks for consent with inline buttons, shows the conversation after the tap, and delivers the reply', async () => {
    const first = simulator.textUpdate(CUSTOMER, FIRST_TEXT, Math.floor(clock.now().getTime() / 1000));
    expect((await deliver(first)).statusCode).toBe(200);
    // Telegram redelivers when it misses the 200: the same update must not make a second message.
    expect((await deliver(first)).statusCode).toBe(200);
    await sparsam.jobs.drain();

    const notices = simulator.sent(CUSTOMER.chatId);
    expect(notices).toHaveLength(1);
    const keyboard = notices[0]!.params.reply_markup as { inline_keyboard: { callback_data: string }[][] };
    expect(keyboard.inline_keyboard.flat().map((b) => b.callback_data)).toContain(CONSENT_AGREE_ID);
    expect((await api('GET', '/api/v1/conversations?view=all')).json().items).toEqual([]);

    expect((await deliver(simulator.tapUpdate(CUSTOMER, CONSENT_AGREE_ID))).statusCode).toBe(200);
    await expect.poll(() => simulator.calls.some((c) => c.method === 'answerCallbackQuery')).toBe(true);

    const items = (await api('GET', '/api/v1/conversations?view=all')).json().items as {
      id: string;
      label: string;
      channelKind: string;
      windowClosesAt: string | null;
    }[];
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ label: 'Anfrage 1', channelKind: 'telegram', windowClosesAt: null });
    const detail = await api('GET', `/api/v1/conversations/${items[0]!.id}`);
    const messages = detail.json().messages as { direction: string; text: string | null }[];
    expect(messages.filter((m) => m.direction === 'in').map((m) => m.text)).toEqual([FIRST_TEXT, 'Zustimmen']);
    expect(detail.body).not.toContain(String(CUSTOMER.chatId));

    const reply = await api('POST', `/api/v1/conversations/${items[0]!.id}/messages`, { text: 'Ja, morgen um 9 Uhr.' });
    expect(reply.statusCode).toBe(202);
    await sparsam.jobs.drain();
    const sent = simulator.sent(CUSTOMER.chatId).at(-1)!;
    expect(sent.params).toMatchObject({ chat_id: String(CUSTOMER.chatId), text: 'Ja, morgen um 9 Uhr.' });

    if (dialect === 'sqlite') {
      // Nothing personal in plain text in the data dir: not the chat id, not the name, not the text.
      await sparsam.store.scrub();
      for (const file of allFiles(t.dataDir)) {
        const raw = readFileSync(file).toString('latin1');
        expect(raw).not.toContain('Reifenwechsel');
        expect(raw).not.toContain(String(CUSTOMER.chatId));
        expect(raw).not.toContain('Müller'.replace('ü', '\u00c3\u00bc'));
      }
    }
  });

  it("sends an agent's photo with sendPhoto: the cleaned file, with its caption", async () => {
    await deliver(simulator.textUpdate(CUSTOMER, FIRST_TEXT, Math.floor(clock.now().getTime() / 1000)));
    await sparsam.jobs.drain();
    await deliver(simulator.tapUpdate(CUSTOMER, CONSENT_AGREE_ID));
    const [conversation] = (await api('GET', '/api/v1/conversations?view=all')).json().items as { id: string }[];
    const original = readFileSync(new URL('../../fixtures/images/jpg_gps_DSCN0021.jpg', import.meta.url));
    const upload = await sparsam.http.inject({
      method: 'POST',
      url: `/api/v1/conversations/${conversation!.id}/attachments`,
      payload: original,
      headers: {
        authorization: `Bearer ${agentToken}`,
        'content-type': 'image/jpeg',
        'x-attachment-caption': encodeURIComponent('So sieht der Reifen aus'),
      },
    });
    expect(upload.statusCode).toBe(202);
    const media = upload.json().message.media as { size: number };
    expect(media.size).toBeLessThan(original.length);
    await sparsam.jobs.drain();
    const sent = simulator.sent(CUSTOMER.chatId).at(-1)!;
    expect(sent.method).toBe('sendPhoto');
    expect(sent.params).toMatchObject({ chat_id: String(CUSTOMER.chatId), caption: 'So sieht der Reifen aus' });
    // The bytes Telegram got are the re-encoded file sparsam stored, not the camera's original.
    expect(sent.files.photo?.size).toBe(media.size);
    const detail = await api('GET', `/api/v1/conversations/${conversation!.id}`);
    const mine = (detail.json().messages as { id: string; status: string }[]).find(
      (m) => m.id === upload.json().message.id,
    );
    expect(mine?.status).toBe('sent');
  });

  it('sends a recorded voice note with sendVoice (as Ogg/Opus), and refuses a list: Telegram has none', async () => {
    await deliver(simulator.textUpdate(CUSTOMER, FIRST_TEXT, Math.floor(clock.now().getTime() / 1000)));
    await sparsam.jobs.drain();
    await deliver(simulator.tapUpdate(CUSTOMER, CONSENT_AGREE_ID));
    const [conversation] = (await api('GET', '/api/v1/conversations?view=all')).json().items as { id: string }[];
    const recording = readFileSync(new URL('../../fixtures/audio/voice-chromium.webm', import.meta.url));
    const upload = await sparsam.http.inject({
      method: 'POST',
      url: `/api/v1/conversations/${conversation!.id}/attachments`,
      payload: recording,
      headers: { authorization: `Bearer ${agentToken}`, 'content-type': 'audio/webm', 'x-attachment-voice': '1' },
    });
    expect(upload.statusCode).toBe(202);
    expect(upload.json().message.media.mimeType).toBe('audio/ogg');
    await sparsam.jobs.drain();
    const sent = simulator.sent(CUSTOMER.chatId).at(-1)!;
    expect(sent.method).toBe('sendVoice');
    expect(sent.files.voice?.size).toBe(upload.json().message.media.size);

    const detail = (await api('GET', `/api/v1/conversations/${conversation!.id}`)).json();
    expect(detail.conversation.canSendLists).toBe(false);
    const before = simulator.calls.length;
    const list = await api('POST', `/api/v1/conversations/${conversation!.id}/messages`, {
      text: 'Welcher Termin?',
      list: { button: 'Termine', sections: [{ rows: [{ title: 'Dienstag' }] }] },
    });
    expect(list.statusCode).toBe(400);
    expect(list.json().error).toMatchObject({
      code: 'VALIDATION',
      details: { field: 'list', reason: 'list_unsupported' },
    });
    await sparsam.jobs.drain();
    expect(simulator.calls.length).toBe(before);
  });

  it('fetches a photo through getFile and stores it without its GPS position; applies an edit', async () => {
    await deliver(simulator.textUpdate(CUSTOMER, FIRST_TEXT));
    await sparsam.jobs.drain();
    await deliver(simulator.tapUpdate(CUSTOMER, CONSENT_AGREE_ID));
    const [conversation] = (await api('GET', '/api/v1/conversations?view=all')).json().items as { id: string }[];

    const original = readFileSync(new URL('../../fixtures/images/jpg_gps_DSCN0010.jpg', import.meta.url));
    const fileId = simulator.addFile(original, 'image/jpeg');
    const photo = simulator.textUpdate(CUSTOMER, '') as { message: Record<string, unknown> };
    delete photo.message.text;
    photo.message.caption = 'Kratzer hinten links';
    photo.message.photo = [
      { file_id: 'thumb-not-downloaded', file_unique_id: 't', width: 90, height: 67, file_size: 1000 },
      { file_id: fileId, file_unique_id: 'l', width: 640, height: 480, file_size: original.length },
    ];
    expect((await deliver(photo)).statusCode).toBe(200);
    await sparsam.jobs.drain();
    expect(simulator.calls.filter((c) => c.method === 'getFile').map((c) => c.params.file_id)).toEqual([fileId]);

    const messages = (await api('GET', `/api/v1/conversations/${conversation!.id}`)).json().messages as {
      id: string;
      text: string | null;
      edited?: boolean;
      media: { url: string; mimeType: string } | null;
    }[];
    const withPhoto = messages.find((m) => m.media)!;
    expect(withPhoto.text).toBe('Kratzer hinten links');
    const file = await api('GET', withPhoto.media!.url);
    expect(file.statusCode).toBe(200);
    expect((await exifr.gps(original))?.latitude).toEqual(expect.any(Number));
    expect(await exifr.gps(file.rawPayload)).toBeUndefined();

    // The customer edits the first message: the inbox shows the new text on the same message.
    const first = messages.find((m) => m.text === FIRST_TEXT)!;
    const edit = simulator.textUpdate(CUSTOMER, 'Reifenwechsel am Montag?') as {
      message: Record<string, unknown>;
      edited_message?: Record<string, unknown>;
    };
    edit.edited_message = { ...edit.message, message_id: 1, edit_date: Math.floor(clock.now().getTime() / 1000) + 60 };
    delete (edit as { message?: unknown }).message;
    expect((await deliver(edit)).statusCode).toBe(200);
    const after = (await api('GET', `/api/v1/conversations/${conversation!.id}`)).json().messages as {
      id: string;
      text: string | null;
      edited?: boolean;
    }[];
    expect(after.find((m) => m.id === first.id)).toMatchObject({ text: 'Reifenwechsel am Montag?', edited: true });
  });

  it('refuses a forged update with 401, records it in the audit log, and stores nothing', async () => {
    const update = simulator.textUpdate(CUSTOMER, FIRST_TEXT);
    expect((await deliver(update, 'guessed')).statusCode).toBe(401);
    expect((await deliver(update, null)).statusCode).toBe(401);
    const audit = await sparsam.store.db
      .selectFrom('audit_log')
      .select(['action', 'actor'])
      .where('action', '=', 'webhook.forged')
      .execute();
    expect(audit).toEqual([
      { action: 'webhook.forged', actor: 'webhook:tg-main' },
      { action: 'webhook.forged', actor: 'webhook:tg-main' },
    ]);
    expect(await sparsam.store.db.selectFrom('messages').select('id').execute()).toEqual([]);
    expect(simulator.sent()).toEqual([]);
  });

  it('answers an unknown channel with 404 and ignores group chats with 200 and nothing stored', async () => {
    expect((await deliver(simulator.textUpdate(CUSTOMER, 'x'), SECRET, 'nope')).statusCode).toBe(404);
    const group = simulator.textUpdate(CUSTOMER, 'in der Gruppe') as { message: { chat: Record<string, unknown> } };
    group.message.chat = { id: -1001987654321, type: 'supergroup', title: 'Stammtisch' };
    expect((await deliver(group)).statusCode).toBe(200);
    await sparsam.jobs.drain();
    expect(await sparsam.store.db.selectFrom('messages').select('id').execute()).toEqual([]);
    expect(simulator.sent()).toEqual([]);
  });
});
