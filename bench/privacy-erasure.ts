/**
 * Erasure benchmark: ErasureService.eraseContact on a contact whose conversation holds N messages (default 10,000),
 * beside a plain `DELETE FROM messages WHERE conversation_id = ?` on a conversation of the same size, in the same
 * database and run. The store holds other conversations too (background), so indexes are not trivially small.
 *
 *   node --import tsx bench/privacy-erasure.ts [--dialect sqlite|postgres] [--messages 10000] [--runs 5]
 *
 * eraseContact = destroy the data keys in the key store, delete messages, media, conversation, consent and contact
 * in one transaction (SQLite secure_delete on), checkpoint the WAL (scrub), append the audit receipt.
 * Goal: ≤ 60 ms on SQLite for 10,000 messages.
 */
import { parseArgs } from 'node:util';
import { median, privacyWorld } from './privacy-fixtures.ts';

const { values } = parseArgs({
  options: {
    dialect: { type: 'string', default: 'sqlite' },
    messages: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '5' },
    background: { type: 'string', default: '50000' },
  },
});
const N = Number(values.messages);
const runs = Number(values.runs);
const w = await privacyWorld(values.dialect!, {
  consentTimeoutHours: 24,
  autoCloseAfterDays: 14,
  eraseAfterCloseDays: 0,
  auditRetentionDays: 365,
});
const now = w.clock.now().getTime();
const background = Number(values.background);
for (let i = 0; i < background; i += 5000)
  await w.addConversation('service', Math.min(5000, background - i), 'open', now);
await w.store.scrub();

const erase: number[] = [];
const plain: number[] = [];
for (let r = 0; r < runs; r++) {
  const target = await w.addConversation('service', N, 'open', now);
  const control = await w.addConversation('baseline', N, 'open', now);
  await w.store.scrub();
  // Alternate the order so neither side always runs on a warmer cache.
  const doPlain = async () => {
    const t = performance.now();
    await w.store.db.deleteFrom('messages').where('conversation_id', '=', control.conversationId).execute();
    plain.push(performance.now() - t);
  };
  const doErase = async () => {
    const t = performance.now();
    const receipt = await w.erasure.eraseContact(target.contactId, { actor: 'system', reason: 'dsar' });
    erase.push(performance.now() - t);
    if (receipt.counts.messages !== N) throw new Error(`erased ${receipt.counts.messages} messages, expected ${N}`);
  };
  if (r % 2) {
    await doPlain();
    await doErase();
  } else {
    await doErase();
    await doPlain();
  }
  await w.store.scrub();
}
const e = median(erase);
const p = median(plain);
console.log(
  `dialect ${values.dialect}, ${N} messages per contact, ${background} background messages, ${runs} runs (median)`,
);
console.log(`  eraseContact (keys + rows + scrub + audit receipt): ${e.toFixed(1)} ms`);
console.log(`  plain DELETE FROM messages WHERE conversation_id:  ${p.toFixed(1)} ms`);
console.log(
  `  ratio erase / plain delete: ${(e / p).toFixed(2)}x` +
    (values.dialect === 'sqlite' ? `   goal ≤ 60 ms on SQLite: ${e <= 60 ? 'met' : 'NOT met'}` : ''),
);
await w.close();
