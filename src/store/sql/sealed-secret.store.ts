import type { Kysely } from 'kysely';
import type { SealedSecretPort } from '../../core/ports/sealed-secret.port.ts';
import type { KeystoreDatabase } from '../database.ts';

/** SealedSecretPort over the key store database (`store.keys`). */
export class SealedSecretStore implements SealedSecretPort {
  constructor(private readonly db: Kysely<KeystoreDatabase>) {}

  async find(name: string): Promise<Uint8Array | undefined> {
    const row = await this.db.selectFrom('sealed_secrets').select('sealed').where('name', '=', name).executeTakeFirst();
    return row ? new Uint8Array(row.sealed) : undefined;
  }

  async put(name: string, sealed: Uint8Array, at: number): Promise<void> {
    await this.db
      .insertInto('sealed_secrets')
      .values({ name, sealed: Buffer.from(sealed), sealed_at: at })
      .onConflict((oc) => oc.column('name').doUpdateSet({ sealed: Buffer.from(sealed), sealed_at: at }))
      .execute();
  }
}
