/**
 * Message search: how long one search takes when it has to decrypt its whole bound (the newest 10,000 messages of
 * the newest conversations the viewer may see), beside a plain in-memory search of the same texts as the baseline.
 *
 *   node --import tsx bench/search.ts [--dialect sqlite|postgres] [--conversations 550] [--per 20] [--runs 7]
 *
 * The store holds more messages than the bound (550 × 20 = 11,000 by default), so the search stops at the bound and
 * says so (`limited`). The needle occurs in no message: every message in the bound is decrypted and compared, the
 * worst case. The baseline holds the same 10,000 texts in plain text in an array and does
 * `text.toLowerCase().includes(needle)` over it (what a plaintext inbox would do in memory). Figures are medians.
 * The last line is one JSON object: searchMs, baselineMs, ratio, bound, limited.
 */
import { ALL_INBOXES } from '../src/core/teams/inbox-scope.ts';
import { parseArgs } from 'node:util';
import { InboxService, SEARCH_BOUND } from '../src/core/inbox/inbox.service.ts';
import type { InboxDeps } from '../src/core/inbox/inbox.ports.ts';
import { openMessageContent } from '../src/core/inbox/message-content.ts';
import { formatLabel } from '../src/core/privacy/pseudonym/contact-directory.ts';
import { ConversationStore } from '../src/store/sql/conversation.store.ts';
import { MessageStore } from '../src/store/sql/message.store.ts';
import { ProviderRefs } from '../src/store/sql/provider-ref.ts';
import { median, privacyWorld } from './privacy-fixtures.ts';

export interface SearchBenchResult {
  searchMs: number;
  baselineMs: number;
  ratio: number;
  bound: number;
  scanned: number;
  limited: boolean;
}

export async function runSearchBench(
  dialect: string,
  conversations: number,
  per: number,
  runs: number,
): Promise<SearchBenchResult> {
  const world = await privacyWorld(dialect, {});
  try {
    const start = Date.UTC(2026, 0, 1);
    const ids: string[] = [];
    for (let c = 0; c < conversations; c++) {
      ids.push((await world.addConversation('service', per, 'open', start + c * 1000)).conversationId);
    }
    const inbox = new InboxService({
      clock: world.clock,
      conversations: new ConversationStore(world.store.db),
      messages: new MessageStore(world.store.db, new ProviderRefs(Buffer.alloc(32, 7))),
      keys: world.keys,
      audit: world.audit,
      channels: { get: () => undefined },
      inboxes: { get: async () => ({ labelPrefix: 'Anfrage', language: 'de', retention: {} }) },
      formatLabel,
    } as unknown as InboxDeps);
    const principal = { kind: 'token', id: 'bench', role: 'agent', scope: ALL_INBOXES } as const;

    // The baseline's texts: the same messages the search decrypts, held in plain text.
    const plain: string[] = [];
    const messages = new MessageStore(world.store.db, new ProviderRefs(Buffer.alloc(32, 7)));
    for (const m of await messages.listNewestSealed(ids, SEARCH_BOUND.messages)) {
      const key = await world.keys.existingDataKey('conversation', m.conversation_id);
      plain.push(openMessageContent(key!, m.id, m.body_enc!).text ?? '');
    }

    const needle = 'Zahnriemen';
    const searchTimes: number[] = [];
    const baselineTimes: number[] = [];
    let last = { limited: false, scanned: 0 };
    for (let r = 0; r < runs + 1; r++) {
      let t = performance.now();
      const result = await inbox.searchConversations(principal as never, { q: needle });
      const searchMs = performance.now() - t;
      if (result.items.length !== 0) throw new Error('the needle must occur nowhere');
      last = { limited: result.limited, scanned: result.scanned.messages };
      t = performance.now();
      const q = needle.toLowerCase();
      let hits = 0;
      for (const text of plain) if (text.toLowerCase().includes(q)) hits += 1;
      const baselineMs = performance.now() - t;
      if (hits !== 0) throw new Error('the needle must occur nowhere');
      if (r > 0) {
        // the first run warms up both
        searchTimes.push(searchMs);
        baselineTimes.push(baselineMs);
      }
    }
    const searchMs = median(searchTimes);
    const baselineMs = median(baselineTimes);
    return {
      searchMs: Math.round(searchMs * 10) / 10,
      baselineMs: Math.round(baselineMs * 100) / 100,
      ratio: Math.round((searchMs / baselineMs) * 10) / 10,
      bound: SEARCH_BOUND.messages,
      scanned: last.scanned,
      limited: last.limited,
    };
  } finally {
    await world.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      dialect: { type: 'string', default: 'sqlite' },
      conversations: { type: 'string', default: '550' },
      per: { type: 'string', default: '20' },
      runs: { type: 'string', default: '7' },
    },
  });
  const conversations = Number(values.conversations);
  const per = Number(values.per);
  const result = await runSearchBench(values.dialect!, conversations, per, Number(values.runs));
  console.log(`\n### Message search (${values.dialect}, ${conversations * per} messages stored)\n`);
  console.log('| | messages compared | median ms | goal |');
  console.log('|---|---:|---:|---|');
  console.log(
    `| sparsam (decrypt in memory, bound ${result.bound}) | ${result.scanned} | ${result.searchMs} | ≤ 300 ms |`,
  );
  console.log(`| plain in-memory baseline (plain texts in an array) | ${result.scanned} | ${result.baselineMs} | |`);
  console.log(`\nsparsam / baseline: ${result.ratio}×; bound reached: ${result.limited ? 'yes' : 'no'}\n`);
  console.log(JSON.stringify(result));
}
