import { AppError } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import type { ManagedChannelPort } from '../ports/managed-channel.port.ts';
import type { ChannelRecord } from '../ports/model.ts';
import type { AuditLog } from '../privacy/audit/audit-log.ts';
import type { ErasureService } from '../privacy/erasure/erasure.service.ts';

/** What the admin screen sends to create or change a channel. */
export interface ChannelDraft {
  id: string;
  kind: string;
  inbox: string;
  enabled?: boolean;
  /** Non-secret keys of the kind, by name. */
  settings: Record<string, unknown>;
  /** Secret keys of the kind, by name; a key left out keeps its current value (edit) or is required (create). */
  secrets: Record<string, string>;
}

/** A draft checked against its kind's configuration schema (by the channel modules, handed in). */
export interface ValidatedDraft<C> {
  config: C;
  settings: Record<string, unknown>;
  secrets: Record<string, string>;
  /** Secrets sparsam generated (a verify token left empty): returned once, never shown again. */
  generated: Record<string, string>;
}

/** Seals a channel's secrets for its row, bound to the channel id; opens them again. */
export interface ChannelSecretSealer {
  seal(channelId: string, secrets: Record<string, string>): Uint8Array;
  open(channelId: string, sealed: Uint8Array): Record<string, string>;
}

export interface ChannelAdminDeps<C> {
  port: ManagedChannelPort;
  /** @throws AppError('VALIDATION') */
  validate(draft: ChannelDraft): ValidatedDraft<C>;
  sealer: ChannelSecretSealer;
  /** Channels declared in the configuration file: read-only here. */
  isDeclared(channelId: string): boolean;
  erasure: ErasureService;
  audit: AuditLog;
  clock: Clock;
  /** Tells every instance (this one included) to load the managed channels again. */
  changed(): Promise<void>;
  /** A managed channel that no longer validates (a kind removed, a rule tightened): skipped, content-free warning. */
  warn?(channelId: string, problem: string): void;
}

/** A channel's settings as the edit form shows them: plain settings, and which secrets are set (never their values). */
export interface ManagedChannelDetail {
  id: string;
  kind: string;
  inboxId: string;
  enabled: boolean;
  source: 'config' | 'ui';
  settings: Record<string, unknown>;
  secretsSet: string[];
}

export interface ChannelRemoval {
  id: string;
  contactsErased: number;
  conversationsErased: number;
}

/**
 * Channels managed in the admin screen, without a restart and on every instance: create, change, remove. Secrets
 * are sealed before they reach the database and are never returned (only replaced); a verify token left empty is
 * generated and returned once. Channels declared in the configuration file are read-only. Removing a channel erases
 * its contacts with their conversations (crypto-shredding, receipts in the audit log) before the row goes. Every
 * change is audited (content-free: ids, kind, names of the changed keys) and announced to all instances.
 */
export class ChannelAdminService<C> {
  constructor(private readonly deps: ChannelAdminDeps<C>) {}

  /** The configurations of every managed channel, secrets opened, for the running registry. */
  async loadManaged(): Promise<C[]> {
    const configs: C[] = [];
    for (const row of await this.deps.port.listManaged()) {
      try {
        configs.push(this.deps.validate(this.#draftOf(row, {})).config);
      } catch (error) {
        this.deps.warn?.(row.id, error instanceof AppError ? error.message : 'its secrets cannot be opened');
      }
    }
    return configs;
  }

  async create(draft: ChannelDraft, actor: string): Promise<{ id: string; generated: Record<string, string> }> {
    if (this.deps.isDeclared(draft.id)) {
      throw new AppError('CONFLICT', 'a channel with this id is declared in the configuration file', { field: 'id' });
    }
    if (!(await this.deps.port.inboxExists(draft.inbox))) {
      throw new AppError('VALIDATION', 'no inbox with this id', { field: 'inbox' });
    }
    const valid = this.deps.validate(draft);
    const inserted = await this.deps.port.insertManaged(
      {
        id: draft.id,
        kind: draft.kind,
        inboxId: draft.inbox,
        enabled: draft.enabled ?? true,
        settings: valid.settings,
        secretsSealed: this.deps.sealer.seal(draft.id, valid.secrets),
      },
      this.deps.clock.now().getTime(),
    );
    if (!inserted) throw new AppError('CONFLICT', 'a channel with this id exists already', { field: 'id' });
    await this.deps.audit.append({
      actor,
      action: 'channel.created',
      targetType: 'channel',
      targetId: draft.id,
      details: { kind: draft.kind, inbox: draft.inbox, settings: Object.keys(valid.settings).sort().join(',') },
    });
    await this.deps.changed();
    return { id: draft.id, generated: valid.generated };
  }

  async detail(id: string): Promise<ManagedChannelDetail> {
    const row = await this.deps.port.findChannel(id);
    if (!row) throw new AppError('NOT_FOUND', 'no such channel');
    const secrets = row.secrets_enc ? this.deps.sealer.open(row.id, row.secrets_enc) : {};
    return {
      id: row.id,
      kind: row.kind,
      inboxId: row.inbox_id,
      enabled: row.enabled,
      source: row.source,
      settings: row.settings,
      secretsSet: Object.keys(secrets).sort(),
    };
  }

  /** Changes a managed channel: settings replace the current ones, secrets given replace theirs, others stay. */
  async update(
    id: string,
    change: { inbox?: string; settings?: Record<string, unknown>; secrets?: Record<string, string> },
    actor: string,
  ): Promise<void> {
    const row = await this.#managed(id);
    if (change.inbox !== undefined && !(await this.deps.port.inboxExists(change.inbox))) {
      throw new AppError('VALIDATION', 'no inbox with this id', { field: 'inbox' });
    }
    const replaced = Object.entries(change.secrets ?? {})
      .filter(([, v]) => v !== '')
      .map(([k]) => k);
    const draft = this.#draftOf(row, change.secrets ?? {});
    if (change.inbox !== undefined) draft.inbox = change.inbox;
    if (change.settings !== undefined) draft.settings = change.settings;
    const valid = this.deps.validate(draft);
    await this.deps.port.updateManaged(
      {
        id,
        kind: row.kind,
        inboxId: draft.inbox,
        enabled: row.enabled,
        settings: valid.settings,
        secretsSealed: this.deps.sealer.seal(id, valid.secrets),
      },
      this.deps.clock.now().getTime(),
    );
    const changedKeys = [...new Set([...Object.keys(row.settings), ...Object.keys(valid.settings)])].filter(
      (k) => JSON.stringify(row.settings[k]) !== JSON.stringify(valid.settings[k]),
    );
    await this.deps.audit.append({
      actor,
      action: 'channel.updated',
      targetType: 'channel',
      targetId: id,
      details: {
        kind: row.kind,
        inbox: draft.inbox,
        settings: changedKeys.sort().join(','),
        secretsReplaced: replaced.sort().join(','),
      },
    });
    await this.deps.changed();
  }

  /**
   * Removes a managed channel after the admin typed its id: its contacts are erased with their conversations
   * (keys destroyed first, receipts in the audit log), then its remaining rows and the channel.
   */
  async remove(id: string, confirm: string, actor: string): Promise<ChannelRemoval> {
    await this.#managed(id);
    if (confirm !== id) {
      throw new AppError('VALIDATION', 'type the channel id to confirm the removal', { field: 'confirm' });
    }
    const request = { actor, reason: 'channel-removed' };
    const contacts = await this.deps.port.contactIdsOfChannel(id);
    let conversationsErased = 0;
    for (const contactId of contacts) {
      const receipt = await this.deps.erasure.eraseContact(contactId, request, { deferScrub: true });
      conversationsErased += receipt.counts.conversations;
    }
    const left = await this.deps.port.conversationIdsOfChannel(id);
    if (left.length > 0) {
      const receipts = await this.deps.erasure.eraseConversations(left, request, { deferScrub: true });
      conversationsErased += receipts.filter((r) => !r.alreadyErased).length;
    }
    await this.deps.port.deleteChannel(id);
    await this.deps.erasure.scrub();
    await this.deps.audit.append({
      actor,
      action: 'channel.removed',
      targetType: 'channel',
      targetId: id,
      details: { contactsErased: contacts.length, conversationsErased },
    });
    await this.deps.changed();
    return { id, contactsErased: contacts.length, conversationsErased };
  }

  async #managed(id: string): Promise<ChannelRecord> {
    const row = await this.deps.port.findChannel(id);
    if (!row) throw new AppError('NOT_FOUND', 'no such channel');
    if (row.source !== 'ui' || this.deps.isDeclared(id)) {
      throw new AppError('CONFLICT', 'this channel is declared in the configuration file; change it there');
    }
    return row;
  }

  #draftOf(row: ChannelRecord, newSecrets: Record<string, string>): ChannelDraft {
    const current = row.secrets_enc ? this.deps.sealer.open(row.id, row.secrets_enc) : {};
    const secrets = { ...current };
    for (const [k, v] of Object.entries(newSecrets)) if (v !== '') secrets[k] = v;
    return { id: row.id, kind: row.kind, inbox: row.inbox_id, enabled: row.enabled, settings: row.settings, secrets };
  }
}
