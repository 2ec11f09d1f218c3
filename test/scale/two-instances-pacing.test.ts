import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { ProviderRefs } from '../../src/store/sql/provider-ref.ts';
import type { WhatsAppSimulator } from '../../dev/simulator/whatsapp-simulator.ts';
import {
  closeInstances,
  configYaml,
  startInstance,
  startWhatsAppSimulator,
  until,
  type Instance as Started,
} from '../support/instances.ts';
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
const CUSTOMERS = 8;

interface Instance extends Started {
  /** Text sends this instance's workers handed to the provider. */
  textSends: number;
}

describe.runIf(postgresAvailable)('two sparsam instances share one send pace per number [postgres]', () => {
  let db: { url: string; drop(): Promise<void> };
  let sim: WhatsAppSimulator;
  let a: Instance;
  let b: Instance;

  async function start(): Promise<Instance> {
    const started = await startInstance({
      yaml: configYaml(sim.url, { retention: true, messagesPerSecond: LIMIT }),
      masterKey: MASTER_KEY,
      databaseUrl: db.url,
      dataDirPrefix: 'sparsam-pacing-',
    });
    const instance: Instance = { ...started, textSends: 0 };
    // Count which instance's workers send (the simulator cannot tell them apart).
    const channel = started.sparsam.channels.get('wa-main')!;
    const send = channel.send.bind(channel);
    channel.send = (command) => {
      if (command.type === 'text') instance.textSends += 1;
      return send(command);
    };
    return instance;
  }

  beforeAll(async () => {
    db = await createPgDatabase();
    sim = await startWhatsAppSimulator({ autoStatuses: false });
    a = await start();
    b = await start();
  });

  afterAll(async () => {
    await closeInstances(a, b);
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

    // The agent's replies go in through both instances in turn, 50 ms apart (faster than the limit lets them out),
    // so that each instance's workers hold replies waiting for a send slot at the same time: the instance a reply is
    // posted to claims its job at once. (Posted all at once, whichever instance polls first may claim them all.)
    const texts = Array.from({ length: REPLIES }, (_, i) => `Antwort ${i + 1}`);
    const answers: Response[] = [];
    for (const [i, text] of texts.entries()) {
      answers.push(
        await fetch(`${(i % 2 ? b : a).url}/api/v1/conversations/${conversations[i % CUSTOMERS]}/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ text }),
        }),
      );
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(answers.map((r) => r.status)).toEqual(texts.map(() => 202));
    await until('every reply at the provider', () => sim.sentMessages().length >= before + REPLIES);
    // Give a worker time to (wrongly) send one a second time.
    await new Promise((r) => setTimeout(r, 1000));

    const sent = sim.sentMessages();
    expect(sim.refused).toEqual([]);
    const replies = sent.filter((m) => m.text?.startsWith('Antwort '));
    expect(replies.map((m) => m.text).sort()).toEqual([...texts].sort());
    // Both instances sent a share, so the limit held across them, not within one.
    expect(a.textSends).toBeGreaterThan(2);
    expect(b.textSends).toBeGreaterThan(2);
    expect(maxInAnySecond(sent.map((m) => m.at))).toBeLessThanOrEqual(LIMIT);
  });
});
