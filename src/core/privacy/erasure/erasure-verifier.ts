import { openFieldText } from '../keys/field-cipher.ts';
import type { KeyService } from '../keys/key.service.ts';
import type { ContactDirectory } from '../pseudonym/contact-directory.ts';

/** What an old copy of the main database holds about subjects: ids, lookup hashes and sealed addresses only. */
export interface CopiedSubjects {
  contacts: { id: string; channelId: string; lookupHash: string; addressEnc: Uint8Array }[];
  conversations: { id: string; contactId: string }[];
  /** The key epoch the copy was made in, when it says so (a `sparsam backup create` manifest). */
  epoch?: number | undefined;
}

/** The result of checking an old copy against today: a data protection officer keeps it as proof. */
export interface ErasureVerification {
  /** Subjects (contacts and conversations) in the copy that no longer exist today. */
  erased: number;
  erasedContacts: number;
  erasedConversations: number;
  /** Erased subjects whose content in the copy today's secrets still open (their data key still exists). */
  erasedButOpenable: number;
  /**
   * Erased contacts that today's secrets can re-identify: the copy's lookup hashes were made under a pepper that
   * still exists (an address can be found by trying candidates), or one equals a contact's hash today (linkable).
   */
  erasedButReidentifiable: number;
  /** True when the copy's lookup hashes are under a pepper that still exists (the copy is younger than an epoch). */
  copyPepperLive: boolean;
  /** Subjects in the copy that still exist today (not erased). */
  live: number;
  epochToday: number | undefined;
}

export interface ErasureVerifierDeps {
  keys: KeyService;
  contacts: ContactDirectory;
  /** Whether a conversation exists today. */
  conversationExists(id: string): Promise<boolean>;
  /** The channel kind of a channel id (for recomputing lookup hashes), or undefined. */
  channelKind(channelId: string): Promise<string | undefined>;
}

const ADDRESS_AAD = (id: string) => ({ table: 'contacts', rowId: id, column: 'address_enc' });

/**
 * Proves that erasure reached an old copy of the main database: reads the copy with today's secrets only (today's
 * key store, master key and epoch; never the copy's key store) and counts what of the erased subjects can still be
 * opened or re-identified. After one key epoch both counts are 0.
 */
export async function verifyErasureOfCopy(
  copy: CopiedSubjects,
  deps: ErasureVerifierDeps,
): Promise<ErasureVerification> {
  const { keys, contacts } = deps;
  await keys.init();
  let erasedContacts = 0;
  let erasedConversations = 0;
  let openable = 0;
  let live = 0;
  let copyPepperLive = copy.epoch !== undefined && keys.holdsEpoch(copy.epoch);
  const erasedHashes: { channelId: string; hash: string }[] = [];
  for (const c of copy.contacts) {
    const today = await contacts.findById(c.id);
    if (today) {
      live++;
      if (!copyPepperLive) copyPepperLive = await pepperStillLive(c, deps);
      continue;
    }
    erasedContacts++;
    erasedHashes.push({ channelId: c.channelId, hash: c.lookupHash });
    const key = await keys.existingDataKey('contact', c.id);
    if (key) {
      try {
        openFieldText(key, c.addressEnc, ADDRESS_AAD(c.id));
        openable++;
      } catch {
        // A key of that owner exists but does not open this copy's ciphertext.
      }
    }
  }
  for (const c of copy.conversations) {
    if (await deps.conversationExists(c.id)) {
      live++;
      continue;
    }
    erasedConversations++;
    if (await keys.existingDataKey('conversation', c.id)) openable++;
  }
  let reidentifiable = 0;
  for (const e of erasedHashes) {
    if (copyPepperLive || (await contacts.findByLookupHash(e.channelId, e.hash))) reidentifiable++;
  }
  return {
    erased: erasedContacts + erasedConversations,
    erasedContacts,
    erasedConversations,
    erasedButOpenable: openable,
    erasedButReidentifiable: reidentifiable,
    copyPepperLive,
    live,
    epochToday: keys.epoch,
  };
}

/** A contact that exists in the copy and today: is the copy's hash one of today's hashes of its address? */
async function pepperStillLive(c: CopiedSubjects['contacts'][number], deps: ErasureVerifierDeps): Promise<boolean> {
  const key = await deps.keys.existingDataKey('contact', c.id);
  const kind = await deps.channelKind(c.channelId);
  if (!key || !kind) return false;
  let address: string;
  try {
    address = openFieldText(key, c.addressEnc, ADDRESS_AAD(c.id));
  } catch {
    return false;
  }
  return (await deps.contacts.lookupHashes(kind, address)).includes(c.lookupHash);
}
