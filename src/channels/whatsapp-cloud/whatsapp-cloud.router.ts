import { createHmac, timingSafeEqual } from 'node:crypto';
import type { InboundEvent, WebhookRequest, WebhookResult } from '../../core/channel/channel.port.ts';
import { AppError } from '../../shared/app-error.ts';
import type { Dialog360ChannelConfig } from '../dialog360/dialog360.config.ts';
import { DIALOG360_SECRET_HEADER } from '../dialog360/dialog360.signature.ts';
import type { WhatsAppCloudChannelConfig } from './whatsapp-cloud.config.ts';
import type { AccountEvent } from '../../core/ports/business-account.port.ts';
import { mapAccountChange } from './whatsapp-cloud.account-events.ts';
import { answerWhatsAppHandshake, sameSecret } from './whatsapp-cloud.handshake.ts';
import { mapWhatsAppWebhook } from './whatsapp-cloud.mapper.ts';
import { parseWhatsAppWebhook, type WhatsAppMessagesChange } from './whatsapp-cloud.parser.ts';
import { WHATSAPP_SIGNATURE_HEADER } from './whatsapp-cloud.signature.ts';

type WhatsAppChannelConfig = WhatsAppCloudChannelConfig | Dialog360ChannelConfig;

/** One entry's events for one channel, in payload order: the unit committed before the next. */
export interface WhatsAppDelivery {
  channelId: string;
  kind: WhatsAppChannelConfig['kind'];
  entryIndex: number;
  events: InboundEvent[];
  ignored: string[];
}

/** An account-level change routed to a channel by its `businessAccountId` (content-free: the field name only). */
export interface WhatsAppAccountEvent {
  channelId: string;
  field: string;
  /** What sparsam keeps of it (templates, health); undefined for fields it only acknowledges. */
  event: AccountEvent | undefined;
}

/** Where the entries of one signed WhatsApp webhook go. */
export interface WhatsAppRouting {
  deliveries: WhatsAppDelivery[];
  accountEvents: WhatsAppAccountEvent[];
  /** Signed entries for a number (`numbers`) or an account (`accounts`) no verified channel has. */
  unrouted: { numbers: number; accounts: number };
}

/**
 * Routing by id, not by URL. Meta sets one callback URL per app, so one app serving several numbers posts every
 * number's events (and its WhatsApp Business Accounts' account-level events) to one URL, and may batch several
 * numbers in one POST. The router serves the app-level route `POST /webhooks/whatsapp` and the per-channel URLs alike:
 *
 * 1. authenticity: every distinct app secret of the configured Cloud API channels is checked against
 *    `X-Hub-Signature-256`, and every distinct 360dialog webhook secret against its header or `?token=`, each in
 *    constant time and all of them (no early exit), so the time does not tell which secret matched. No match: 401.
 * 2. routing: each `messages` change goes by `metadata.phone_number_id` to the channel with that `phoneNumberId`
 *    whose secret verified (a 360dialog channel without `phoneNumberId` takes what no numbered channel does); an
 *    account-level change (no metadata) goes by the entry's `id` to the channel whose `businessAccountId` it is.
 *    Entries for numbers or accounts not configured (or whose channel's secret did not sign this request) are
 *    counted as unrouted and dropped: a signed request is Meta's, and refusing it would make Meta retry the whole
 *    batch for days.
 */
export class WhatsAppRouter {
  readonly #source: () => readonly { kind: string }[];

  /**
   * @param channels the running channels, or a function returning them (channels created in the admin screen come
   *   and go while sparsam runs; the router reads the current list for every request).
   */
  constructor(channels: readonly { kind: string }[] | (() => readonly { kind: string }[])) {
    this.#source = typeof channels === 'function' ? channels : () => channels;
  }

  get #channels(): WhatsAppChannelConfig[] {
    return this.#source().filter(
      (c): c is WhatsAppChannelConfig => c.kind === 'whatsapp-cloud' || c.kind === 'dialog360',
    );
  }

  /** Whether a channel id is one of the routed WhatsApp channels. */
  has(channelId: string): boolean {
    return this.#channels.some((c) => c.id === channelId);
  }

  /**
   * Meta's subscription handshake for the app-level URL: accepted with any configured Cloud API channel's verify
   * token (each compared in constant time, all of them).
   */
  handshake(query: unknown): WebhookResult {
    const answers = this.#channels
      .filter((c): c is WhatsAppCloudChannelConfig => c.kind === 'whatsapp-cloud')
      .map((c) => answerWhatsAppHandshake(query, c.verifyToken));
    return (
      answers.find((a) => a.kind === 'handshake' && a.status === 200) ?? {
        kind: 'handshake',
        status: 403,
        body: 'Forbidden',
      }
    );
  }

  /**
   * Verifies and routes a POST.
   * @throws AppError('SIGNATURE_INVALID') when no configured secret verifies; AppError('VALIDATION') when the body is
   *   not a WhatsApp Business Account webhook.
   */
  route(request: WebhookRequest): WhatsAppRouting {
    if (request.method !== 'POST') throw new AppError('VALIDATION', 'WhatsApp webhooks are GET or POST requests');
    const verified = this.#verified(request);
    if (verified.length === 0) {
      throw new AppError('SIGNATURE_INVALID', 'no configured WhatsApp channel signed this webhook');
    }
    const webhook = parseWhatsAppWebhook(request.body);
    const deliveries: WhatsAppDelivery[] = [];
    const unrouted = { numbers: 0, accounts: 0 };
    for (const change of webhook.changes) {
      const target = this.#byNumber(verified, change.value.metadata.phone_number_id);
      if (!target) {
        unrouted.numbers++;
        continue;
      }
      const last = deliveries.at(-1);
      const mapping = mapWhatsAppWebhook(single(change), target.id);
      if (last && last.channelId === target.id && last.entryIndex === change.entryIndex) {
        last.events.push(...mapping.events);
        last.ignored.push(...mapping.ignored);
      } else {
        deliveries.push({
          channelId: target.id,
          kind: target.kind,
          entryIndex: change.entryIndex,
          events: mapping.events,
          ignored: mapping.ignored,
        });
      }
    }
    const accountEvents: WhatsAppAccountEvent[] = [];
    for (const change of webhook.accountChanges) {
      const target = verified.find((c) => c.businessAccountId !== undefined && c.businessAccountId === change.entryId);
      if (target) {
        accountEvents.push({ channelId: target.id, field: change.field, event: mapAccountChange(change, target.id) });
      } else unrouted.accounts++;
    }
    return { deliveries, accountEvents, unrouted };
  }

  #byNumber(verified: readonly WhatsAppChannelConfig[], phoneNumberId: string): WhatsAppChannelConfig | undefined {
    return (
      verified.find((c) => c.phoneNumberId === phoneNumberId) ??
      verified.find((c) => c.kind === 'dialog360' && c.phoneNumberId === undefined)
    );
  }

  /** The channels whose secret verifies this request; every distinct secret is checked, in constant time. */
  #verified(request: WebhookRequest): WhatsAppChannelConfig[] {
    const appSecrets = new Map<string, boolean>();
    const signature = request.headers[WHATSAPP_SIGNATURE_HEADER];
    const match = typeof signature === 'string' ? /^sha256=([0-9a-fA-F]{64})$/.exec(signature.trim()) : null;
    const given = match ? Buffer.from(match[1]!.toLowerCase(), 'hex') : undefined;
    const webhookSecrets = new Map<string, boolean>();
    const header = request.headers[DIALOG360_SECRET_HEADER];
    const token = request.query.token;
    const d360Given = [header, token].filter((v): v is string => typeof v === 'string' && v.length > 0);
    const d360Repeated = Array.isArray(header) || Array.isArray(token);
    // A secret in the URL counts only for a channel that allows it (webhookSecretInUrl): URLs end up in access logs.
    const tokenRefused = (c: { webhookSecretInUrl: boolean }) => token !== undefined && !c.webhookSecretInUrl;
    for (const c of this.#channels) {
      if (c.kind === 'whatsapp-cloud' && !appSecrets.has(c.appSecret)) {
        let ok = false;
        if (given && request.rawBody) {
          const expected = createHmac('sha256', c.appSecret).update(request.rawBody).digest();
          ok = timingSafeEqual(given, expected);
        }
        appSecrets.set(c.appSecret, ok);
      } else if (c.kind === 'dialog360' && !webhookSecrets.has(webhookSecretKey(c))) {
        // Every given value is compared (no early exit): the time does not tell which one was wrong.
        const results = d360Given.map((value) => sameSecret(value, c.webhookSecret));
        webhookSecrets.set(
          webhookSecretKey(c),
          !d360Repeated && !tokenRefused(c) && results.length > 0 && !results.includes(false),
        );
      }
    }
    return this.#channels.filter((c) =>
      c.kind === 'whatsapp-cloud'
        ? appSecrets.get(c.appSecret) === true
        : webhookSecrets.get(webhookSecretKey(c)) === true,
    );
  }
}

/** Channels that share a secret share one check, unless they differ in accepting it from the URL. */
function webhookSecretKey(c: { webhookSecret: string; webhookSecretInUrl: boolean }): string {
  return `${c.webhookSecretInUrl ? 'url' : 'header'}:${c.webhookSecret}`;
}

function single(change: WhatsAppMessagesChange) {
  return { changes: [change], ignoredFields: [], accountChanges: [] };
}
