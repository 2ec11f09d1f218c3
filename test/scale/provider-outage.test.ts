import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { backoffDelay } from '../../src/jobs/job-queue.ts';
import { OUTBOUND_BACKOFF, OUTBOUND_MAX_ATTEMPTS } from '../../src/jobs/outbound-send.job.ts';
import type { Sparsam } from '../../src/main.ts';
import type { WhatsAppSimulator } from '../../dev/simulator/whatsapp-simulator.ts';
import {
  closeInstances,
  configYaml,
  startInstance,
  startWhatsAppSimulator,
  until as pollUntil,
  type Instance,
} from '../support/instances.ts';
import { createPgDatabase, describeEachStore } from '../support/stores.ts';

/**
 * A 60-second WhatsApp outage in real time: every Graph call is refused (500, 503, 429 with and without
 * Retry-After, 400 with 130429) while agents keep answering and a new customer writes. Nothing is marked failed
 * during the outage and agents see their replies queued through the API; afterwards every reply and the new
 * customer's privacy notice reach the provider exactly once, within 30 s of the end, each customer's replies in the
 * order they were written.
 *
 * Both stores run at the same time (the outage dominates the file's duration: about 90 s).
 */

const OUTAGE_MS = 60_000;
/** How soon after the outage everything queued must be out (the send backoff is capped at 20 s, ±25 % jitter). */
const RECOVERY_MS = 30_000;

/** Looks every 100 ms (the API is asked each time). */
const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs?: number) =>
  pollUntil(what, check, timeoutMs, 100);

const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

interface ApiMessage {
  id: string;
  direction: string;
  kind: string;
  text: string | null;
  status: string;
  error: { code: string; reason: string } | null;
}

describe('the retry schedule of a send', () => {
  const schedule = (random: () => number) =>
    Array.from({ length: OUTBOUND_MAX_ATTEMPTS - 1 }, (_, i) =>
      backoffDelay(i + 1, OUTBOUND_BACKOFF.baseMs, OUTBOUND_BACKOFF.maxMs, random),
    );

  it('outlasts at least 20 minutes of provider trouble, yet never waits more than 25 s between attempts', () => {
    const shortest = schedule(() => 0);
    const longest = schedule(() => 1);
    expect(shortest.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(20 * 60_000);
    expect(Math.max(...longest)).toBeLessThanOrEqual(25_000);
  });
});

describe.concurrent('a provider outage of 60 s', () => {
  describeEachStore('replies and notices wait and go out once afterwards', (dialect) => {
    let sim: WhatsAppSimulator;
    let instance: Instance | undefined;
    let sparsam: Sparsam;
    let url: string;
    let token: string;
    let pgDb: { url: string; drop(): Promise<void> } | undefined;

    beforeAll(async () => {
      if (dialect === 'postgres') pgDb = await createPgDatabase();
      sim = await startWhatsAppSimulator({ autoStatuses: false });
      instance = await startInstance({
        yaml: configYaml(sim.url),
        masterKey: randomBytes(32).toString('base64'),
        databaseUrl: pgDb?.url,
        dataDirPrefix: `sparsam-outage-${dialect}-`,
      });
      sparsam = instance.sparsam;
      url = instance.url;
      sim.setWebhookUrl(`${url}/webhooks/whatsapp/wa-main`);
      token = (await sparsam.accounts.createApiToken('outage-agent', 'agent')).token;
    });

    afterAll(async () => {
      await closeInstances(instance);
      await sim?.close();
      await pgDb?.drop();
    });

    const api = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${url}/api/v1${route}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    const messagesOf = async (conversationId: string): Promise<ApiMessage[]> => {
      const res = await api('GET', `/conversations/${conversationId}`);
      expect(res.status).toBe(200);
      return res.body.messages as ApiMessage[];
    };

    /** The customer writes and agrees to the notice; returns the conversation's id as the API lists it. */
    const consentedCustomer = async (number: string): Promise<string> => {
      expect((await sim.sendCustomerMessage({ from: number, text: 'Guten Tag' })).delivered).toBe(true);
      await until('the privacy notice', () => sim.sentMessages().some((m) => m.to === number));
      const agreed = await sim.sendCustomerMessage({
        from: number,
        buttonReply: { id: CONSENT_AGREE_ID, title: 'Zustimmen' },
      });
      expect(agreed.delivered).toBe(true);
      // The confirmation after agreeing goes out before the outage begins (it is not one of the counted messages).
      await until('the confirmation', () => sim.sentMessages().filter((m) => m.to === number).length >= 2);
      return conversationOf(number);
    };

    const known = new Set<string>();
    /** The conversation that appeared since the last call (the API shows pseudonyms, not numbers). */
    const conversationOf = async (number: string): Promise<string> => {
      let found: string | undefined;
      await until(`the conversation of ${number.slice(-2)}`, async () => {
        const list = (await api('GET', '/conversations?view=all')).body.items as { id: string }[];
        found = list.map((c) => c.id).find((id) => !known.has(id));
        return found !== undefined;
      });
      known.add(found!);
      return found!;
    };

    it(
      'nothing fails during the outage; afterwards each reply and the notice leave once, within 30 s',
      async () => {
        const first = '4915100000201';
        const second = '4915100000202';
        const newcomer = '4915100000203';
        const c1 = await consentedCustomer(first);
        const c2 = await consentedCustomer(second);
        const sentBefore = sim.sentMessages().length;

        const start = Date.now();
        const end = start + OUTAGE_MS;
        sim.failureMode({
          status: 500,
          forMs: OUTAGE_MS,
          answers: [
            { status: 500, code: 131000 },
            { status: 503, code: 2 },
            { status: 429, code: 130429, retryAfter: 5 },
            { status: 400, code: 130429 },
            { status: 429, code: 130429 },
            { status: 502, code: 131000 },
          ],
        });

        // Agents keep answering during the outage; a new customer writes in the middle of it.
        const plan: { at: number; conversation: string; text: string }[] = [
          { at: 500, conversation: c1, text: 'Antwort 1 an den ersten Kunden' },
          { at: 1_500, conversation: c2, text: 'Antwort 1 an den zweiten Kunden' },
          { at: 2_000, conversation: c1, text: 'Antwort 2 an den ersten Kunden' },
          { at: 3_000, conversation: c2, text: 'Antwort 2 an den zweiten Kunden' },
          { at: 3_500, conversation: c1, text: 'Antwort 3 an den ersten Kunden' },
          { at: 15_000, conversation: c1, text: 'Antwort 4 an den ersten Kunden' },
          { at: 28_500, conversation: c2, text: 'Antwort 3 an den zweiten Kunden' },
          { at: 40_000, conversation: c1, text: 'Antwort 5 an den ersten Kunden' },
          { at: 40_500, conversation: c2, text: 'Antwort 4 an den zweiten Kunden' },
          { at: 55_000, conversation: c1, text: 'Antwort 6 an den ersten Kunden' },
        ];
        const replyIds = new Map<string, string>();
        let newcomerSeen = false;

        /** What agents see now: no reply failed, each is still waiting; nothing outbound failed in the store either. */
        const checkWaiting = async () => {
          for (const conversation of [c1, c2]) {
            const outbound = (await messagesOf(conversation)).filter((m) => m.direction === 'out');
            for (const m of outbound.filter((o) => [...replyIds.values()].includes(o.id))) {
              expect(m.error, `${m.text}: ${JSON.stringify(m.error)}`).toBeNull();
              expect(['queued', 'sending']).toContain(m.status);
            }
            expect(outbound.filter((m) => m.status === 'failed')).toEqual([]);
          }
          // The newcomer's notice (not shown to agents before consent) waits too.
          const waiting = await sparsam.store.db
            .selectFrom('messages')
            .select(['id', 'status'])
            .where('direction', 'in', ['out', 'system'])
            .where('created_at', '>=', start)
            .execute();
          expect(waiting.filter((m) => !['queued', 'sending'].includes(m.status))).toEqual([]);
          expect(waiting).toHaveLength(replyIds.size + (newcomerSeen ? 1 : 0));
          const failedJobs = await sparsam.store.db
            .selectFrom('jobs')
            .select(['queue', 'last_error'])
            .where('status', '=', 'failed')
            .execute();
          expect(failedJobs).toEqual([]);
          expect(sim.sentMessages()).toHaveLength(sentBefore);
        };

        let checks = 0;
        for (let at = 0; at < OUTAGE_MS - 1_000; at += 500) {
          await sleepUntil(start + at);
          for (const step of plan.filter((p) => p.at === at)) {
            const res = await api('POST', `/conversations/${step.conversation}/messages`, { text: step.text });
            expect(res.status).toBe(202);
            replyIds.set(step.text, (res.body.message as { id: string }).id);
          }
          if (at === 25_000) {
            const wrote = await sim.sendCustomerMessage({ from: newcomer, text: 'Haben Sie noch Termine frei?' });
            expect(wrote.delivered).toBe(true);
            newcomerSeen = true;
          }
          if (at % 5_000 === 2_500) {
            await checkWaiting();
            checks += 1;
          }
        }
        // The last look, a second before the provider is back.
        await sleepUntil(end - 1_000);
        await checkWaiting();
        expect(checks).toBeGreaterThanOrEqual(11);
        // The outage was felt: sends were tried and refused, in every one of the ways above. Only the oldest waiting
        // message of each conversation is tried (the later ones wait for it without calling the provider): three
        // conversations, about seven tries each in 60 s.
        const refusals = sim.refused.filter((r) => r.path.endsWith('/messages'));
        expect(refusals.length).toBeGreaterThanOrEqual(12);
        expect(new Set(refusals.map((r) => r.status))).toEqual(new Set([400, 429, 500, 502, 503]));

        // The provider is back: everything queued goes out, promptly.
        const expected = plan.length + 1;
        await until(
          'every reply and the notice at the provider',
          () => sim.sentMessages().length >= sentBefore + expected,
          RECOVERY_MS + 10_000,
        );
        const after = sim.sentMessages().slice(sentBefore);
        const lastAt = Math.max(...after.map((m) => m.at));
        const recoveredIn = lastAt - end;
        // A second more for a (wrong) second copy to arrive.
        await new Promise((r) => setTimeout(r, 2_000));
        const sent = sim.sentMessages().slice(sentBefore);
        expect(sent).toHaveLength(expected);
        for (const step of plan)
          expect(
            sent.filter((m) => m.text === step.text),
            step.text,
          ).toHaveLength(1);
        const notices = sent.filter((m) => m.to === newcomer);
        expect(notices).toHaveLength(1);
        expect(notices[0]!.buttons?.some((b) => b.id === CONSENT_AGREE_ID)).toBe(true);
        expect(recoveredIn).toBeLessThanOrEqual(RECOVERY_MS);

        // Agents see every reply sent, none failed.
        for (const conversation of [c1, c2]) {
          for (const m of (await messagesOf(conversation)).filter((x) => [...replyIds.values()].includes(x.id))) {
            expect(m.status, m.text ?? '').toBe('sent');
          }
        }
        const stillWaiting = await sparsam.store.db
          .selectFrom('jobs')
          .select(['queue', 'status'])
          .where('status', 'not in', ['done'])
          .where('queue', '=', 'outbound-send')
          .execute();
        expect(stillWaiting).toEqual([]);

        // Each customer gets the replies in the order the agents wrote them.
        const order = (to: string) => sent.filter((m) => m.to === to && m.text).map((m) => m.text);
        const inOrder = (to: string, conversation: string) => {
          const wanted = plan.filter((p) => p.conversation === conversation).map((p) => p.text);
          return JSON.stringify(order(to)) === JSON.stringify(wanted);
        };
        console.info(
          `[provider-outage ${dialect}] ${refusals.length} sends refused during ${OUTAGE_MS / 1000} s; ` +
            `${expected} messages out ${(recoveredIn / 1000).toFixed(1)} s after the outage; ` +
            `order kept: first customer ${inOrder(first, c1)}, second ${inOrder(second, c2)}`,
        );
        expect(inOrder(first, c1), 'order of the replies to the first customer').toBe(true);
        expect(inOrder(second, c2), 'order of the replies to the second customer').toBe(true);
      },
      OUTAGE_MS + RECOVERY_MS + 40_000,
    );
  });
});
