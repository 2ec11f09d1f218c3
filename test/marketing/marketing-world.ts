import { randomBytes } from 'node:crypto';
import { newId } from '../../src/shared/ids.ts';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { buttonReply, startWorld, textMessage, type World, type WorldOptions } from '../inbox/inbox-world.ts';
import type { SqlDialectName } from '../../src/store/store.ts';

export const GREETING = 'Willkommen beim Autohaus Beispiel! Wir melden uns gleich.';
export const AWAY = 'Wir sind gerade nicht im Haus und antworten ab 8 Uhr.';

/** The inbox world with a greeting, an away message (Mon-Fri 08:00-18:00 Berlin), NEWS keywords and a marketing template. */
export function startMarketingWorld(
  dialect: SqlDialectName,
  automation = true,
  options: WorldOptions = {},
): Promise<World> {
  return startWorld(dialect, {
    ...options,
    editYaml: (yaml) =>
      yaml
        .replace(
          '\nchannels:',
          `
    marketing:
      optInKeywords: [NEWS, JA NEWS]
      optOutKeywords: [NEWS STOP, ABBESTELLEN]
${
  automation
    ? `    automation:
      greeting: "${GREETING}"
      away:
        text: "${AWAY}"
        cooldownHours: 12
        timeZone: Europe/Berlin
        hours:
          mon: ["08:00-18:00"]
          tue: ["08:00-18:00"]
          wed: ["08:00-18:00"]
          thu: ["08:00-18:00"]
          fri: ["08:00-18:00"]
        holidays: ["2026-12-24"]
`
    : ''
}channels:`,
        )
        .replace(
          '    templates:\n',
          `    templates:
      - name: spring_offer
        language: de
        category: MARKETING
        body: "Frühlingsangebot: {{1}}"
`,
        ),
  });
}

let seq = 0;

/** A customer writes and agrees to the privacy notice; returns after the queue ran. */
export async function consentedCustomer(w: World, from: string, first = 'Hallo'): Promise<void> {
  await w.webhook(textMessage(w.clock, `wamid.M${++seq}`, first, from));
  await w.drain();
  await w.webhook(buttonReply(w.clock, `wamid.M${++seq}`, CONSENT_AGREE_ID, 'Zustimmen', from));
  await w.drain();
}

export async function say(w: World, from: string, text: string): Promise<void> {
  const res = await w.webhook(textMessage(w.clock, `wamid.M${++seq}`, text, from));
  if (res.statusCode !== 200) throw new Error(`webhook answered ${res.statusCode}`);
  await w.drain();
}

/** Texts sent to one number, in order. */
/** The confirmation every customer gets after agreeing to the privacy notice (not an automated message). */
export const isConsentConfirmation = (text: string) =>
  text.startsWith('Danke für Ihre Zustimmung') || text.startsWith('Thank you for your consent');

/** Texts sent to `to`, besides the confirmation of the consent. */
export function textsTo(w: World, to: string): string[] {
  return w.graph.sends
    .filter((s) => s.to === to && s.type === 'text')
    .map((s) => (s.body.text as { body: string }).body)
    .filter((text) => !isConsentConfirmation(text));
}

/** `n` contacts of the channel; every third one without a marketing opt-in
 * and every sixth one withdrawn in the millisecond of its grant (the withdrawal wins), rows written directly. */
export async function seedContacts(w: World, n: number, channelId = 'wa-main'): Promise<{ optedIn: number }> {
  const db = w.sparsam.store.db;
  const inbox = await db
    .selectFrom('channels')
    .select('inbox_id')
    .where('id', '=', channelId)
    .executeTakeFirstOrThrow();
  const now = w.clock.now().getTime() - 60_000;
  let optedIn = 0;
  for (let i = 0; i < n; i += 200) {
    const contacts = [];
    const consents = [];
    for (let j = i; j < Math.min(n, i + 200); j++) {
      const id = newId();
      contacts.push({
        id,
        channel_id: channelId,
        inbox_id: inbox.inbox_id,
        lookup_hash: randomBytes(32).toString('hex'),
        label_seq: 100_000 + j,
        address_enc: randomBytes(40),
        profile_name_enc: null,
        created_at: now,
        last_inbound_at: null,
      });
      if (j % 3 === 2) continue;
      const grant = { contact_id: id, channel_id: channelId, purpose: 'marketing' as const, notice_version: null };
      consents.push({
        ...grant,
        id: newId(),
        action: 'grant' as const,
        method: 'import',
        evidence_message_id: null,
        evidence_enc: null,
        at: now,
      });
      if (j % 3 === 1 && j % 2 === 0) {
        // Withdrawn in the same millisecond: the withdrawal wins.
        consents.push({
          ...grant,
          id: newId(),
          action: 'withdraw' as const,
          method: 'keyword:STOP',
          evidence_message_id: null,
          evidence_enc: null,
          at: now,
        });
      } else optedIn += 1;
    }
    await db.insertInto('contacts').values(contacts).execute();
    if (consents.length) await db.insertInto('consent_events').values(consents).execute();
  }
  return { optedIn };
}
