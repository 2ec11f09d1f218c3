import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CHANNEL_ID, loadDemoSimulator, startDemo, type RunningDemo } from '../../src/cli/demo.command.ts';
import type { WhatsAppSimulator } from '../../dev/simulator/whatsapp-simulator.ts';

let demo: RunningDemo<WhatsAppSimulator>;
beforeAll(async () => {
  demo = await startDemo<WhatsAppSimulator>({ port: 0, simulatorPort: 0, logLevel: 'silent' });
});
afterAll(async () => {
  await demo?.close();
});

async function eventually<T>(read: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('npm run demo: sparsam wired to the simulator', () => {
  it('answers Meta’s handshake, takes a customer’s message and answers through the simulated Graph API', async () => {
    expect(demo.handshakeStatus).toBe(200);
    expect(demo.admin?.email).toBeTruthy();
    // A data protection officer's login too, so that subject access can be tried.
    expect(demo.dpo?.email).toBe('dpo@sparsam.invalid');
    const login = await demo.sparsam.http.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: demo.dpo!.email, password: demo.dpo!.password },
    });
    expect(login.statusCode).toBe(200);
    // The DPO can export anyone's data: the login goes on to the second factor's enrolment, as for admins.
    expect(login.json().step).toBe('enrol');
    const delivery = await demo.simulator.sendCustomerMessage({ from: '4915112345678', name: 'Eva', text: 'Hallo!' });
    expect(delivery.attempts.map((a) => a.status)).toEqual([200]);
    // sparsam's first answer to a new contact is the privacy notice with consent buttons, sent by its queue.
    const notice = await eventually(() => demo.simulator.sentMessages().find((m) => m.to === '4915112345678'));
    expect(notice.buttons?.length).toBeGreaterThanOrEqual(2);
    const agree = notice.buttons![0]!;
    const tap = await demo.simulator.sendCustomerMessage({ from: '4915112345678', buttonReply: agree });
    expect(tap.delivered).toBe(true);
    // A redelivered message (same wamid), as Meta sends after a lost answer, is answered 200 again.
    const again = await demo.simulator.sendCustomerMessage({
      from: '4915112345678',
      text: 'Hallo!',
      id: delivery.messageId,
    });
    expect(again.delivered).toBe(true);
  });

  it('starts with quick replies and an approved MARKETING template, so "/" and campaigns can be tried', async () => {
    const shortcuts = (await demo.sparsam.team.listQuickReplies()).map((q) => q.shortcut);
    expect(shortcuts).toEqual(expect.arrayContaining(['hallo', 'öffnungszeiten']));
    const token = await demo.sparsam.accounts.createApiToken('demo-test', 'admin');
    const templates = await demo.sparsam.http.inject({
      url: `/api/v1/channels/${DEMO_CHANNEL_ID}/templates`,
      headers: { authorization: `Bearer ${token.token}` },
    });
    expect(templates.statusCode).toBe(200);
    const items = (templates.json() as { items: { name: string; category: string }[] }).items;
    expect(items.filter((t) => t.category === 'MARKETING').map((t) => t.name)).toEqual(['herbstangebot']);
  });

  it('"Verbindung testen" on the demo channel reaches the simulator, and its templates and profile answer', async () => {
    const token = (await demo.sparsam.accounts.createApiToken('demo-check', 'admin')).token;
    const call = (method: 'GET' | 'POST', url: string) =>
      demo.sparsam.http.inject({ method, url, headers: { authorization: `Bearer ${token}` } });
    const check = await call('POST', `/api/v1/admin/channels/${DEMO_CHANNEL_ID}/test`);
    expect(check.json()).toMatchObject({ ok: true, reason: 'connected', name: 'sparsam Demo' });
    const sync = await call('POST', `/api/v1/admin/channels/${DEMO_CHANNEL_ID}/whatsapp/templates/sync`);
    expect(sync.statusCode).toBe(200);
    expect((sync.json() as { items: { name: string; status: string }[] }).items.map((t) => [t.name, t.status])).toEqual(
      [
        ['herbstangebot', 'APPROVED'],
        ['termin_erinnerung', 'APPROVED'],
      ],
    );
    expect((await call('GET', `/api/v1/admin/channels/${DEMO_CHANNEL_ID}/whatsapp/profile`)).statusCode).toBe(200);
    expect((await call('GET', `/api/v1/admin/channels/${DEMO_CHANNEL_ID}/whatsapp/phone-number`)).json()).toMatchObject(
      {
        qualityRating: 'GREEN',
      },
    );
  });

  it('a forged webhook is refused with 401', async () => {
    const response = await fetch(demo.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
      body: JSON.stringify({ object: 'whatsapp_business_account', entry: [] }),
    });
    expect(response.status).toBe(401);
  });

  it('close() stops both and deletes the temporary data directory', async () => {
    const dataDir = demo.sparsam.config.dataDir;
    expect(existsSync(dataDir)).toBe(true);
    await demo.close();
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe('sparsam demo without the development simulator (a production build or image)', () => {
  it('says that the demo needs the development checkout instead of failing with a module error', async () => {
    const missing = new URL('../../.tmp/no-such-dir/dev/simulator/whatsapp-simulator.ts', import.meta.url);
    await expect(loadDemoSimulator(missing)).rejects.toThrow(/the demo needs the development checkout/);
  });
});
