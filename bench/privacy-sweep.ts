/**
 * Retention sweep benchmark: RetentionSweeper.sweep() erasing M expired messages (default 1,000,000, in closed
 * conversations of P messages each, past erase_at), beside a plain-DELETE baseline in the same database and run:
 * `DELETE FROM messages WHERE conversation_id IN (…)` for an equal set of expired conversations of another inbox
 * (no keys destroyed, no audit, no scrub), followed by deleting those conversations.
 *
 *   node --import tsx bench/privacy-sweep.ts [--dialect sqlite|postgres] [--messages 1000000] [--per-conversation 1000]
 *
 * Goal: ≤ 60 s for 1,000,000 messages.
 */
import { parseArgs } from 'node:util';
import { DAY_MS } from '../src/shared/clock.ts';
import { privacyWorld } from './privacy-fixtures.ts';

const { values } = parseArgs({
  options: {
    dialect: { type: 'string', default: 'sqlite' },
    messages: { type: 'string', default: '1000000' },
    'per-conversation': { type: 'string', default: '1000' },
  },
});
const M = Number(values.messages);
const P = Number(values['per-conversation']);
const conversations = Math.ceil(M / P);
const w = await privacyWorld(values.dialect!, {
  consentTimeoutHours: 24,
  autoCloseAfterDays: 14,
  eraseAfterCloseDays: 7,
  auditRetentionDays: 365,
});
const closedAt = w.clock.now().getTime();
const setup = performance.now();
const baselineIds: string[] = [];
for (let i = 0; i < conversations; i++) {
  await w.addConversation('service', P, 'closed', closedAt);
  baselineIds.push((await w.addConversation('baseline', P, 'closed', closedAt)).conversationId);
  if (i % 100 === 99)
    console.error(`  set-up: ${(i + 1) * P * 2} messages (${((performance.now() - setup) / 1000).toFixed(0)} s)`);
}
// The baseline inbox keeps its conversations for 10 years, so the sweep leaves them to the plain DELETE.
await w.store.db
  .updateTable('inboxes')
  .set({
    settings: JSON.stringify({
      retention: { eraseAfterCloseDays: 3650, autoCloseAfterDays: 0, consentTimeoutHours: 0 },
    }),
  })
  .where('id', '=', 'baseline')
  .execute();
await w.store.db.updateTable('conversations').set({ erase_at: null }).where('inbox_id', '=', 'baseline').execute();
await w.store.scrub();
console.error(`  set-up done in ${((performance.now() - setup) / 1000).toFixed(0)} s`);
w.clock.advance(8 * DAY_MS);

let t = performance.now();
const report = await w.sweeper.sweep();
const sweepMs = performance.now() - t;
if (report.retentionErased !== conversations)
  throw new Error(`swept ${report.retentionErased} conversations, expected ${conversations}`);
const left = await w.store.db
  .selectFrom('messages')
  .select((eb) => eb.fn.countAll<number>().as('n'))
  .where('channel_id', '=', 'wa-service')
  .executeTakeFirstOrThrow();
if (Number(left.n) !== 0) throw new Error(`${left.n} messages left after the sweep`);

t = performance.now();
for (let i = 0; i < baselineIds.length; i += 200) {
  const ids = baselineIds.slice(i, i + 200);
  await w.store.db.transaction().execute(async (tx) => {
    await tx.deleteFrom('messages').where('conversation_id', 'in', ids).execute();
    await tx.deleteFrom('conversations').where('id', 'in', ids).execute();
  });
}
const plainMs = performance.now() - t;

console.log(
  `dialect ${values.dialect}, ${conversations * P} expired messages in ${conversations} conversations of ${P}`,
);
console.log(
  `  sweep (keys destroyed, rows deleted, WAL scrubbed per 200, audit receipt each): ${(sweepMs / 1000).toFixed(2)} s`,
);
console.log(
  `  plain DELETE baseline (same row count, batches of 200 conversations):          ${(plainMs / 1000).toFixed(2)} s`,
);
console.log(
  `  ratio sweep / plain delete: ${(sweepMs / plainMs).toFixed(2)}x   goal ≤ 60 s for 1,000,000: ${conversations * P >= 1_000_000 ? (sweepMs <= 60_000 ? 'met' : 'NOT met') : 'not measured at full size'}`,
);
await w.close();
