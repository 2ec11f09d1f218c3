import { AppError } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import { newId } from '../../shared/ids.ts';
import type { ContactRecord } from '../ports/model.ts';
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
}

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
    const contacts = await this.deps.port.channelContacts(channel.id);
    const allowed: ContactRecord[] = [];
    for (const c of contacts) {
      if ((await this.deps.consent.status(c.id, 'marketing')).allowed) allowed.push(c);
    }
    const current = new Map(
      (await this.deps.port.currentConversations(allowed.map((c) => c.id))).map((c) => [c.contact_id, c]),
    );
    const now = this.deps.clock.now().getTime();
    const drafts: (OutboundDraft & { contactId: string })[] = [];
    for (const contact of allowed) {
      let conversation = current.get(contact.id);
      const opens = !conversation;
      if (!conversation) {
        // Without a service consent the new conversation waits for it like any first contact: hidden from staff,
        // a reply gets the privacy notice first, and the consent timeout erases it if the customer never agrees.
        const service = await this.deps.consent.status(contact.id, 'service');
        conversation = newConversationRow({
          inboxId: contact.inbox_id,
          channelId: contact.channel_id,
          contact,
          state: service.allowed ? 'open' : 'pending_consent',
          now,
        });
      }
      drafts.push({
        contactId: contact.id,
        conversation,
        opens,
        kind: 'template',
        content: {
          template: { name: spec.name, language: spec.language, parameters: [...input.template.parameters] },
          extra: { broadcast: true },
        },
      });
    }
    const campaign = {
      id: newId(),
      channel_id: channel.id,
      template_name: spec.name,
      template_language: spec.language,
      created_by: actor,
      created_at: now,
      skipped: contacts.length - allowed.length,
    };
    // The campaign, its new conversations, the messages, their jobs and the recipients in one transaction.
    await this.deps.outbox.queue(drafts, {
      alongside: async (tx, queued) => {
        for (const [i, draft] of drafts.entries()) {
          if (draft.opens) continue;
          await tx.conversations.update(draft.conversation.id, { last_activity_at: queued[i]!.createdAt });
        }
        await tx.marketing.insertCampaign(
          campaign,
          drafts.map((d, i) => ({
            contactId: d.contactId,
            conversationId: d.conversation.id,
            messageId: queued[i]!.messageId,
          })),
        );
      },
    });
    await this.deps.audit.append({
      actor,
      action: 'marketing.broadcast',
      targetType: 'campaign',
      targetId: campaign.id,
      details: {
        channelId: channel.id,
        template: spec.name,
        language: spec.language,
        recipients: drafts.length,
        skipped: campaign.skipped,
      },
    });
    return (await this.report(campaign.id))!;
  }

  /** Counts of a broadcast by the messages' current status; no addresses, no text. */
  async report(id: string): Promise<CampaignReport | undefined> {
    const campaign = await this.deps.port.findCampaign(id);
    if (!campaign) return undefined;
    const recipients = await this.deps.port.recipients(id);
    const r: CampaignReport = {
      id: campaign.id,
      channelId: campaign.channel_id,
      template: { name: campaign.template_name, language: campaign.template_language },
      createdAt: Number(campaign.created_at),
      createdBy: campaign.created_by,
      recipients: recipients.length,
      skipped: Number(campaign.skipped),
      queued: 0,
      sent: 0,
      delivered: 0,
      read: 0,
      failed: 0,
      erased: 0,
      optedOut: 0,
    };
    for (const x of recipients) {
      if (x.status === null) r.erased += 1;
      else if (x.status === 'queued' || x.status === 'sending') r.queued += 1;
      else if (x.status === 'sent') r.sent += 1;
      else if (x.status === 'delivered') r.delivered += 1;
      else if (x.status === 'read') r.read += 1;
      else if (x.status === 'failed') r.failed += 1;
      if (!(await this.deps.consent.status(x.contactId, 'marketing')).allowed) r.optedOut += 1;
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
