import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { startSparsam, type Sparsam } from '../../src/main.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { ProviderRefs } from '../../src/store/sql/provider-ref.ts';
import { startSimulator, type WhatsAppSimulator } from '../../src/simulator/whatsapp-simulator.ts';
import { APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN } from '../inbox/inbox-world.ts';
import { maxInAnySecond } from '../support/pacing.ts';
import { createPgDatabase, postgresAvailable } from '../support/stores.ts';

/**
 * Two sparsam instances on one PostgreSQL database send for the same WhatsApp number, whose limit is configured low
 * (5 msg/s). Both send at once, and together they stay within the number's limit in every second at the provider:
 * the pace is shared through the database, not kept per process.
 */

const MASTER_KEY = randomBytes(32).toString('base64');
const LIMIT = 5;
/** About three seconds' worth at the limit. */
const REPLIES = 16;
/** Customers the replies are spread over (round-robin). */
const CUSTOMERS = 4;

function yaml(graphUrl: string): string {
  return `
organisation:
  name: Autohaus Beispiel GmbH
  contact: datenschutz@autohaus.example
inboxes:
  - id: service
    labelPrefix: Anfrage
    language: de
    retention:
      consentTimeoutHours: 24
      autoCloseAfterDays: 14
      eraseAfterCloseDays: 30
    media: strip
channels:
  - id: wa-main
    kind: whatsapp-cloud
    inbox: service
    phoneNumberId: "${PHONE_NUMBER_ID}"
    accessToken: test-access-token
    appSecret: ${APP_SECRET}
    verifyToken: ${VERIFY_TOKEN}
    graphBaseUrl: ${graphUrl}
    messagesPerSecond: ${LIMIT}
`;
}

interface Instance {
  sparsam: Sparsam;
  url: string;
  dataDir: string;
  /** Text sends this instance's workers handed to the provider. */
  textSends: number;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.runIf(postgresAvailable)('two sparsam instances share one send pace per number [postgres]', () => {
  let db: { url: string; drop(): Promise<void> };
  let sim: WhatsAppSimulator;
  let a: Instance;
  let b: Instance;

  async function start(): Promise<Instance> {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sparsam-pacing-'));
    const config = loadConfig({
      env: {
        SPARSAM_DATA_DIR: dataDir,
        SPARSAM_DATABASE_URL: db.url,
        SPARSAM_KEYSTORE_URL: db.url,
        SPARSAM_MASTER_KEY: MASTER_KEY,
        SPARSAM_PORT: '0',
        SPARSAM_HOST: '127.0.0.1',
        SPARSAM_CONFIG: '/virtual/sparsam.yaml',
        SPARSAM_LOG_LEVEL: 'error',
      },
      readFile: () => yaml(sim.url),
    });
    const { sparsam, address } = await startSparsam(config, {
      clock: systemClock,
      logger: createLogger({ level: 'error' }),
    });
    const instance: Instance = { sparsam, url: address, dataDir, textSends: 0 };
    // Count which instance's workers send (the simulator cannot tell them apart).
    const channel = sparsam.channels.get('wa-main')!;
    const send = channel.send.bind(channel);
    channel.send = (command) => {
      if (command.type === 'text') instance.textSends += 1;
      return send(command);
    };
    return instance;
  }

  beforeAll(async () => {
    db = await createPgDatabase();
    sim = await startSimulator({
      appSecret: APP_SECRET,
      accessToken: 'test-access-token',
      phoneNumberId: PHONE_NUMBER_ID,
      verifyToken: VERIFY_TOKEN,
      webhookUrl: 'http://127.0.0.1:1/unused',
      autoStatuses: false,
    });
    a = await start();
    b = await start();
  });

  afterAll(async () => {
    for (const i of [a, b]) {
      await i?.sparsam.close().catch(() => undefined);
      if (i) rmSync(i.dataDir, { recursive: true, force: true });
    }
    await sim?.close();
    await db?.drop();
  });

  it(`replies sent through both instances at once reach the provider at most ${LIMIT} in any second, each once`, async () => {
    // Several customers: a conversation's replies leave one after the other in the order written, so the pace is
    // shared only where conversations send side by side, as when a business answers many customers.
    sim.setWebhookUrl(`${a.url}/webhooks/whatsapp/wa-main`);
    const conversations: string[] = [];
    for (let k = 0; k < CUSTOMERS; k += 1) {
      const customer = `49151000000${70 + k}`;
      expect((await sim.sendCustomerMessage({ from: customer, text: 'Ist mein Auto fertig?' })).delivered).toBe(true);
      await until('the consent notice', () => sim.sentMessages().some((m) => m.to === customer));
      expect(
        (await sim.sendCustomerMessage({ from: customer, buttonReply: { id: CONSENT_AGREE_ID, title: 'Zustimmen' } }))
          .delivered,
      ).toBe(true);
      const wamid = `wamid.PACE-${k}`;
      expect((await sim.sendCustomerMessage({ from: customer, text: 'Und wann?', id: wamid })).delivered).toBe(true);
      const { conversation_id } = await a.sparsam.store.db
        .selectFrom('messages')
        .select('conversation_id')
        .where('provider_message_id', '=', new ProviderRefs(a.sparsam.keys.pepper).ref(wamid))
        .executeTakeFirstOrThrow();
      conversations.push(conversation_id);
    }
    const token = (await a.sparsam.accounts.createApiToken('pacing-agent', 'agent')).token;
    const before = sim.sentMessages().length;

    // The agent's replies go in through both instances at once; each instance's workers pick up jobs at once.
    const texts = Array.from({ length: REPLIES }, (_, i) => `Antwort ${i + 1}`);
    const answers = await Promise.all(
      texts.map((text, i) =>
        fetch(`${(i % 2 ? b : a).url}/api/v1/conversations/${conversations[i % CUSTOMERS]}/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ text }),
        }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(texts.map(() => 202));
    await until('every reply at the provider', () => sim.sentMessages().length >= before + REPLIES);
    // Give a worker time to (wrongly) send one a second time.
    await new Promise((r) => setTimeout(r, 1000));

    const sent = sim.sentMessages();
    expect(sim.refused).toEqual([]);
    const replies = sent.filter((m) => m.text?.startsWith('Antwort '));
    expect(replies.map((m) => m.text).sort()).toEqual([...texts].sort());
    // Both instances sent a share, so the limit held across them, not within one.
    // (Which instance sends is up to their workers: 16/0 is impossible here, 12/4 is common.)
    expect(a.textSends).toBeGreaterThan(0);
    expect(b.textSends).toBeGreaterThan(0);
    expect(maxInAnySecond(sent.map((m) => m.at))).toBeLessThanOrEqual(LIMIT);
  });
});
