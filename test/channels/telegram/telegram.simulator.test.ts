import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTelegramChannel } from '../../../src/channels/telegram/telegram.channel.ts';
import { TelegramSimulator } from '../../../dev/simulator/telegram-simulator.ts';

const TOKEN = '7000000004:AAH-simulator-test';

describe('Telegram simulator: the demo customer page', () => {
  const simulator = new TelegramSimulator(TOKEN);
  const received: { secret: string | undefined; update: Record<string, unknown> }[] = [];
  let hook: Server;

  beforeAll(async () => {
    await simulator.start();
    hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          secret: req.headers['x-telegram-bot-api-secret-token'] as string | undefined,
          update: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    simulator.setWebhook(`http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`, 'demo_secret');
  });
  afterAll(async () => {
    await simulator.stop();
    await new Promise<void>((resolve) => hook.close(() => resolve()));
  });

  it('serves the customer page, delivers what the customer types, shows the bot and taps its buttons', async () => {
    const page = await fetch(`${simulator.url}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('/_customer/say');

    const say = await fetch(`${simulator.url}/_customer/say`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chatId: '5071234567', firstName: 'Jana', text: 'Hallo!' }),
    });
    expect(await say.json()).toEqual({ webhookStatus: 200 });
    expect(received[0]?.secret).toBe('demo_secret');
    expect(received[0]?.update).toMatchObject({
      message: { text: 'Hallo!', chat: { id: 5071234567, type: 'private' }, from: { first_name: 'Jana' } },
    });

    // The bot answers with buttons through the Bot API, as sparsam's channel does.
    const channel = createTelegramChannel(
      {
        id: 'tg',
        inbox: 'service',
        enabled: true,
        kind: 'telegram',
        botToken: TOKEN,
        secretToken: 'demo_secret',
        apiBaseUrl: simulator.url,
      },
      { fetch: globalThis.fetch },
    );
    await channel.send({
      type: 'buttons',
      address: '5071234567',
      text: 'Einverstanden?',
      buttons: [{ id: 'agree', title: 'Ja' }],
    });
    const chat = (await (await fetch(`${simulator.url}/_customer/chat?chatId=5071234567`)).json()) as {
      messages: { from: string; text: string; buttons: { title: string; data: string }[] }[];
    };
    expect(chat.messages).toEqual([
      { from: 'customer', text: 'Hallo!', buttons: [] },
      { from: 'bot', text: 'Einverstanden?', buttons: [{ title: 'Ja', data: 'agree' }] },
    ]);

    await fetch(`${simulator.url}/_customer/tap`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chatId: '5071234567', firstName: 'Jana', data: 'agree' }),
    });
    expect(received[1]?.update).toMatchObject({ callback_query: { data: 'agree', from: { id: 5071234567 } } });
  });
});
