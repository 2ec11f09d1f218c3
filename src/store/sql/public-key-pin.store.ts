import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { PublicKeyPinPort } from '../../core/ports/public-key-pin.port.ts';
import type { Database } from '../database.ts';

/**
 * PublicKeyPinPort over the main database. The address (a Threema ID) is stored only as a keyed hash under a key
 * derived from the pseudonym pepper (which outlives master-key rotation), so that the table names no customer.
 */
export class PublicKeyPinStore implements PublicKeyPinPort {
  readonly #key: Buffer;

  constructor(
    private readonly db: Kysely<Database>,
    pepper: Buffer,
    private readonly now: () => number = Date.now,
  ) {
    this.#key = createHmac('sha256', pepper).update('sparsam/public-key-pin').digest();
  }

  #ref(channelId: string, address: string): string {
    return `p1:${createHmac('sha256', this.#key).update(`${channelId}\u0000${address}`).digest('base64url').slice(0, 32)}`;
  }

  async get(channelId: string, address: string): Promise<Uint8Array | undefined> {
    const row = await this.db
      .selectFrom('public_key_pins')
      .select('public_key')
      .where('channel_id', '=', channelId)
      .where('address_ref', '=', this.#ref(channelId, address))
      .executeTakeFirst();
    return row ? new Uint8Array(row.public_key) : undefined;
  }

  async pinIfAbsent(channelId: string, address: string, key: Uint8Array): Promise<void> {
    await this.db
      .insertInto('public_key_pins')
      .values({
        channel_id: channelId,
        address_ref: this.#ref(channelId, address),
        public_key: Buffer.from(key),
        pinned_at: this.now(),
        changes: 0,
      })
      .onConflict((oc) => oc.columns(['channel_id', 'address_ref']).doNothing())
      .execute();
  }

  async replace(channelId: string, address: string, key: Uint8Array): Promise<void> {
    await this.db
      .insertInto('public_key_pins')
      .values({
        channel_id: channelId,
        address_ref: this.#ref(channelId, address),
        public_key: Buffer.from(key),
        pinned_at: this.now(),
        changes: 1,
      })
      .onConflict((oc) =>
        oc.columns(['channel_id', 'address_ref']).doUpdateSet((eb) => ({
          public_key: Buffer.from(key),
          pinned_at: this.now(),
          changes: eb('public_key_pins.changes', '+', 1),
        })),
      )
      .execute();
  }
}
