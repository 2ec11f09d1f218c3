import { AppError } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import { newId } from '../../shared/ids.ts';
import type { CampaignRecord, ContactRecord } from '../ports/model.ts';
import { openFieldText, sealField } from '../privacy/keys/field-cipher.ts';
import type { DataKey } from '../privacy/keys/key.service.ts';
import type { MarketingPort } from '../ports/marketing.port.ts';
import type { AuditPort, ConsentPort, TemplateSpec } from '../inbox/inbox.ports.ts';
import { newConversationRow, type OutboundDraft, type Outbox } from '../inbox/outbox.ts';

export interface MarketingDeps {
  port: MarketingPort;
  contacts: {
    findOrCreate(input: {
      inboxId: string;
      channelId: string;
      channelKind: string;
      address: string;
    }): Promise<{ contact: ContactRecord; created: boolean }>;
  };
  consent: ConsentPort & {
    /** The contacts among these whose consent for the purpose is valid now (one query per batch). */
    allowedAmong(contactIds: readonly string[], purpose: 'service' | 'marketing'): Promise<Set<string>>;
    grant(input: {
      contactId: string;
      channelId: string;
      purpose: 'service' | 'marketing';
      noticeVersion: string | null;
      method: string;
      evidence?: string;
    }): Promise<unknown>;
  };
  audit: AuditPort;
  /** Writes the broadcast's messages, their jobs and new conversations, with the campaign's rows. */
  outbox: Outbox;
  clock: Clock;
  channels: { get(id: string): { id: string; kind: string; inboxId: string } | undefined };
  templates: (channelId: string) => Promise<readonly TemplateSpec[]> | readonly TemplateSpec[];
  formatLabel: (prefix: string, seq: number) => string;
  /** Seals a broadcast's template parameters while it is queued (a system data key). */
  keys: { dataKeyFor(ownerType: 'system', ownerId: string): Promise<DataKey> };
  /** Contacts looked at per batch, each batch in its own transaction (default {@link BROADCAST_BATCH}). */
  batchSize?: number;
}

/** Contacts per broadcast batch: one transaction writes at most this many messages, jobs and recipients. */
export const BROADCAST_BATCH = 1000;

/** Recipients read per page by the report. */
const REPORT_PAGE = 1000;

const PARAMETERS_KEY = 'campaign-parameters';
const parametersAad = (id: string) => ({ table: 'campaigns', rowId: id, column: 'parameters_enc' });

export interface BroadcastInput {
  channelId: string;
  template: { name: string; language: string; parameters: string[] };
}

export interface CampaignReport {
  id: string;
  channelId: string;
  template: { name: string; language: string };
  createdAt: number;
  createdBy: string;
  recipients: number;
  /** Contacts of the channel left out because their marketing consent was not valid at the time. */
  skipped: number;
  queued: number;
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  /** Messages gone with an erased conversation. */
  erased: number;
  /** Recipients whose marketing consent is no longer valid now (unsubscribed since). */
  optedOut: number;
}

const PLACEHOLDER = /\{\{(\d+)\}\}/g;

/** How many parameters a template body takes ({{1}} … {{n}}). */
export function templateArity(body: string): number {
  let max = 0;
  for (const m of body.matchAll(PLACEHOLDER)) max = Math.max(max, Number(m[1]));
  return max;
}

/**
 * Marketing (Art. 6(1)(a), Art. 7, Art. 21 GDPR): consent imported with evidence, broadcasts of approved marketing
 * templates to the contacts whose marketing consent is valid at the moment of sending, and content-free reports.
 *
 * A broadcast message goes into the contact's current conversation (open or waiting), or into a new conversation of
 * that contact: open when the contact has a service consent (the answer lands where the agent sees the broadcast,
 * under the usual auto-close and erasure), else waiting for consent (a reply gets the privacy notice first; the
 * consent timeout erases it otherwise). Recipients are stored by contact and message id only.
 */
export class MarketingService {
  constructor(private readonly deps: MarketingDeps) {}

  /** Records a marketing consent collected elsewhere (a form, a paper card), with its evidence sealed. */
  async importConsent(
    input: { channelId: string; address: string; evidence: string; collectedAt: number },
    actor: string,
  ): Promise<{ contactId: string; created: boolean }> {
    const channel = this.deps.channels.get(input.channelId);
    if (!channel) throw new AppError('NOT_FOUND', 'no such channel');
    const now = this.deps.clock.now().getTime();
    if (!Number.isFinite(input.collectedAt) || input.collectedAt > now) {
      throw new AppError('VALIDATION', 'collectedAt must be a time in the past', { field: 'collectedAt' });
    }
    const { contact, created } = await this.deps.contacts.findOrCreate({
      inboxId: channel.inboxId,
      channelId: channel.id,
      channelKind: channel.kind,
      address: input.address,
    });
    await this.deps.consent.grant({
      contactId: contact.id,
      channelId: channel.id,
      purpose: 'marketing',
      noticeVersion: null,
      method: 'import',
      evidence: `collected ${new Date(input.collectedAt).toISOString()}: ${input.evidence}`,
    });
    await this.deps.audit.append({
      actor,
      action: 'consent.grant',
      targetType: 'contact',
      targetId: contact.id,
      details: { purpose: 'marketing', method: 'import', channelId: channel.id, collectedAt: input.collectedAt },
    });
    return { contactId: contact.id, created };
  }

  /** Queues one approved marketing template to every contact of the channel with valid marketing consent now. */
  async broadcast(input: BroadcastInput, actor: string): Promise<CampaignReport> {
    const channel = this.deps.channels.get(input.channelId);
    if (!channel) throw new AppError('NOT_FOUND', 'no such channel');
    const spec = (await this.deps.templates(channel.id)).find(
      (t) => t.name === input.template.name && t.language === input.template.language,
    );
    if (!spec) {
      throw new AppError('VALIDATION', 'the template is not configured (approved) for this channel', {
        field: 'template',
      });
    }
    if (spec.category !== 'MARKETING') {
      throw new AppError('VALIDATION', 'broadcasts use approved templates of category MARKETING only', {
        field: 'template',
      });
    }
    if (templateArity(spec.body) !== input.template.parameters.length) {
      throw new AppError('VALIDATION', `the template takes ${templateArity(spec.body)} parameters`, {
        field: 'template.parameters',
      });
    }
    const now = this.deps.clock.now().getTime();
    const id = newId();
    const key = await this.deps.keys.dataKeyFor('system', PARAMETERS_KEY);
    const campaign: CampaignRecord = {
      id,
      channel_id: channel.id,
      template_name: spec.name,
      template_language: spec.language,
      created_by: actor,
      created_at: now,
      skipped: 0,
      state: 'queueing',
      cursor: null,
      parameters_enc: sealField(key, JSON.stringify(input.template.parameters), parametersAad(id)),
    };
    await this.deps.port.insertCampaign(campaign);
    const { recipients, skipped } = await this.#queueBatches(campaign);
    await this.deps.audit.append({
      actor,
      action: 'marketing.broadcast',
      targetType: 'campaign',
      targetId: campaign.id,
      details: { channelId: channel.id, template: spec.name, language: spec.language, recipients, skipped },
    });
    return (await this.report(campaign.id))!;
  }

  /**
   * Continues every broadcast a stopped process left half-queued (called at start): from the cursor on, so that no
   * contact gets the broadcast twice. Returns the ids of the campaigns finished.
   */
  async resumeQueueing(): Promise<string[]> {
    const done: string[] = [];
    for (const campaign of await this.deps.port.queueingCampaigns()) {
      const { recipients, skipped } = await this.#queueBatches(campaign);
      await this.deps.audit.append({
        actor: 'system',
        action: 'marketing.broadcast-resumed',
        targetType: 'campaign',
        targetId: campaign.id,
        details: { channelId: campaign.channel_id, recipients, skipped },
      });
      done.push(campaign.id);
    }
    return done;
  }

  /**
   * Walks the channel's contacts in id order from the campaign's cursor, {@link BROADCAST_BATCH} at a time. Per
   * batch: one query for the marketing consents, one for the current conversations, one for the service consents
   * of those without one; then one transaction writes the batch's conversations, messages, jobs and recipients and
   * moves the cursor (compare-and-set: a batch another instance wrote meanwhile is not written twice). Memory holds
   * one batch. Returns the recipients and skipped contacts this call added.
   */
  async #queueBatches(campaign: CampaignRecord): Promise<{ recipients: number; skipped: number }> {
    const batchSize = this.deps.batchSize ?? BROADCAST_BATCH;
    if (!campaign.parameters_enc) throw new AppError('INTERNAL', 'a queueing broadcast has no parameters');
    const key = await this.deps.keys.dataKeyFor('system', PARAMETERS_KEY);
    const parameters = JSON.parse(openFieldText(key, campaign.parameters_enc, parametersAad(campaign.id))) as string[];
    const content = {
      template: { name: campaign.template_name, language: campaign.template_language, parameters },
      extra: { broadcast: true },
    };
    let cursor = campaign.cursor;
    let recipients = 0;
    let skipped = 0;
    for (;;) {
      const contacts = await this.deps.port.channelContactsAfter(campaign.channel_id, cursor, batchSize);
      if (contacts.length === 0) break;
      const marketing = await this.deps.consent.allowedAmong(
        contacts.map((c) => c.id),
        'marketing',
      );
      const allowed = contacts.filter((c) => marketing.has(c.id));
      const current = new Map(
        (await this.deps.port.currentConversations(allowed.map((c) => c.id))).map((c) => [c.contact_id, c]),
      );
      const service = await this.deps.consent.allowedAmong(
        allowed.filter((c) => !current.has(c.id)).map((c) => c.id),
        'service',
      );
      const now = this.deps.clock.now().getTime();
      const drafts: (OutboundDraft & { contactId: string })[] = allowed.map((contact) => {
        const conversation = current.get(contact.id);
        return {
          contactId: contact.id,
          // Without a service consent the new conversation waits for it like any first contact: hidden from
          // staff, a reply gets the privacy notice first, and the consent timeout erases it if the customer never
          // agrees.
          conversation:
            conversation ??
            newConversationRow({
              inboxId: contact.inbox_id,
              channelId: contact.channel_id,
              contact,
              state: service.has(contact.id) ? 'open' : 'pending_consent',
              now,
            }),
          opens: !conversation,
          kind: 'template',
          content: { template: { ...content.template, parameters: [...parameters] }, extra: { ...content.extra } },
        };
      });
      const from = cursor;
      const to = contacts[contacts.length - 1]!.id;
      const batchSkipped = contacts.length - allowed.length;
      // The batch's conversations, messages, jobs and recipients and the cursor in one transaction.
      const queued = await this.deps.outbox.queue(drafts, {
        guard: (tx) => tx.marketing.advanceCampaign({ id: campaign.id, from, to, skipped: batchSkipped }),
        alongside: async (tx, written) => {
          for (const [i, draft] of drafts.entries()) {
            if (draft.opens) continue;
            await tx.conversations.update(draft.conversation.id, { last_activity_at: written[i]!.createdAt });
          }
          await tx.marketing.insertRecipients(
            campaign.id,
            drafts.map((d, i) => ({
              contactId: d.contactId,
              conversationId: d.conversation.id,
              messageId: written[i]!.messageId,
            })),
          );
        },
      });
      if (!queued) {
        // Another instance wrote this batch (or finished the campaign): go on from where it is now.
        const now = await this.deps.port.findCampaign(campaign.id);
        if (!now || now.state !== 'queueing') return { recipients, skipped };
        cursor = now.cursor;
        continue;
      }
      recipients += queued.length;
      skipped += batchSkipped;
      cursor = to;
    }
    await this.deps.port.finishCampaign(campaign.id);
    return { recipients, skipped };
  }

  /** Counts of a broadcast by the messages' current status; no addresses, no text. */
  async report(id: string): Promise<CampaignReport | undefined> {
    const campaign = await this.deps.port.findCampaign(id);
    if (!campaign) return undefined;
    const r: CampaignReport = {
      id: campaign.id,
      channelId: campaign.channel_id,
      template: { name: campaign.template_name, language: campaign.template_language },
      createdAt: Number(campaign.created_at),
      createdBy: campaign.created_by,
      recipients: 0,
      skipped: Number(campaign.skipped),
      queued: 0,
      sent: 0,
      delivered: 0,
      read: 0,
      failed: 0,
      erased: 0,
      optedOut: 0,
    };
    // Page by page (keyset on the contact id), so that a report of 100,000 recipients holds one page in memory.
    let after: string | null = null;
    for (;;) {
      const page = await this.deps.port.recipients(id, after, REPORT_PAGE);
      if (page.length === 0) break;
      after = page[page.length - 1]!.contactId;
      const stillAllowed = await this.deps.consent.allowedAmong(
        page.map((x) => x.contactId),
        'marketing',
      );
      r.recipients += page.length;
      for (const x of page) {
        if (x.status === null) r.erased += 1;
        else if (x.status === 'queued' || x.status === 'sending') r.queued += 1;
        else if (x.status === 'sent') r.sent += 1;
        else if (x.status === 'delivered') r.delivered += 1;
        else if (x.status === 'read') r.read += 1;
        else if (x.status === 'failed') r.failed += 1;
        if (!stillAllowed.has(x.contactId)) r.optedOut += 1;
      }
    }
    return r;
  }

  async list(limit = 50): Promise<CampaignReport[]> {
    const out: CampaignReport[] = [];
    for (const c of await this.deps.port.listCampaigns(limit)) {
      const r = await this.report(c.id);
      if (r) out.push(r);
    }
    return out;
  }
}
