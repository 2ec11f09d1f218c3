import type { ContactRecord, ConversationRecord } from '../../core/ports/model.ts';
import { sql, type Kysely, type Transaction } from 'kysely';
import { AppError } from '../../shared/app-error.ts';
import type { ConversationRow, Database } from '../database.ts';
import { PreparedQuery, preparedBySize } from './prepared-query.ts';
import {
  CONTACT_COLUMNS,
  CONVERSATION_COLUMNS,
  CURRENT_CONVERSATION_STATES,
  splitJoinedRow,
  toConversation,
} from './records.ts';
import type { ContactPort } from '../../core/ports/contact.port.ts';

class AlreadyExists extends Error {}

async function takeSeq(db: Kysely<Database> | Transaction<Database>, inboxId: string): Promise<number> {
  return takeSeqs(db, inboxId, 1);
}

/** Takes `count` label numbers of an inbox at once; returns the first. */
async function takeSeqs(db: Kysely<Database> | Transaction<Database>, inboxId: string, count: number): Promise<number> {
  // One UPDATE … RETURNING: atomic on SQLite (single writer) and PostgreSQL (row lock), no read-modify-write race.
  const row = await db
    .updateTable('inboxes')
    .set((eb) => ({ next_seq: eb('next_seq', '+', count) }))
    .where('id', '=', inboxId)
    .returning('next_seq')
    .executeTakeFirst();
  if (!row) throw new AppError('NOT_FOUND', `inbox ${inboxId} does not exist`);
  return Number(row.next_seq) - count;
}

/** ContactPort over the main database. */
export class ContactStore implements ContactPort {
  constructor(private readonly db: Kysely<Database>) {}

  findByLookup(channelId: string, lookupHash: string): Promise<ContactRecord | undefined> {
    return this.db
      .selectFrom('contacts')
      .selectAll()
      .where('channel_id', '=', channelId)
      .where('lookup_hash', '=', lookupHash)
      .executeTakeFirst();
  }

  async findByLookupsWithCurrent(
    channelId: string,
    lookupHashes: readonly string[],
  ): Promise<{ contact: ContactRecord; current: ConversationRecord | undefined }[]> {
    const out: { contact: ContactRecord; current: ConversationRecord | undefined }[] = [];
    for (let i = 0; i < lookupHashes.length; i += 500) {
      const hashes = lookupHashes.slice(i, i + 500);
      const { rows } = await this.#withCurrent(hashes.length).execute(this.db, channelId, ...hashes);
      for (const row of rows as Record<string, unknown>[]) {
        const { own: contact, joined } = splitJoinedRow(row);
        out.push({
          contact: contact as unknown as ContactRecord,
          current: row.c__id == null ? undefined : toConversation(joined.get('c') as unknown as ConversationRow),
        });
      }
    }
    return out;
  }

  /** The query of {@link findByLookupsWithCurrent} for `n` hashes, built and compiled once (a webhook group's read). */
  readonly #withCurrent = preparedBySize(
    (n) =>
      new PreparedQuery(n + 1, (db, channelId: string, ...hashes: string[]) =>
        db
          .selectFrom('contacts as k')
          .leftJoin('conversations as c', (join) =>
            join.onRef('c.contact_id', '=', 'k.id').on('c.state', 'in', CURRENT_CONVERSATION_STATES),
          )
          .select(CONTACT_COLUMNS.map((column) => sql.ref(`k.${column}`).as(column)))
          .select(CONVERSATION_COLUMNS.map((column) => sql.ref(`c.${column}`).as(`c__${column}`)))
          .where('k.channel_id', '=', channelId)
          .where('k.lookup_hash', 'in', hashes),
      ),
  );

  findById(id: string): Promise<ContactRecord | undefined> {
    return this.db.selectFrom('contacts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async createWithLabel(row: Omit<ContactRecord, 'label_seq'>): Promise<{ contact: ContactRecord; created: boolean }> {
    try {
      const contact = await this.db.transaction().execute(async (tx) => {
        const existing = await tx
          .selectFrom('contacts')
          .select('id')
          .where('channel_id', '=', row.channel_id)
          .where('lookup_hash', '=', row.lookup_hash)
          .executeTakeFirst();
        if (existing) throw new AlreadyExists();
        const full: ContactRecord = { ...row, label_seq: await takeSeq(tx, row.inbox_id) };
        const inserted = await tx
          .insertInto('contacts')
          .values(full)
          .onConflict((oc) => oc.columns(['channel_id', 'lookup_hash']).doNothing())
          .executeTakeFirst();
        // Lost a race with another instance: roll back (the label number is not used up) and read the winner.
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) throw new AlreadyExists();
        return full;
      });
      return { contact, created: true };
    } catch (error) {
      if (!(error instanceof AlreadyExists)) throw error;
      const contact = await this.findByLookup(row.channel_id, row.lookup_hash);
      if (!contact) throw new AppError('CONFLICT', 'the contact was erased while it was being created; try again');
      return { contact, created: false };
    }
  }

  async createManyWithLabels(rows: readonly Omit<ContactRecord, 'label_seq'>[]): Promise<ContactRecord[] | undefined> {
    if (rows.length === 0) return [];
    try {
      return await this.db.transaction().execute(async (tx) => {
        const byChannel = new Map<string, string[]>();
        for (const r of rows) byChannel.set(r.channel_id, [...(byChannel.get(r.channel_id) ?? []), r.lookup_hash]);
        for (const [channelId, hashes] of byChannel) {
          const existing = await tx
            .selectFrom('contacts')
            .select('id')
            .where('channel_id', '=', channelId)
            .where('lookup_hash', 'in', hashes)
            .executeTakeFirst();
          if (existing) throw new AlreadyExists();
        }
        // Label numbers in inbox order, one increment per inbox (its row lock is held to the commit, as one by one).
        const byInbox = new Map<string, number>();
        for (const r of rows) byInbox.set(r.inbox_id, (byInbox.get(r.inbox_id) ?? 0) + 1);
        const nextOf = new Map<string, number>();
        for (const inboxId of [...byInbox.keys()].sort()) {
          nextOf.set(inboxId, await takeSeqs(tx, inboxId, byInbox.get(inboxId)!));
        }
        const full: ContactRecord[] = rows.map((r) => {
          const seq = nextOf.get(r.inbox_id)!;
          nextOf.set(r.inbox_id, seq + 1);
          return { ...r, label_seq: seq };
        });
        const inserted = await tx
          .insertInto('contacts')
          .values(full)
          .onConflict((oc) => oc.columns(['channel_id', 'lookup_hash']).doNothing())
          .executeTakeFirst();
        // Another instance created one of them meanwhile: nothing of this batch is kept (no label number used up).
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) !== full.length) throw new AlreadyExists();
        return full;
      });
    } catch (error) {
      if (error instanceof AlreadyExists) return undefined;
      throw error;
    }
  }

  nextLabelSeq(inboxId: string): Promise<number> {
    return takeSeq(this.db, inboxId);
  }

  async labelPrefix(inboxId: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('inboxes').select('label_prefix').where('id', '=', inboxId).executeTakeFirst();
    return row?.label_prefix;
  }

  async channelKind(channelId: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('channels').select('kind').where('id', '=', channelId).executeTakeFirst();
    return row?.kind;
  }

  async updateContact(
    id: string,
    patch: Partial<Pick<ContactRecord, 'lookup_hash' | 'address_enc' | 'profile_name_enc' | 'last_inbound_at'>>,
  ): Promise<void> {
    if (Object.keys(patch).length === 0) return;
    await this.db.updateTable('contacts').set(patch).where('id', '=', id).execute();
  }

  listForRepepper(
    afterId: string,
    limit: number,
  ): Promise<Pick<ContactRecord, 'id' | 'channel_id' | 'lookup_hash' | 'address_enc'>[]> {
    return this.db
      .selectFrom('contacts')
      .select(['id', 'channel_id', 'lookup_hash', 'address_enc'])
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  async replaceLookupHash(id: string, fromHash: string, toHash: string): Promise<boolean> {
    const result = await this.db
      .updateTable('contacts')
      .set({ lookup_hash: toHash })
      .where('id', '=', id)
      .where('lookup_hash', '=', fromHash)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
