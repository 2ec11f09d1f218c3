import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/store/postgres/postgres.dialect.ts';
import type { Database } from '../../src/store/database.ts';
import { MessageStore } from '../../src/store/sql/message.store.ts';
import { ProviderRefs } from '../../src/store/sql/provider-ref.ts';
import { newId } from '../../src/shared/ids.ts';
import { openTestStore, postgresAvailable, type TestStore } from '../support/stores.ts';

type Report = Parameters<MessageStore['advanceOrParkStatuses']>[0][number];

describe.runIf(postgresAvailable)('delivery statuses of two instances for the same messages [postgres]', () => {
  let t: TestStore;
  let db: Kysely<Database>;
  const refs = new ProviderRefs(randomBytes(32));

  beforeAll(async () => {
    t = await openTestStore('postgres');
    // A short deadlock timeout, so that a deadlock shows within the test instead of after a second each.
    const url = new URL(t.env.SPARSAM_DATABASE_URL!);
    url.searchParams.set('options', '-c deadlock_timeout=20ms');
    db = (await openPostgres<Database>({ url: url.toString(), max: 4 })).db;
  });
  afterAll(async () => {
    await db?.destroy();
    await t?.cleanup();
  });

  async function sentMessages(ids: string[]): Promise<void> {
    const now = Date.now();
    await new MessageStore(db, refs).insertManyUnlessDuplicate(
      ids.map((providerId) => ({
        id: newId(),
        conversation_id: 'c-1',
        channel_id: 'wa-main',
        direction: 'out' as const,
        kind: 'text',
        provider_message_id: providerId,
        status: 'sent' as const,
        body_enc: null,
        media_id: null,
        author_id: null,
        error_code: null,
        error_reason: null,
        created_at: now,
        updated_at: now,
        edited: false,
        deleted: false,
        handled: true,
      })),
    );
  }

  const report = (providerMessageId: string, status: Report['status']): Report => ({
    channelId: 'wa-main',
    providerMessageId,
    status,
    error: undefined,
    statusAt: Date.now(),
  });

  it('never deadlock, though each group reaches the two messages in the opposite order', async () => {
    const failures: unknown[] = [];
    for (let round = 0; round < 25; round++) {
      const a = `wamid.A${round}`;
      const b = `wamid.B${round}`;
      await sentMessages([a, b]);
      // Each group's first round leaves one message alone (a repeated "sent") and moves the other; its second round
      // moves the first: A then B for one group, B then A for the other.
      const groups = [
        [report(b, 'sent'), report(a, 'delivered'), report(b, 'read')],
        [report(a, 'sent'), report(b, 'delivered'), report(a, 'read')],
      ];
      const results = await Promise.allSettled(
        groups.map((statuses) =>
          db
            .transaction()
            .execute((tx) => new MessageStore(tx, refs).advanceOrParkStatuses(statuses, Date.now(), Date.now() + 1000)),
        ),
      );
      for (const r of results) if (r.status === 'rejected') failures.push(r.reason);
      const rows = await db
        .selectFrom('messages')
        .select(['provider_message_id', 'status'])
        .where('provider_message_id', 'in', [refs.ref(a), refs.ref(b)])
        .execute();
      // Both groups' statuses took effect: each message read, none stuck at delivered by a rolled-back group.
      expect(rows.map((r) => r.status)).toEqual(['read', 'read']);
    }
    expect(failures.map((f) => (f as { code?: string }).code)).toEqual([]);
    expect((await sql<{ n: number }>`select count(*)::int as n from messages`.execute(db)).rows[0]!.n).toBe(50);
  });
});
