import { afterEach, beforeEach, expect, it } from 'vitest';
import { signMessengerBody } from '../../../src/channels/messenger/messenger.signature.ts';
import { loadConfig } from '../../../src/config/config.ts';
import { CONSENT_AGREE_ID } from '../../../src/core/inbox/notices.ts';
import { createSparsam, type Sparsam } from '../../../src/main.ts';
import { ManualClock } from '../../../src/shared/clock.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { describeEachStore, openTestStore, type TestStore } from '../../support/stores.ts';
import { FakeGraph } from './fake-graph.ts';

const APP_SECRET = 'fb-inbox-app-secret';
const PAGE = '1234567890';
const PSID = '6543210987654321';

describeEachStore('messenger conversation through the inbox', (dialect) => {
  let t: TestStore;
  let sparsam: Sparsam;
  let agentToken: string;
  const graph = new FakeGraph();
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 9, 0, 0));
  let seq = 0;

  beforeEach(async () => {
    t = await openTestStore(dialect);
    await t.store.close();
    await graph.start();
    graph.requests.length = 0;
    const yaml = `
organisation:
  name: Autohaus Beispiel GmbH
  contact: datenschutz@autohaus.example
inboxes:
  - id: service
channels:
  - id: fb-main
    kind: messenger
    inbox: service
    pageId: "${PAGE}"
    pageAccessToken: page-token
    appSecret: ${APP_SECRET}
    verifyToken: fb-verify
    graphBaseUrl: ${graph.url}
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
    await graph.stop();
    await t?.cleanup();
  });

  function event(item: Record<string, unknown>): string {
    const at = clock.now().getTime();
    return JSON.stringify({
      object: 'page',
      entry: [
        { id: PAGE, time: at, messaging: [{ sender: { id: PSID }, recipient: { id: PAGE }, timestamp: at, ...item }] },
      ],
    });
  }

  function post(body: string, signature: string | null = signMessengerBody(APP_SECRET, body)) {
    return sparsam.http.inject({
      method: 'POST',
      url: '/webhooks/messenger/fb-main',
      payload: body,
      headers: { 'content-type': 'application/json', ...(signature ? { 'x-hub-signature-256': signature } : {}) },
    });
  }

  it('answers the hub challenge, sends the notice as a button template, and opens the conversation on the postback', async () => {
    const challenge = await sparsam.http.inject({
      method: 'GET',
      url: '/webhooks/messenger/fb-main?hub.mode=subscribe&hub.verify_token=fb-verify&hub.challenge=4242',
    });
    expect(challenge.statusCode).toBe(200);
    expect(challenge.body).toBe('4242');

    const first = event({ message: { mid: `m_in${++seq}`, text: 'Hallo, ist ein Termin frei?' } });
    expect((await post(first)).statusCode).toBe(200);
    expect((await post(first)).statusCode).toBe(200);
    await sparsam.jobs.drain();
    // The notice (with the link to the full privacy notice) is longer than a button template holds: the whole text
    // goes as a message, then the agree/decline buttons under its first paragraph.
    expect(graph.requests).toHaveLength(2);
    const full = graph.json(0) as { message: { text: string } };
    expect(full.message.text).toContain('Datenschutzhinweise');
    const notice = graph.json(1) as { recipient: { id: string }; messaging_type: string; message: unknown };
    expect(notice.recipient).toEqual({ id: PSID });
    expect(notice.messaging_type).toBe('RESPONSE');
    const payload = (
      notice.message as { attachment: { payload: { template_type: string; buttons: { payload: string }[] } } }
    ).attachment.payload;
    expect(payload.template_type).toBe('button');
    expect(payload.buttons.map((b) => b.payload)).toContain(CONSENT_AGREE_ID);

    const tap = event({ postback: { title: 'Zustimmen', payload: CONSENT_AGREE_ID, mid: `m_pb${++seq}` } });
    expect((await post(tap)).statusCode).toBe(200);
    const list = await sparsam.http.inject({
      method: 'GET',
      url: '/api/v1/conversations?view=all',
      headers: { authorization: `Bearer ${agentToken}` },
    });
    const items = list.json().items as { channelKind: string; windowClosesAt: string | null }[];
    expect(items).toHaveLength(1);
    expect(items[0]!.channelKind).toBe('messenger');
    // Messenger has the 24-hour window: the inbox shows when it closes.
    expect(items[0]!.windowClosesAt).not.toBeNull();
  });

  it('refuses an unsigned webhook with 401 and a page webhook for another page with 400', async () => {
    expect((await post(event({ message: { mid: 'm_x', text: 'x' } }), null)).statusCode).toBe(401);
    const other = JSON.stringify({ object: 'page', entry: [{ id: '999999', time: 1, messaging: [] }] });
    expect((await post(other)).statusCode).toBe(400);
    expect(await sparsam.store.db.selectFrom('messages').select('id').execute()).toEqual([]);
  });
});
