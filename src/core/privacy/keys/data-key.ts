import type { DataKeyOwnerType } from '../../ports/key.port.ts';

/** An unwrapped per-conversation or per-contact data key (32 random bytes). Lives only in memory. */
export interface DataKey {
  /** The key's row id in the key store; part of every ciphertext's associated data. */
  readonly id: string;
  readonly ownerType: DataKeyOwnerType;
  readonly ownerId: string;
  readonly key: Buffer;
}
