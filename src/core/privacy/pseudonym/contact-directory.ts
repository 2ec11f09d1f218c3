import { createHmac, randomBytes } from 'node:crypto';
import { AppError } from '../../../shared/app-error.ts';
import type { Clock } from '../../../shared/clock.ts';
import { newId } from '../../../shared/ids.ts';
import type { ContactRecord, ConversationRecord } from '../../ports/model.ts';
import type { ContactPort } from '../../ports/contact.port.ts';
import type { ChannelKindFactsLookup } from '../../channel/channel-kind-facts.ts';
import { openFieldText, sealField } from '../keys/field-cipher.ts';
import type { KeyService } from '../keys/key.service.ts';

/**
 * The form of an address used for the lookup hash, so that "+49 170 1234567" (typed by the DPO) and "491701234567"
 * (a wa_id from a webhook) find the same contact. On kinds whose addresses are phone numbers, spaces, dashes, dots,
 * brackets and a leading + are ignored; other kinds (chat ids, page-scoped ids) are only trimmed.
 */
export function normalizeAddress(address: string, addressIsPhoneNumber: boolean): string {
  const trimmed = address.trim();
  if (addressIsPhoneNumber) {
    const compact = trimmed.replace(/[\s\-().]/g, '').replace(/^\+/, '');
    if (/^\d{3,20}$/.test(compact)) return compact;
  }
  return trimmed;
}

function hashWith(pepper: Buffer, channelKind: string, normalized: string): string {
  return createHmac('sha256', pepper).update(`${channelKind}:${normalized}`, 'utf8').digest('hex');
}

/** "Anfrage 42" / "Request 42": what staff see instead of a phone number. */
export function formatLabel(prefix: string, seq: number): string {
  return `${prefix} ${seq}`;
}

export interface FindOrCreateContact {
  inboxId: string;
  channelId: string;
  channelKind: string;
  address: string;
  profileName?: string | undefined;
}

/** What {@link ContactDirectory.readMany} found: lookup hashes by channel and address, contacts by channel and hash. */
export interface ContactsRead {
  readonly epoch: number | undefined;
  readonly hashes: ReadonlyMap<string, string[]>;
  readonly found: ReadonlyMap<string, { contact: ContactRecord; current: ConversationRecord | undefined }>;
}

/** A contact found or created for a group of messages, with its current conversation where that was read. */
export interface FoundContact {
  contact: ContactRecord;
  created: boolean;
  /** Its open or consent-waiting conversation: null when it has none, undefined when that was not read. */
  current?: ConversationRecord | null;
}

/**
 * Which stored profile names were last seen equal to the name a webhook brought, so that the next webhook of the same
 * customer, with the same name and the same sealed bytes, need not open the name again (a contact's name was opened
 * for every message, about 5 % of a webhook's work). It keeps no name: an HMAC of it under a key made at random when
 * the process starts and never stored, beside a copy of the sealed bytes; a new seal (the name changed, a key
 * rotation) does not match. Bounded; the oldest entry goes first.
 */
class SeenNames {
  readonly #key = randomBytes(32);
  readonly #seen = new Map<string, { sealed: Buffer; digest: Buffer }>();

  constructor(private readonly max: number) {}

  #digest(name: string): Buffer {
    return createHmac('sha256', this.#key).update(name, 'utf8').digest();
  }

  /** Whether `name` was seen equal to this sealed name of this contact. */
  matches(contactId: string, sealed: Uint8Array, name: string): boolean {
    const seen = this.#seen.get(contactId);
    return seen !== undefined && seen.sealed.equals(sealed) && seen.digest.equals(this.#digest(name));
  }

  remember(contactId: string, sealed: Uint8Array, name: string): void {
    this.#seen.delete(contactId);
    if (this.#seen.size >= this.max) this.#seen.delete(this.#seen.keys().next().value!);
    this.#seen.set(contactId, { sealed: Buffer.from(sealed), digest: this.#digest(name) });
  }
}

const ADDRESS_AAD = (id: string) => ({ table: 'contacts', rowId: id, column: 'address_enc' });
const NAME_AAD = (id: string) => ({ table: 'contacts', rowId: id, column: 'profile_name_enc' });

/**
 * Pseudonymous contacts. A contact is found only by `HMAC-SHA256(pepper, channelKind + ":" + address)`; its address
 * and profile name are stored sealed with the contact's own data key (so erasing the contact shreds them), and staff
 * see a per-inbox label number instead.
 */
export class ContactDirectory {
  readonly #seenNames = new SeenNames(10_000);

  constructor(
    private readonly port: ContactPort,
    private readonly keys: KeyService,
    private readonly clock: Clock,
    /** The facts of each channel kind (whether its addresses are phone numbers), from the channel modules. */
    private readonly kinds: ChannelKindFactsLookup,
  ) {}

  /** The lookup hash (hex) of an address on a channel kind, under the current key epoch's pepper. */
  async lookupHash(channelKind: string, address: string): Promise<string> {
    return (await this.lookupHashes(channelKind, address))[0]!;
  }

  /**
   * The lookup hashes of an address under every pepper still live, the current one first: during a key epoch
   * transition a contact not yet re-peppered still carries the previous epoch's hash.
   */
  async lookupHashes(channelKind: string, address: string): Promise<string[]> {
    if (!channelKind) throw new AppError('VALIDATION', 'channel kind is required');
    const normalized = normalizeAddress(address, this.kinds(channelKind)?.addressIsPhoneNumber ?? false);
    if (!normalized) throw new AppError('VALIDATION', 'address must not be empty');
    await this.keys.init();
    return this.keys.contactPeppers.map((pepper) => hashWith(pepper, channelKind, normalized));
  }

  async #findByHashes(channelId: string, hashes: readonly string[]): Promise<ContactRecord | undefined> {
    for (const hash of hashes) {
      const found = await this.port.findByLookup(channelId, hash);
      if (found) return found;
    }
    return undefined;
  }

  /**
   * The contact of an address on a channel, created with the inbox's next label number when new. Safe when two
   * webhooks for the same new address arrive at once (one contact, one label), and while a key epoch begins on
   * another instance (the lookup starts again under the new epoch's pepper). A changed profile name is updated.
   */
  async findOrCreate(
    input: FindOrCreateContact,
    /** The hashes of the address under the given epoch, just looked up and not found (findOrCreateMany). */
    absent?: { epoch: number | undefined; hashes: readonly string[] },
  ): Promise<{ contact: ContactRecord; created: boolean }> {
    for (let attempt = 0; ; attempt++) {
      const epoch = this.keys.epoch;
      const known = attempt === 0 && absent && absent.epoch === epoch;
      const hashes = known ? absent.hashes : await this.lookupHashes(input.channelKind, input.address);
      const existing = known ? undefined : await this.#findByHashes(input.channelId, hashes);
      if (existing) return { contact: await this.#refreshName(existing, input.profileName), created: false };
      const id = newId();
      const key = await this.keys.dataKeyFor('contact', id, { fresh: true });
      if (this.keys.epoch !== epoch && attempt < 3) {
        // A new key epoch began while the address was looked up: contacts may carry its pepper already.
        await this.keys.destroy('contact', id);
        continue;
      }
      return this.#create(input, id, hashes[0]!, key);
    }
  }

  /**
   * Reads the existing contacts of `inputs` with their current conversations and creates nothing: a read that can
   * run beside other reads, for a later {@link findOrCreateMany} of some of them (the inbound group reads its
   * contacts while it looks for redeliveries, and creates only the contacts of the messages it keeps).
   */
  async readMany(inputs: readonly FindOrCreateContact[], earlier?: ContactsRead): Promise<ContactsRead> {
    const epoch = this.keys.epoch;
    const usable = earlier?.epoch === epoch ? earlier : undefined;
    const read = { epoch, hashes: new Map(usable?.hashes), found: new Map(usable?.found) };
    const unread = inputs.filter((i) => !read.hashes.has(`${i.channelId}\0${i.address}`));
    const hashes = await Promise.all(unread.map((i) => this.lookupHashes(i.channelKind, i.address)));
    const byChannel = new Map<string, Set<string>>();
    unread.forEach((input, i) => {
      read.hashes.set(`${input.channelId}\0${input.address}`, hashes[i]!);
      const set = byChannel.get(input.channelId) ?? new Set<string>();
      for (const h of hashes[i]!) set.add(h);
      byChannel.set(input.channelId, set);
    });
    for (const [channelId, set] of byChannel) {
      for (const c of await this.port.findByLookupsWithCurrent(channelId, [...set]))
        read.found.set(`${channelId}\0${c.contact.lookup_hash}`, c);
    }
    return read;
  }

  /**
   * {@link findOrCreate} for several addresses (a group of webhooks): the contacts that exist are found with one
   * query per channel (or taken from `earlier`, a {@link readMany} of these inputs under the same key epoch), together
   * with their current conversations (`current`: null when the contact has none, also for a contact created here;
   * undefined when not known, for a contact another request created meanwhile); the new ones are created together,
   * or one by one as {@link findOrCreate} does (a few at a time). Results in input order.
   */
  async findOrCreateMany(inputs: readonly FindOrCreateContact[], earlier?: ContactsRead): Promise<FoundContact[]> {
    const { epoch, hashes: hashesOf, found } = await this.readMany(inputs, earlier);
    const hashes = inputs.map((i) => hashesOf.get(`${i.channelId}\0${i.address}`)!);
    const out = new Array<FoundContact | undefined>(inputs.length);
    // The current pepper's hash first, as #findByHashes looks.
    const existing = inputs.map((input, i) =>
      hashes[i]!.map((h) => found.get(`${input.channelId}\0${h}`)).find((c) => c !== undefined),
    );
    const absent = inputs.flatMap((_, i) => (existing[i] ? [] : [i]));
    if (absent.length > 1) {
      const created = await this.#createMany(
        absent.map((i) => ({ input: inputs[i]!, hash: hashes[i]![0]! })),
        epoch,
      );
      created?.forEach((contact, j) => (out[absent[j]!] = { contact, created: true, current: null }));
    }
    let next = 0;
    const worker = async () => {
      while (next < inputs.length) {
        const i = next++;
        const input = inputs[i]!;
        const known = existing[i];
        if (out[i]) continue;
        if (known) {
          const contact = await this.#refreshName(known.contact, input.profileName);
          out[i] = { contact, created: false, current: known.current ?? null };
          continue;
        }
        const made = await this.findOrCreate(input, { epoch, hashes: hashes[i]! });
        out[i] = made.created ? { ...made, current: null } : made;
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, inputs.length) }, worker));
    return out as FoundContact[];
  }

  /**
   * New contacts of a group created together: their data keys in one key-store transaction, the contacts with their
   * label numbers in one transaction. Undefined (nothing kept) when a key epoch began meanwhile or another request
   * created one of them first; the caller then creates them one by one.
   */
  async #createMany(
    fresh: readonly { input: FindOrCreateContact; hash: string }[],
    epoch: number | undefined,
  ): Promise<ContactRecord[] | undefined> {
    const ids = fresh.map(() => newId());
    const keys = await this.keys.dataKeysFor('contact', ids);
    const create = async () =>
      this.keys.epoch === epoch
        ? this.port.createManyWithLabels(
            fresh.map(({ input, hash }, j) => this.#newRow(input, ids[j]!, hash, keys.get(ids[j]!)!)),
          )
        : undefined;
    const created = await create().catch(async (error: unknown) => {
      await this.keys.destroyMany('contact', ids);
      throw error;
    });
    if (!created) await this.keys.destroyMany('contact', ids);
    return created;
  }

  /** The row of a new contact: address and profile name sealed with its own data key. */
  #newRow(
    input: FindOrCreateContact,
    id: string,
    hash: string,
    key: Awaited<ReturnType<KeyService['dataKeyFor']>>,
  ): Omit<ContactRecord, 'label_seq'> {
    return {
      id,
      channel_id: input.channelId,
      inbox_id: input.inboxId,
      lookup_hash: hash,
      address_enc: sealField(key, input.address.trim(), ADDRESS_AAD(id)),
      profile_name_enc: input.profileName ? sealField(key, input.profileName, NAME_AAD(id)) : null,
      created_at: this.clock.now().getTime(),
      last_inbound_at: null,
    };
  }

  async #create(
    input: FindOrCreateContact,
    id: string,
    hash: string,
    key: Awaited<ReturnType<KeyService['dataKeyFor']>>,
  ): Promise<{ contact: ContactRecord; created: boolean }> {
    const result = await this.port.createWithLabel(this.#newRow(input, id, hash, key)).catch(async (error: unknown) => {
      await this.keys.destroy('contact', id);
      throw error;
    });
    if (!result.created) {
      // Another request created it first: our key is not needed.
      await this.keys.destroy('contact', id);
      return { contact: await this.#refreshName(result.contact, input.profileName), created: false };
    }
    return result;
  }

  async #refreshName(contact: ContactRecord, profileName: string | undefined): Promise<ContactRecord> {
    if (!profileName) return contact;
    const sealed = contact.profile_name_enc;
    if (sealed && this.#seenNames.matches(contact.id, sealed, profileName)) return contact;
    if ((await this.profileName(contact)) === profileName) {
      if (sealed) this.#seenNames.remember(contact.id, sealed, profileName);
      return contact;
    }
    const key = await this.keys.dataKeyFor('contact', contact.id);
    const profile_name_enc = sealField(key, profileName, NAME_AAD(contact.id));
    await this.port.updateContact(contact.id, { profile_name_enc });
    this.#seenNames.remember(contact.id, profile_name_enc, profileName);
    return { ...contact, profile_name_enc };
  }

  /** The contact of an address, or undefined; never creates anything (used by subject access requests). */
  async findByAddress(channelId: string, channelKind: string, address: string): Promise<ContactRecord | undefined> {
    return this.#findByHashes(channelId, await this.lookupHashes(channelKind, address));
  }

  /**
   * Re-peppering: recomputes every contact's lookup hash under the current key epoch's pepper from its sealed
   * address (contacts whose key is already destroyed are skipped: they are being erased). Page by page, each contact
   * on its own and only while its hash is unchanged, so that it runs online. Returns the number of hashes replaced.
   */
  async repepper(): Promise<number> {
    await this.keys.init();
    const kinds = new Map<string, string | undefined>();
    let replaced = 0;
    let after = '';
    for (;;) {
      const page = await this.port.listForRepepper(after, 500);
      for (const row of page) {
        if (!kinds.has(row.channel_id)) kinds.set(row.channel_id, await this.port.channelKind(row.channel_id));
        const kind = kinds.get(row.channel_id);
        const key = kind ? await this.keys.existingDataKey('contact', row.id) : undefined;
        if (!kind || !key) continue;
        const address = openFieldText(key, row.address_enc, ADDRESS_AAD(row.id));
        const hash = await this.lookupHash(kind, address);
        if (hash !== row.lookup_hash && (await this.port.replaceLookupHash(row.id, row.lookup_hash, hash))) {
          replaced++;
        }
      }
      if (page.length < 500) break;
      after = page[page.length - 1]!.id;
    }
    return replaced;
  }

  /** The contact with exactly this lookup hash today, if any (a hash taken from an old copy). */
  findByLookupHash(channelId: string, hash: string): Promise<ContactRecord | undefined> {
    return this.port.findByLookup(channelId, hash);
  }

  /** The channel kind of a channel id, or undefined when it does not exist. */
  channelKind(channelId: string): Promise<string | undefined> {
    return this.port.channelKind(channelId);
  }

  findById(id: string): Promise<ContactRecord | undefined> {
    return this.port.findById(id);
  }

  /** The contact's address in clear, for sending a reply. Throws when the contact's key was destroyed. */
  async address(contact: ContactRecord): Promise<string> {
    const key = await this.#existingKey(contact.id);
    return openFieldText(key, contact.address_enc, ADDRESS_AAD(contact.id));
  }

  /** The profile name the customer set in the messenger, if the channel sent one. */
  async profileName(contact: ContactRecord): Promise<string | undefined> {
    if (!contact.profile_name_enc) return undefined;
    const key = await this.#existingKey(contact.id);
    return openFieldText(key, contact.profile_name_enc, NAME_AAD(contact.id));
  }

  /** Changes the stored address (the customer changed their number); refused when another contact has it. */
  async updateAddress(contact: ContactRecord, newAddress: string, channelKind?: string): Promise<ContactRecord> {
    const kind = channelKind ?? (await this.#kindOf(contact));
    const hashes = await this.lookupHashes(kind, newAddress);
    const hash = hashes[0]!;
    const other = await this.#findByHashes(contact.channel_id, hashes);
    if (other && other.id !== contact.id) {
      throw new AppError('CONFLICT', 'another contact on this channel already has that address');
    }
    const key = await this.keys.dataKeyFor('contact', contact.id);
    const address_enc = sealField(key, newAddress.trim(), ADDRESS_AAD(contact.id));
    await this.port.updateContact(contact.id, { lookup_hash: hash, address_enc });
    return { ...contact, lookup_hash: hash, address_enc };
  }

  /** Takes the inbox's next label number (for a new conversation of an existing contact). */
  nextLabelSeq(inboxId: string): Promise<number> {
    return this.port.nextLabelSeq(inboxId);
  }

  /** The pseudonym label of a contact ("Anfrage 42"). */
  async label(contact: Pick<ContactRecord, 'inbox_id' | 'label_seq'>): Promise<string> {
    const prefix = (await this.port.labelPrefix(contact.inbox_id)) ?? '#';
    return formatLabel(prefix, contact.label_seq);
  }

  async #existingKey(contactId: string) {
    const key = await this.keys.existingDataKey('contact', contactId);
    if (!key) throw new AppError('NOT_FOUND', 'the contact has been erased');
    return key;
  }

  async #kindOf(contact: ContactRecord): Promise<string> {
    const kind = await this.port.channelKind(contact.channel_id);
    if (!kind) throw new AppError('NOT_FOUND', `channel ${contact.channel_id} does not exist`);
    return kind;
  }
}
