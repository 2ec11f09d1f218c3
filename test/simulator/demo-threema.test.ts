import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_THREEMA_CHANNEL_ID, startDemo, type RunningDemo } from '../../src/cli/demo.command.ts';
import type { WhatsAppSimulator } from '../../dev/simulator/whatsapp-simulator.ts';

let demo: RunningDemo<WhatsAppSimulator>;
beforeAll(async () => {
  demo = await startDemo<WhatsAppSimulator>({
    port: 19196,
    simulatorPort: 19197,
    threemaPort: 19198,
    logLevel: 'silent',
  });
});
afterAll(async () => {
  await demo?.close();
});

async function eventually<T>(read: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('npm run demo -- --threema: a Threema channel wired to the Threema Gateway simulator', () => {
  it("takes a message written on the simulator's customer page and shows the encrypted notice there, decrypted", async () => {
    expect(demo.threema?.webhookUrl).toMatch(new RegExp(`/webhooks/threema/${DEMO_THREEMA_CHANNEL_ID}$`));
    const say = (text: string) =>
      fetch(`${demo.threema!.url}/customer/say`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ id: 'DEMOKUND', text }).toString(),
        redirect: 'manual',
      });
    expect((await say('Hallo aus Threema')).status).toBe(303);
    const page = await eventually(async () => {
      const html = await (await fetch(`${demo.threema!.url}/`)).text();
      return html.includes('JA') ? html : undefined;
    });
    expect(page).toContain('sparsam Demo');
    await say('JA');
    const token = (await demo.sparsam.accounts.createApiToken('demo-threema-test', 'agent')).token;
    const items = await eventually(async () => {
      const res = await demo.sparsam.http.inject({
        url: '/api/v1/conversations?view=all',
        headers: { authorization: `Bearer ${token}` },
      });
      const list = (res.json() as { items: { channelKind: string }[] }).items.filter(
        (c) => c.channelKind === 'threema',
      );
      return list.length > 0 ? list : undefined;
    });
    expect(items).toHaveLength(1);
  });
});
