import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DemoSimulatorModule } from '../../src/cli/demo.command.ts';
import { signWhatsAppBody } from '../../src/channels/whatsapp-cloud/whatsapp-cloud.signature.ts';
import { customerPhonePage } from './customer-phone.page.ts';

/**
 * A local stand-in for the WhatsApp Cloud API, for tests and `npm run demo`. It plays both sides sparsam talks to:
 *
 * - Meta's webhooks: {@link WhatsAppSimulator.sendCustomerMessage} builds a real Cloud API payload (non-ASCII
 *   escaped as \uXXXX and slashes as \/, as Meta serialises), signs it with the app secret in
 *   `X-Hub-Signature-256` and POSTs it to sparsam, retrying until it gets a 200 like Meta does (bounded here);
 *   accepted outbound messages get `sent`, `delivered` and `read` status webhooks.
 * - the Graph API: `POST /:ver/:pnid/messages` (Bearer token checked, bodies validated like Meta with Graph errors,
 *   free text outside the 24 h customer-service window refused with 131047, mark-as-read), `POST /:ver/:pnid/media`
 *   (multipart upload), `GET /:ver/:mediaId` (metadata with a download URL) and the download itself (Bearer
 *   required). Point the channel's `graphBaseUrl` at {@link WhatsAppSimulator.url}.
 *
 * A "customer phone" page at `/` lets a person pick a number, write, tap reply buttons and read sparsam's answers.
 * Only for localhost; nothing here is for production.
 */

export interface SimulatorOptions {
  /** Port to listen on (0 or undefined: any free port). */
  port?: number;
  host?: string;
  appSecret: string;
  accessToken: string;
  phoneNumberId: string;
  /** sparsam's webhook URL for this channel, e.g. http://127.0.0.1:8080/webhooks/whatsapp/demo. */
  webhookUrl: string;
  verifyToken: string;
  /** The business's display number in payloads (default "4930901820"). */
  displayPhoneNumber?: string;
  /** WABA id in payloads. */
  businessAccountId?: string;
  /** Delays between webhook delivery attempts after a non-200 (default [200, 1000, 3000]: four attempts). */
  retryDelaysMs?: number[];
  /** Send sent/delivered/read status webhooks for accepted messages (default true). */
  autoStatuses?: boolean;
  /** Pause before each status webhook, ms (default 100). */
  statusDelayMs?: number;
  /** Clock for timestamps and the 24 h window (default Date.now). */
  now?: () => number;
  /** Templates the account has from the start (APPROVED), e.g. the demo's. */
  templates?: { name: string; language: string; category: string; body: string }[];
  /**
   * How Meta's review of a new template ends, and after how long (default: APPROVED after 1.5 s; a name containing
   * "reject" is REJECTED with INVALID_FORMAT). `null`: no review webhook (tests send one with reviewTemplate).
   */
  templateReview?: { delayMs: number } | null;
  /** The business profile the number starts with. */
  profile?: Partial<SimulatedProfile>;
}

/** The business profile as the simulator keeps it (Graph field names). */
export interface SimulatedProfile {
  about: string;
  address: string;
  description: string;
  email: string;
  websites: string[];
  vertical: string;
  profile_picture_url: string;
}

/** A template of the simulated WhatsApp Business Account (Graph shape). */
export interface SimulatedTemplate {
  id: string;
  name: string;
  language: string;
  category: string;
  status: string;
  rejected_reason: string;
  components: Record<string, unknown>[];
}

export interface CustomerMessageInput {
  /** The customer's WhatsApp id (digits, country code first; a leading + is dropped). */
  from: string;
  /** Profile name shown to the business (default "Test Customer"). */
  name?: string;
  text?: string;
  /** Tap on a reply button sparsam sent. `contextId` defaults to the last button message sent to this number. */
  buttonReply?: { id: string; title: string; contextId?: string };
  /** Choice of a row in a list sparsam sent. `contextId` defaults to the last list message sent to this number. */
  listReply?: { id: string; title: string; description?: string; contextId?: string };
  /** A photo (or sticker/document/audio/video) the customer sends; the simulator hosts the bytes for download. */
  image?: { data: Buffer; mimeType?: string; caption?: string };
  document?: { data: Buffer; mimeType?: string; fileName?: string; caption?: string };
  audio?: { data: Buffer; mimeType?: string; voice?: boolean };
  location?: { latitude: number; longitude: number; name?: string; address?: string };
  reaction?: { messageId: string; emoji: string };
  /** Reply to one of sparsam's messages (adds `context`). */
  replyTo?: string;
  /** Fixed wamid (default: a new one); reuse one to simulate a redelivered message. */
  id?: string;
  /** Unix ms of the message (default: now). */
  timestamp?: number;
}

/** One POST of a webhook to sparsam. */
export interface DeliveryAttempt {
  status: number | 'network-error';
  body: string;
}

/** What happened to one webhook: every attempt, and whether sparsam finally answered 200. */
export interface WebhookDelivery {
  kind: 'message' | 'status' | 'account';
  /** The wamid of the inbound message, or of the outbound message a status is about. */
  messageId: string;
  status?: 'sent' | 'delivered' | 'read' | 'failed';
  /** The exact body posted (as signed). */
  payload: string;
  signature: string;
  attempts: DeliveryAttempt[];
  delivered: boolean;
}

/** A message sparsam sent through the Graph API and the simulator accepted. */
export interface SentMessage {
  id: string;
  to: string;
  type: string;
  /** The JSON body as sparsam sent it. */
  body: Record<string, unknown>;
  /** Convenience views of the body. */
  text: string | undefined;
  buttons: { id: string; title: string }[] | undefined;
  /** An interactive list: its button label and sections with their rows. */
  list?: SimulatedList | undefined;
  /** `audio.voice: true`: sent as a voice message. */
  voice?: boolean | undefined;
  template: { name: string; language: string; parameters: string[] } | undefined;
  mediaId: string | undefined;
  at: number;
}

/** An interactive list as sparsam sent it. */
export interface SimulatedList {
  button: string;
  sections: { title?: string; rows: { id: string; title: string; description?: string }[] }[];
}

/** A Graph API call that the simulator refused (bad body, closed window, failure mode, wrong token). */
export interface RefusedCall {
  path: string;
  status: number;
  code: number;
  body: unknown;
}

export interface FailureMode {
  /** HTTP status to answer Graph calls with (a 429 carries Retry-After: the seconds left of the failure). */
  status: 429 | 500;
  /** Graph error code (default 130429 for 429, 131000 for 500). */
  code?: number;
  /** How long the failure lasts from now, ms. */
  forMs: number;
  /** Ends the failure after this many refused calls (also when `forMs` runs out first): independent of timing. */
  times?: number;
  /**
   * A provider outage that answers in several ways: the refused calls take these answers in turn (instead of
   * `status` and `code`), e.g. 500s, 503s and rate limits with and without Retry-After.
   */
  answers?: FailureAnswer[];
}

/** One way of refusing a Graph call during a failure. */
export interface FailureAnswer {
  status: 400 | 429 | 500 | 502 | 503;
  /** Graph error code (default 130429 for 429, 131000 otherwise). */
  code?: number;
  /** Retry-After header: seconds, or 'remaining' for the seconds left of the failure; none when omitted. */
  retryAfter?: number | 'remaining';
}

export interface WhatsAppSimulator {
  /** Base URL: use as the channel's `graphBaseUrl`; the customer phone page is at `${url}/`. */
  readonly url: string;
  /** Builds, signs and posts a customer's message; resolves when sparsam answered 200 or the retries ran out. */
  sendCustomerMessage(input: CustomerMessageInput): Promise<WebhookDelivery>;
  /** Messages sparsam sent, in order. */
  sentMessages(): SentMessage[];
  /** A file sparsam uploaded (POST /{phone-number-id}/media), as received: bytes and the declared type. */
  uploadedMedia(mediaId: string): { data: Buffer; mimeType: string; fileName: string | undefined } | undefined;
  /** Status webhooks sent so far, in order. */
  readonly statuses: WebhookDelivery[];
  /** Every inbound-message webhook delivery, in order. */
  readonly deliveries: WebhookDelivery[];
  /** Graph calls refused, in order. */
  readonly refused: RefusedCall[];
  /** Messages marked as read by sparsam (wamids). */
  readonly readReceipts: string[];
  /** Graph calls answer with this error until `forMs` has passed; `null` ends it now. */
  failureMode(mode: FailureMode | null): void;
  /**
   * The next accepted message is answered 200 as usual but then reported `failed` by status webhook (after `sent`),
   * as Meta does for undeliverable messages; default 131026 "Message undeliverable".
   */
  failNextDelivery(error?: { code: number; title: string; details: string }): void;
  /** Meta's GET handshake against sparsam's webhook URL; resolves with sparsam's answer. */
  verifyWebhook(token?: string): Promise<{ status: number; body: string; challenge: string }>;
  /** Points the webhooks at another URL (when sparsam's port is known only after the simulator started). */
  setWebhookUrl(url: string): void;
  /** Resolves when every scheduled status webhook has been delivered (or given up). */
  settle(): Promise<void>;
  /** The account's templates as the Graph API lists them. */
  templates(): SimulatedTemplate[];
  /** The business profile as set through the Graph API; `photo` is the last uploaded profile picture. */
  profile(): SimulatedProfile & { photo: { data: Buffer; mimeType: string } | undefined };
  /**
   * Meta's review result for a template: sets its status and sends the `message_template_status_update` webhook
   * (signed, to the webhook URL, retried like every webhook); for a name not in the account too.
   */
  reviewTemplate(
    name: string,
    language: string,
    event: string,
    reason?: string,
    options?: { time?: number },
  ): Promise<WebhookDelivery>;
  /** Sends any account-level webhook change (field and value as Meta sends them) for the account. */
  sendAccountUpdate(
    field: string,
    value: Record<string, unknown>,
    options?: { time?: number },
  ): Promise<WebhookDelivery>;
  close(): Promise<void>;
}

interface HostedMedia {
  data: Buffer;
  mimeType: string;
  sha256: string;
  /** The file name of the multipart part, for uploads. */
  fileName?: string | undefined;
}

interface CustomerState {
  name: string;
  lastInboundAt: number | undefined;
  /** The phone's thread: what the customer sent and what sparsam answered. */
  thread: PhoneEntry[];
}

interface PhoneEntry {
  direction: 'in' | 'out';
  id: string;
  at: number;
  text: string | undefined;
  buttons?: { id: string; title: string }[];
  status?: string;
  kind: string;
  /** For a file sparsam sent: where the phone page loads it (phone/media/<id>), and its name. */
  mediaUrl?: string;
  fileName?: string;
}

const WINDOW_MS = 24 * 60 * 60 * 1000;
const SEND_TYPES = new Set([
  'text',
  'interactive',
  'template',
  'image',
  'document',
  'audio',
  'video',
  'sticker',
  'reaction',
]);

class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly details?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
  toBody(): unknown {
    return {
      error: {
        message: `(#${this.code}) ${this.message}`,
        type: 'OAuthException',
        code: this.code,
        ...(this.details ? { error_data: { messaging_product: 'whatsapp', details: this.details } } : {}),
        fbtrace_id: randomBytes(9).toString('base64url'),
      },
    };
  }
}

/** Starts a simulator (see the module comment). */
export async function startSimulator(options: SimulatorOptions): Promise<WhatsAppSimulator> {
  const sim = new Simulator(options);
  await sim.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  return sim;
}

class Simulator implements WhatsAppSimulator {
  readonly statuses: WebhookDelivery[] = [];
  readonly deliveries: WebhookDelivery[] = [];
  readonly refused: RefusedCall[] = [];
  readonly readReceipts: string[] = [];
  private readonly sent: SentMessage[] = [];
  private readonly media = new Map<string, HostedMedia>();
  private readonly customers = new Map<string, CustomerState>();
  private readonly inboundIds = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private failure:
    | {
        status: number;
        code: number;
        until: number;
        /** Refusals left before the failure ends, when counted. */
        left?: number;
        answers: (FailureAnswer & { code: number })[];
        next: number;
      }
    | undefined;
  private server: Server | undefined;
  private baseUrl = '';
  private closed = false;
  private seq = 0;
  private readonly now: () => number;
  private readonly retryDelaysMs: number[];
  private webhookUrl: string;
  private nextDeliveryFailure: { code: number; title: string; details: string } | undefined;
  private readonly accountTemplates: SimulatedTemplate[] = [];
  private readonly uploads = new Map<string, { length: number; type: string; handle?: string }>();
  private readonly handles = new Map<string, { data: Buffer; mimeType: string }>();
  private businessProfile: SimulatedProfile;
  private profilePhoto: { data: Buffer; mimeType: string } | undefined;

  constructor(private readonly options: SimulatorOptions) {
    this.webhookUrl = options.webhookUrl;
    this.now = options.now ?? Date.now;
    this.retryDelaysMs = options.retryDelaysMs ?? [200, 1000, 3000];
    for (const t of options.templates ?? []) {
      this.accountTemplates.push({
        id: String(1_000_000_000_000 + this.accountTemplates.length + 1),
        name: t.name,
        language: t.language,
        category: t.category,
        status: 'APPROVED',
        rejected_reason: 'NONE',
        components: [{ type: 'BODY', text: t.body }],
      });
    }
    this.businessProfile = {
      about: 'Wir antworten werktags innerhalb eines Tages.',
      address: '',
      description: '',
      email: '',
      websites: [],
      vertical: 'OTHER',
      profile_picture_url: '',
      ...options.profile,
    };
  }

  private get wabaId(): string {
    return this.options.businessAccountId ?? '102290129340398';
  }

  templates(): SimulatedTemplate[] {
    return this.accountTemplates.map((t) => structuredClone(t));
  }

  profile(): SimulatedProfile & { photo: { data: Buffer; mimeType: string } | undefined } {
    return { ...structuredClone(this.businessProfile), photo: this.profilePhoto };
  }

  reviewTemplate(
    name: string,
    language: string,
    event: string,
    reason = 'NONE',
    options: { time?: number } = {},
  ): Promise<WebhookDelivery> {
    const template = this.accountTemplates.find((t) => t.name === name && t.language === language);
    if (template) {
      template.status = event;
      template.rejected_reason = reason;
    }
    return this.sendAccountUpdate(
      'message_template_status_update',
      {
        event,
        message_template_id: template ? Number(template.id) : 1_999_000_000_000,
        message_template_name: name,
        message_template_language: language,
        reason,
        ...(template ? { message_template_category: template.category } : {}),
      },
      options,
    );
  }

  sendAccountUpdate(
    field: string,
    value: Record<string, unknown>,
    options: { time?: number } = {},
  ): Promise<WebhookDelivery> {
    const time = Math.floor((options.time ?? this.now()) / 1000);
    return this.post('account', field, {
      object: 'whatsapp_business_account',
      entry: [{ id: this.wabaId, time, changes: [{ value, field }] }],
    });
  }

  get url(): string {
    return this.baseUrl;
  }

  async listen(port: number, host: string): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`simulator error: ${(error as Error).message}`);
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host;
    this.baseUrl = `http://${shownHost}:${address.port}`;
  }

  sentMessages(): SentMessage[] {
    return [...this.sent];
  }

  uploadedMedia(mediaId: string): { data: Buffer; mimeType: string; fileName: string | undefined } | undefined {
    const media = this.media.get(mediaId);
    return media ? { data: media.data, mimeType: media.mimeType, fileName: media.fileName } : undefined;
  }

  failNextDelivery(error?: { code: number; title: string; details: string }): void {
    this.nextDeliveryFailure = error ?? {
      code: 131026,
      title: 'Message undeliverable',
      details: 'Message Undeliverable.',
    };
  }

  setWebhookUrl(url: string): void {
    this.webhookUrl = new URL(url).toString();
  }

  failureMode(mode: FailureMode | null): void {
    if (!mode) {
      this.failure = undefined;
      return;
    }
    const code = mode.code ?? (mode.status === 429 ? 130429 : 131000);
    const given: FailureAnswer[] = mode.answers?.length
      ? mode.answers
      : [{ status: mode.status, code, ...(mode.status === 429 ? { retryAfter: 'remaining' as const } : {}) }];
    this.failure = {
      status: given[0]!.status,
      code: given[0]!.code ?? (given[0]!.status === 429 ? 130429 : 131000),
      until: this.now() + mode.forMs,
      ...(mode.times !== undefined ? { left: mode.times } : {}),
      answers: given.map((a) => ({ ...a, code: a.code ?? (a.status === 429 ? 130429 : 131000) })),
      next: 0,
    };
  }

  async settle(): Promise<void> {
    while (this.pending.size > 0 || this.timers.size > 0) {
      await Promise.allSettled([...this.pending]);
      if (this.timers.size > 0) await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    // Pending pauses end now; the loops waiting on them see `closed` and stop.
    for (const [timer, wake] of this.timers) {
      clearTimeout(timer);
      wake();
    }
    this.timers.clear();
    await Promise.allSettled([...this.pending]);
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  async verifyWebhook(token = this.options.verifyToken): Promise<{ status: number; body: string; challenge: string }> {
    const challenge = String(1_000_000_000 + Math.floor(Math.random() * 1_000_000_000));
    const url = new URL(this.webhookUrl);
    url.searchParams.set('hub.mode', 'subscribe');
    url.searchParams.set('hub.verify_token', token);
    url.searchParams.set('hub.challenge', challenge);
    const response = await fetch(url);
    return { status: response.status, body: await response.text(), challenge };
  }

  // ---- the customer's side: webhooks to sparsam ----

  async sendCustomerMessage(input: CustomerMessageInput): Promise<WebhookDelivery> {
    const from = normalizeNumber(input.from);
    if (!/^\d{6,20}$/.test(from)) throw new Error('sendCustomerMessage: `from` must be a phone number in digits');
    const at = input.timestamp ?? this.now();
    const id = input.id ?? this.newWamid(from);
    const customer = this.customer(from, input.name);
    const message: Record<string, unknown> = { from, id, timestamp: String(Math.floor(at / 1000)) };
    let entry: PhoneEntry = { direction: 'in', id, at, text: undefined, kind: 'text' };
    if (input.buttonReply) {
      const contextId = input.buttonReply.contextId ?? this.lastButtonMessageTo(from);
      message.type = 'interactive';
      message.interactive = {
        type: 'button_reply',
        button_reply: { id: input.buttonReply.id, title: input.buttonReply.title },
      };
      if (contextId) message.context = { from: this.displayNumber, id: contextId };
      entry = { ...entry, text: input.buttonReply.title, kind: 'button' };
    } else if (input.listReply) {
      const contextId = input.listReply.contextId ?? [...this.sent].reverse().find((m) => m.to === from && m.list)?.id;
      message.type = 'interactive';
      message.interactive = {
        type: 'list_reply',
        list_reply: {
          id: input.listReply.id,
          title: input.listReply.title,
          ...(input.listReply.description ? { description: input.listReply.description } : {}),
        },
      };
      if (contextId) message.context = { from: this.displayNumber, id: contextId };
      entry = { ...entry, text: input.listReply.title, kind: 'button' };
    } else if (input.image) {
      const mediaId = this.host(input.image.data, input.image.mimeType ?? 'image/jpeg');
      message.type = 'image';
      message.image = {
        ...(input.image.caption ? { caption: input.image.caption } : {}),
        mime_type: input.image.mimeType ?? 'image/jpeg',
        sha256: this.media.get(mediaId)!.sha256,
        id: mediaId,
      };
      entry = { ...entry, text: input.image.caption ?? '[Foto]', kind: 'image' };
    } else if (input.document) {
      const mime = input.document.mimeType ?? 'application/pdf';
      const mediaId = this.host(input.document.data, mime);
      message.type = 'document';
      message.document = {
        ...(input.document.caption ? { caption: input.document.caption } : {}),
        filename: input.document.fileName ?? 'document.pdf',
        mime_type: mime,
        sha256: this.media.get(mediaId)!.sha256,
        id: mediaId,
      };
      entry = {
        ...entry,
        text: input.document.caption ?? `[${input.document.fileName ?? 'document'}]`,
        kind: 'document',
      };
    } else if (input.audio) {
      const mime = input.audio.mimeType ?? 'audio/ogg; codecs=opus';
      const mediaId = this.host(input.audio.data, mime);
      message.type = 'audio';
      message.audio = {
        mime_type: mime,
        sha256: this.media.get(mediaId)!.sha256,
        id: mediaId,
        voice: input.audio.voice ?? true,
      };
      entry = { ...entry, text: '[Sprachnachricht]', kind: 'audio' };
    } else if (input.location) {
      message.type = 'location';
      message.location = { ...input.location };
      entry = { ...entry, text: `[${input.location.name ?? 'Standort'}]`, kind: 'location' };
    } else if (input.reaction) {
      message.type = 'reaction';
      message.reaction = { message_id: input.reaction.messageId, emoji: input.reaction.emoji };
      entry = { ...entry, text: input.reaction.emoji, kind: 'reaction' };
    } else if (input.text !== undefined) {
      message.type = 'text';
      message.text = { body: input.text };
      entry = { ...entry, text: input.text };
    } else {
      throw new Error('sendCustomerMessage: give text, buttonReply, image, document, audio, location or reaction');
    }
    if (input.replyTo && !message.context) message.context = { from: this.displayNumber, id: input.replyTo };

    // The window opens with the customer's message, whether or not sparsam takes it (Meta's clock, not sparsam's).
    customer.lastInboundAt = Math.max(customer.lastInboundAt ?? 0, at);
    this.inboundIds.add(id);
    if (!customer.thread.some((e) => e.id === id)) customer.thread.push(entry);
    const value = {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: this.displayNumber, phone_number_id: this.options.phoneNumberId },
      contacts: [{ profile: { name: customer.name }, wa_id: from }],
      messages: [message],
    };
    const delivery = await this.deliver('message', id, value);
    this.deliveries.push(delivery);
    // Shown on the phone page under the customer's own message.
    entry.status = delivery.delivered
      ? 'von sparsam angenommen'
      : `von sparsam nicht angenommen (${delivery.attempts.at(-1)?.status ?? '?'})`;
    return delivery;
  }

  /** Signs and posts one webhook; retries non-200 answers after the configured delays. */
  private async deliver(
    kind: 'message' | 'status',
    messageId: string,
    value: Record<string, unknown>,
    status?: WebhookDelivery['status'],
  ): Promise<WebhookDelivery> {
    const envelope = {
      object: 'whatsapp_business_account',
      entry: [{ id: this.wabaId, changes: [{ value, field: 'messages' }] }],
    };
    return this.post(kind, messageId, envelope, status);
  }

  /** Signs and posts one webhook envelope; retries non-200 answers after the configured delays. */
  private async post(
    kind: WebhookDelivery['kind'],
    messageId: string,
    envelope: Record<string, unknown>,
    status?: WebhookDelivery['status'],
  ): Promise<WebhookDelivery> {
    const payload = metaJson(envelope);
    const signature = signWhatsAppBody(this.options.appSecret, Buffer.from(payload, 'utf8'));
    const delivery: WebhookDelivery = { kind, messageId, payload, signature, attempts: [], delivered: false };
    if (status) delivery.status = status;
    const work = (async () => {
      for (let attempt = 0; attempt <= this.retryDelaysMs.length && !this.closed; attempt++) {
        if (attempt > 0) await this.sleep(this.retryDelaysMs[attempt - 1]!);
        if (this.closed) break;
        try {
          const response = await fetch(this.webhookUrl, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-hub-signature-256': signature,
              'user-agent': 'facebookexternalua',
            },
            body: payload,
            signal: AbortSignal.timeout(10_000),
          });
          const body = (await response.text()).slice(0, 500);
          delivery.attempts.push({ status: response.status, body });
          if (response.status === 200) {
            delivery.delivered = true;
            break;
          }
        } catch (error) {
          delivery.attempts.push({ status: 'network-error', body: (error as Error).name });
        }
      }
      return delivery;
    })();
    this.track(work);
    return work;
  }

  // ---- the Graph API: what sparsam calls ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const parts = url.pathname.split('/').filter(Boolean);
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(customerPhonePage());
      return;
    }
    if (parts[0] === 'phone') return this.phoneApi(req, res, parts.slice(1), url);
    try {
      if (parts[0] === 'media-download' && parts.length === 2 && req.method === 'GET') {
        this.checkToken(req);
        const media = this.media.get(parts[1]!);
        if (!media) throw new GraphError(404, 100, 'Media not found');
        res.writeHead(200, { 'content-type': media.mimeType.split(';')[0]!, 'content-length': media.data.length });
        res.end(media.data);
        return;
      }
      if (parts.length >= 2 && /^v\d+\.\d+$/.test(parts[0]!)) {
        const answered = await this.accountApi(req, parts.slice(1), url);
        if (answered !== undefined) return json(res, 200, answered);
      }
      if (parts.length === 3 && /^v\d+\.\d+$/.test(parts[0]!) && req.method === 'POST') {
        this.checkToken(req);
        if (parts[1] !== this.options.phoneNumberId) {
          throw new GraphError(400, 100, `Unsupported post request. Object with ID '${parts[1]}' does not exist`);
        }
        this.checkFailure();
        const body = await readBody(req);
        if (parts[2] === 'messages') return json(res, 200, this.acceptMessage(body, req.headers['content-type']));
        if (parts[2] === 'media') return json(res, 200, await this.acceptUpload(body, req.headers['content-type']));
      }
      if (parts.length === 2 && /^v\d+\.\d+$/.test(parts[0]!) && req.method === 'GET') {
        this.checkToken(req);
        this.checkFailure();
        const media = this.media.get(parts[1]!);
        if (!media) throw new GraphError(400, 100, 'Invalid parameter', 'The media id does not exist');
        return json(res, 200, {
          messaging_product: 'whatsapp',
          url: `${this.baseUrl}/media-download/${parts[1]}?ext=${Math.floor(this.now() / 1000) + 300}&hash=${randomBytes(6).toString('hex')}`,
          mime_type: media.mimeType,
          sha256: createHash('sha256').update(media.data).digest('hex'),
          file_size: String(media.data.length),
          id: parts[1],
        });
      }
      throw new GraphError(400, 100, 'Unsupported request');
    } catch (error) {
      if (!(error instanceof GraphError)) throw error;
      this.refused.push({ path: url.pathname, status: error.status, code: error.code, body: error.toBody() });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
      res.writeHead(error.status, headers).end(JSON.stringify(error.toBody()));
    }
  }

  /**
   * The account management calls (undefined: not one of them): the phone number's info (GET /{phone-number-id},
   * what "test connection" calls), templates of the account (GET paged by `after`, POST, DELETE ?name=), the
   * business profile (GET/POST /{phone-number-id}/whatsapp_business_profile) and the Resumable Upload API
   * (POST /{app-id}/uploads, POST /upload:<id> with file_offset).
   */
  private async accountApi(req: IncomingMessage, parts: string[], url: URL): Promise<unknown> {
    const [first, second] = parts;
    if (parts.length === 1 && first === this.options.phoneNumberId && req.method === 'GET') {
      this.checkToken(req);
      this.checkFailure();
      return {
        verified_name: 'sparsam Demo',
        display_phone_number: `+${this.displayNumber}`,
        quality_rating: 'GREEN',
        messaging_limit_tier: 'TIER_1K',
        name_status: 'APPROVED',
        id: this.options.phoneNumberId,
      };
    }
    if (parts.length === 2 && first === this.wabaId && second === 'message_templates') {
      this.checkToken(req);
      this.checkFailure();
      return this.templateApi(req, url);
    }
    if (parts.length === 2 && first === this.options.phoneNumberId && second === 'whatsapp_business_profile') {
      this.checkToken(req);
      this.checkFailure();
      if (req.method === 'GET') return { data: [{ messaging_product: 'whatsapp', ...this.businessProfile }] };
      if (req.method === 'POST') {
        const body = parseJson(await readBody(req, 1024 * 1024));
        this.updateProfile(body);
        return { success: true };
      }
    }
    if (parts.length === 2 && second === 'uploads' && req.method === 'POST') {
      this.checkToken(req);
      const length = Number(url.searchParams.get('file_length'));
      const type = url.searchParams.get('file_type') ?? '';
      if (!Number.isInteger(length) || length <= 0) throw invalid('file_length is required');
      if (!['image/jpeg', 'image/jpg', 'image/png', 'application/pdf', 'video/mp4'].includes(type)) {
        throw invalid('file_type must be application/pdf, image/jpeg, image/jpg, image/png or video/mp4');
      }
      const id = `upload:${randomBytes(12).toString('base64url')}`;
      this.uploads.set(id, { length, type });
      return { id };
    }
    if (parts.length === 1 && first!.startsWith('upload:') && req.method === 'POST') {
      if (req.headers.authorization !== `OAuth ${this.options.accessToken}`) {
        throw new GraphError(401, 190, 'Invalid OAuth access token - the upload step takes "OAuth <token>"');
      }
      const upload = this.uploads.get(first!);
      if (!upload) throw invalid('Upload session not found');
      if (req.headers.file_offset !== '0') throw invalid('file_offset must be 0 for a new upload');
      const data = await readBody(req, 20 * 1024 * 1024);
      if (data.length !== upload.length) throw invalid('The file is not file_length bytes long');
      const handle = `4:${randomBytes(16).toString('base64url')}`;
      this.handles.set(handle, { data, mimeType: upload.type });
      return { h: handle };
    }
    return undefined;
  }

  private templateApi(req: IncomingMessage, url: URL): Promise<unknown> | unknown {
    if (req.method === 'GET') {
      const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 25) || 25, 1), 100);
      const after = url.searchParams.get('after');
      const start = after ? Number(Buffer.from(after, 'base64url').toString()) : 0;
      const page = this.accountTemplates.slice(start, start + limit);
      const end = start + page.length;
      const cursor = (n: number) => Buffer.from(String(n)).toString('base64url');
      return {
        data: page.map((t) => structuredClone(t)),
        paging: {
          cursors: { before: cursor(start), after: cursor(end) },
          ...(end < this.accountTemplates.length
            ? {
                next: `${this.baseUrl}/${url.pathname.split('/')[1]}/${this.wabaId}/message_templates?after=${cursor(end)}`,
              }
            : {}),
        },
      };
    }
    if (req.method === 'DELETE') {
      const name = url.searchParams.get('name');
      if (!name) throw invalid('name is required');
      const before = this.accountTemplates.length;
      for (let i = this.accountTemplates.length - 1; i >= 0; i--) {
        if (this.accountTemplates[i]!.name === name) this.accountTemplates.splice(i, 1);
      }
      if (this.accountTemplates.length === before) {
        throw new GraphError(404, 100, `Message template "${name}" not found`);
      }
      return { success: true };
    }
    if (req.method === 'POST') return this.createTemplate(req);
    throw invalid('Unsupported method');
  }

  private async createTemplate(req: IncomingMessage): Promise<unknown> {
    const body = parseJson(await readBody(req, 1024 * 1024));
    const { name, language, category, components } = body;
    if (typeof name !== 'string' || !/^[a-z0-9_]{1,512}$/.test(name)) throw invalid('Invalid template name');
    if (typeof language !== 'string' || !/^[a-z]{2,3}(_[A-Z]{2})?$/.test(language)) throw invalid('Invalid language');
    if (!['MARKETING', 'UTILITY', 'AUTHENTICATION'].includes(String(category))) throw invalid('Invalid category');
    if (!Array.isArray(components)) throw invalid('components is required');
    const list = components as Record<string, unknown>[];
    const bodyPart = list.find((c) => c.type === 'BODY');
    if (typeof bodyPart?.text !== 'string' || bodyPart.text.length === 0 || bodyPart.text.length > 1024) {
      throw invalid('A BODY component with text of at most 1024 characters is required');
    }
    const vars = [...bodyPart.text.matchAll(/\{\{(\d+)\}\}/g)].length;
    const examples = (bodyPart.example as { body_text?: unknown[][] } | undefined)?.body_text?.[0];
    if (vars > 0 && (!Array.isArray(examples) || examples.length !== vars)) {
      throw new GraphError(400, 100, 'Invalid parameter', 'Body text has variables but no (or wrong) examples');
    }
    const header = list.find((c) => c.type === 'HEADER');
    if (header && header.format !== 'TEXT') {
      const handle = (header.example as { header_handle?: unknown[] } | undefined)?.header_handle?.[0];
      if (typeof handle !== 'string' || !this.handles.has(handle)) {
        throw new GraphError(400, 100, 'Invalid parameter', 'A media header needs an uploaded sample (header_handle)');
      }
    }
    if (this.accountTemplates.some((t) => t.name === name && t.language === language)) {
      throw new GraphError(400, 192, 'Message template already exists', `${name} (${language}) exists`);
    }
    const template: SimulatedTemplate = {
      id: String(1_100_000_000_000 + Math.floor(Math.random() * 1e9)),
      name,
      language,
      category: String(category),
      status: 'PENDING',
      rejected_reason: 'NONE',
      components: structuredClone(list),
    };
    this.accountTemplates.push(template);
    const review = this.options.templateReview === undefined ? { delayMs: 1500 } : this.options.templateReview;
    if (review) {
      const run = async () => {
        await this.sleep(review.delayMs);
        if (this.closed) return;
        const rejected = name.includes('reject');
        await this.reviewTemplate(
          name,
          language,
          rejected ? 'REJECTED' : 'APPROVED',
          rejected ? 'INVALID_FORMAT' : 'NONE',
        );
      };
      this.track(run());
    }
    return { id: template.id, status: 'PENDING', category: template.category };
  }

  private updateProfile(body: Record<string, unknown>): void {
    if (body.messaging_product !== 'whatsapp') throw invalid('messaging_product must be "whatsapp"');
    const p = this.businessProfile;
    const text = (key: 'about' | 'address' | 'description' | 'email' | 'vertical', max: number, min = 0) => {
      const v = body[key];
      if (v === undefined) return;
      if (typeof v !== 'string' || v.length < min || v.length > max) {
        throw new GraphError(400, 100, 'Invalid parameter', `${key} must be ${min}-${max} characters`);
      }
      p[key] = v;
    };
    text('about', 139, 1);
    text('address', 256);
    text('description', 512);
    text('email', 128);
    text('vertical', 40);
    if (body.websites !== undefined) {
      const w = body.websites;
      if (
        !Array.isArray(w) ||
        w.length > 2 ||
        w.some((x) => typeof x !== 'string' || x.length > 256 || !/^https?:\/\//.test(x))
      ) {
        throw new GraphError(400, 100, 'Invalid parameter', 'websites: at most 2 http(s) addresses of 256 characters');
      }
      p.websites = w as string[];
    }
    if (body.profile_picture_handle !== undefined) {
      const photo = this.handles.get(String(body.profile_picture_handle));
      if (!photo) throw new GraphError(400, 100, 'Invalid parameter', 'Unknown profile_picture_handle');
      this.profilePhoto = photo;
      p.profile_picture_url = `${this.baseUrl}/profile-photo?v=${randomBytes(4).toString('hex')}`;
    }
  }

  private checkToken(req: IncomingMessage): void {
    if (req.headers.authorization !== `Bearer ${this.options.accessToken}`) {
      throw new GraphError(401, 190, 'Invalid OAuth access token - Cannot parse access token');
    }
  }

  private checkFailure(): void {
    const failure = this.failure;
    if (!failure) return;
    const left = failure.until - this.now();
    if (left <= 0) {
      this.failure = undefined;
      return;
    }
    if (failure.left !== undefined && failure.left-- <= 0) {
      this.failure = undefined;
      return;
    }
    const answer = failure.answers[failure.next++ % failure.answers.length]!;
    const message =
      answer.status === 429 || answer.code === 130429
        ? 'Rate limit hit'
        : answer.status === 503
          ? 'Service temporarily unavailable'
          : 'Something went wrong';
    const retryAfter = answer.retryAfter === 'remaining' ? Math.ceil(left / 1000) : answer.retryAfter;
    throw new GraphError(answer.status, answer.code, message, undefined, retryAfter);
  }

  private acceptMessage(raw: Buffer, contentType: string | undefined): unknown {
    if (!contentType?.startsWith('application/json')) throw invalid('The request body must be JSON');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw invalid('The request body is not valid JSON');
    }
    if (!body || typeof body !== 'object' || body.messaging_product !== 'whatsapp') {
      throw invalid('The parameter messaging_product is required and must be "whatsapp"');
    }
    if (body.status === 'read') {
      const id = body.message_id;
      if (typeof id !== 'string' || !this.inboundIds.has(id))
        throw new GraphError(400, 131009, 'Parameter value is not valid', 'Invalid message_id');
      this.readReceipts.push(id);
      return { success: true };
    }
    const to = typeof body.to === 'string' ? normalizeNumber(body.to) : '';
    if (!/^\d{6,20}$/.test(to)) throw invalid('The parameter to is required and must be a phone number');
    const type = body.type;
    if (typeof type !== 'string' || !SEND_TYPES.has(type))
      throw invalid('The parameter type is missing or not supported');
    const view = this.validateContent(type, body);
    const customer = this.customer(to);
    if (type !== 'template') {
      const last = customer.lastInboundAt;
      if (last === undefined || this.now() - last > WINDOW_MS) {
        throw new GraphError(
          400,
          131047,
          'Re-engagement message',
          'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
        );
      }
    }
    const id = this.newWamid(to);
    const sent: SentMessage = { id, to, type, body, ...view, at: this.now() };
    this.sent.push(sent);
    const phoneEntry: PhoneEntry = {
      direction: 'out',
      id,
      at: sent.at,
      text:
        view.text ??
        (view.template ? `[Vorlage ${view.template.name}] ${view.template.parameters.join(' · ')}` : `[${type}]`),
      kind: type,
      status: 'accepted',
    };
    if (view.buttons) phoneEntry.buttons = view.buttons;
    if (view.mediaId) {
      phoneEntry.mediaUrl = `phone/media/${view.mediaId}`;
      const fileName = (body[type] as { filename?: unknown }).filename;
      if (typeof fileName === 'string') phoneEntry.fileName = fileName;
    }
    customer.thread.push(phoneEntry);
    if (this.options.autoStatuses !== false) this.scheduleStatuses(sent, phoneEntry);
    return {
      messaging_product: 'whatsapp',
      contacts: [{ input: String(body.to), wa_id: to }],
      messages: [{ id, ...(type === 'template' ? { message_status: 'accepted' } : {}) }],
    };
  }

  private validateContent(
    type: string,
    body: Record<string, unknown>,
  ): Pick<SentMessage, 'text' | 'buttons' | 'list' | 'voice' | 'template' | 'mediaId'> {
    const object = body[type] as Record<string, unknown> | undefined;
    if (!object || typeof object !== 'object') throw invalid(`The parameter ${type} is required`);
    const none = { text: undefined, buttons: undefined, template: undefined, mediaId: undefined };
    switch (type) {
      case 'text': {
        const text = object.body;
        if (typeof text !== 'string' || text.trim() === '') throw invalid('The parameter text.body is required');
        if ([...text].length > 4096) throw invalid('text.body is longer than 4096 characters');
        return { ...none, text };
      }
      case 'reaction': {
        // Meta: reaction.message_id must be a message of this conversation; an empty emoji removes the reaction.
        const target = object.message_id;
        if (typeof target !== 'string' || !target.startsWith('wamid.'))
          throw invalid('The parameter reaction.message_id is required');
        if (typeof object.emoji !== 'string') throw invalid('The parameter reaction.emoji is required');
        return { ...none, text: object.emoji };
      }
      case 'interactive': {
        if (object.type !== 'button' && object.type !== 'list') {
          throw invalid('Only interactive types "button" and "list" are simulated');
        }
        const text = (object.body as { text?: unknown } | undefined)?.text;
        if (typeof text !== 'string' || text === '') throw invalid('The parameter interactive.body.text is required');
        if ([...text].length > 1024) throw invalid('interactive.body.text is longer than 1024 characters');
        if (object.type === 'list') return { ...none, text, list: validateList(object.action) };
        const buttons = (object.action as { buttons?: unknown } | undefined)?.buttons;
        if (!Array.isArray(buttons) || buttons.length < 1 || buttons.length > 3) {
          throw invalid('interactive.action.buttons must have 1 to 3 buttons');
        }
        const parsed = buttons.map((b: { type?: unknown; reply?: { id?: unknown; title?: unknown } }) => {
          const id = b?.reply?.id;
          const title = b?.reply?.title;
          if (b?.type !== 'reply' || typeof id !== 'string' || typeof title !== 'string') {
            throw invalid('every button needs type "reply" and reply.id and reply.title');
          }
          if ([...title].length < 1 || [...title].length > 20)
            throw invalid('Button title length invalid. Min length: 1, Max length: 20');
          if (id.length < 1 || id.length > 256) throw invalid('Button id length invalid. Max length: 256');
          return { id, title };
        });
        if (new Set(parsed.map((b) => b.title)).size !== parsed.length) throw invalid('Button titles must be unique');
        return { ...none, text, buttons: parsed };
      }
      case 'template': {
        const name = object.name;
        const language = (object.language as { code?: unknown } | undefined)?.code;
        if (typeof name !== 'string' || name === '' || typeof language !== 'string') {
          throw invalid('template.name and template.language.code are required');
        }
        const components = Array.isArray(object.components)
          ? (object.components as { type?: string; parameters?: { text?: string }[] }[])
          : [];
        const parameters =
          components.find((c) => c.type === 'body')?.parameters?.map((p) => String(p.text ?? '')) ?? [];
        return { ...none, template: { name, language, parameters } };
      }
      default: {
        const id = object.id;
        const link = object.link;
        if (typeof id === 'string') {
          if (!this.media.has(id)) throw invalid('The media id does not exist');
        } else if (typeof link !== 'string') {
          throw invalid(`${type}.id or ${type}.link is required`);
        }
        const caption = typeof object.caption === 'string' ? object.caption : undefined;
        let voice: boolean | undefined;
        if (type === 'audio' && object.voice !== undefined) {
          if (typeof object.voice !== 'boolean') throw invalid('audio.voice must be a boolean');
          voice = object.voice;
          // Meta: voice messages require .ogg files with the OPUS codec (audio-messages page).
          const hosted = typeof id === 'string' ? this.media.get(id) : undefined;
          if (voice && hosted && !hosted.mimeType.startsWith('audio/ogg')) {
            throw invalid('A voice message must be an .ogg file with the OPUS codec');
          }
        }
        return { ...none, text: caption, mediaId: typeof id === 'string' ? id : undefined, voice };
      }
    }
  }

  private async acceptUpload(raw: Buffer, contentType: string | undefined): Promise<unknown> {
    if (!contentType?.startsWith('multipart/form-data')) throw invalid('Upload media as multipart/form-data');
    let form: FormData;
    try {
      form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
    } catch {
      throw invalid('The multipart body cannot be read');
    }
    const file = form.get('file');
    const type = form.get('type');
    if (form.get('messaging_product') !== 'whatsapp') throw invalid('The parameter messaging_product is required');
    if (!file || typeof file === 'string') throw invalid('The parameter file is required');
    if (typeof type !== 'string' || !type.includes('/')) throw invalid('The parameter type is required');
    const id = this.host(Buffer.from(await file.arrayBuffer()), type, file.name || undefined);
    return { id };
  }

  private scheduleStatuses(sent: SentMessage, entry: PhoneEntry): void {
    const delay = this.options.statusDelayMs ?? 100;
    const failure = this.nextDeliveryFailure;
    this.nextDeliveryFailure = undefined;
    const steps: ('sent' | 'delivered' | 'read' | 'failed')[] = failure
      ? ['sent', 'failed']
      : ['sent', 'delivered', 'read'];
    const run = async () => {
      for (const status of steps) {
        await this.sleep(delay);
        if (this.closed) return;
        const value = {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: this.displayNumber, phone_number_id: this.options.phoneNumberId },
          statuses: [
            {
              id: sent.id,
              status,
              timestamp: String(Math.floor(this.now() / 1000)),
              recipient_id: sent.to,
              ...(status === 'sent'
                ? {
                    conversation: {
                      id: randomBytes(16).toString('hex'),
                      origin: { type: sent.type === 'template' ? 'utility' : 'service' },
                    },
                  }
                : {}),
              ...(status === 'failed' && failure
                ? {
                    errors: [
                      {
                        code: failure.code,
                        title: failure.title,
                        message: failure.title,
                        error_data: { details: failure.details },
                        href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
                      },
                    ],
                  }
                : {}),
              pricing: {
                billable: sent.type === 'template',
                pricing_model: 'PMP',
                type: sent.type === 'template' ? 'regular' : 'free_customer_service',
                category: sent.type === 'template' ? 'utility' : 'service',
              },
            },
          ],
        };
        entry.status = status;
        const delivery = await this.deliver('status', sent.id, value, status);
        this.statuses.push(delivery);
      }
    };
    this.track(run());
  }

  // ---- the customer phone page's JSON API ----

  private async phoneApi(req: IncomingMessage, res: ServerResponse, parts: string[], url: URL): Promise<void> {
    if (req.method === 'GET' && parts[0] === 'thread') {
      const number = normalizeNumber(url.searchParams.get('number') ?? '');
      const customer = this.customers.get(number);
      return json(res, 200, {
        number,
        name: customer?.name ?? null,
        windowOpen: customer?.lastInboundAt !== undefined && this.now() - customer.lastInboundAt <= WINDOW_MS,
        thread: customer?.thread ?? [],
        failure:
          this.failure && this.failure.until > this.now()
            ? { status: this.failure.status, code: this.failure.code }
            : null,
      });
    }
    if (req.method === 'GET' && parts[0] === 'media' && parts.length === 2) {
      // A file sparsam sent, for the phone page. Served inert: a sandbox CSP and no sniffing.
      const media = this.media.get(parts[1]!);
      if (!media) return json(res, 404, { error: 'not found' });
      const type = media.mimeType.split(';')[0]!;
      res.writeHead(200, {
        'content-type': /^[a-z]+\/[a-z0-9.+-]+$/i.test(type) ? type : 'application/octet-stream',
        'content-length': media.data.length,
        'content-security-policy': "default-src 'none'; sandbox",
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
      });
      res.end(media.data);
      return;
    }
    if (req.method === 'POST' && parts[0] === 'send') {
      const body = JSON.parse((await readBody(req)).toString('utf8') || '{}') as {
        from?: string;
        name?: string;
        text?: string;
        buttonReply?: { id: string; title: string; contextId?: string };
        image?: { base64: string; mimeType?: string; caption?: string };
      };
      try {
        const input: CustomerMessageInput = { from: body.from ?? '' };
        if (body.name) input.name = body.name;
        if (body.buttonReply) input.buttonReply = body.buttonReply;
        else if (body.image) {
          input.image = { data: Buffer.from(body.image.base64, 'base64') };
          if (body.image.mimeType) input.image.mimeType = body.image.mimeType;
          if (body.image.caption) input.image.caption = body.image.caption;
        } else input.text = body.text ?? '';
        const delivery = await this.sendCustomerMessage(input);
        return json(res, 200, { delivered: delivery.delivered, attempts: delivery.attempts.map((a) => a.status) });
      } catch (error) {
        return json(res, 400, { error: (error as Error).message });
      }
    }
    if (req.method === 'GET' && parts[0] === 'numbers') {
      return json(res, 200, {
        numbers: [...this.customers.entries()].map(([number, c]) => ({ number, name: c.name })),
      });
    }
    json(res, 404, { error: 'not found' });
  }

  // ---- helpers ----

  private get displayNumber(): string {
    return this.options.displayPhoneNumber ?? '4930901820';
  }

  private customer(number: string, name?: string): CustomerState {
    let customer = this.customers.get(number);
    if (!customer) {
      customer = { name: name ?? 'Test Customer', lastInboundAt: undefined, thread: [] };
      this.customers.set(number, customer);
    } else if (name) {
      customer.name = name;
    }
    return customer;
  }

  private lastButtonMessageTo(number: string): string | undefined {
    return [...this.sent].reverse().find((m) => m.to === number && m.buttons)?.id;
  }

  private host(data: Buffer, mimeType: string, fileName?: string): string {
    const id = String(1_000_000_000_000_000n + BigInt(++this.seq) * 7919n + BigInt(Math.floor(Math.random() * 1000)));
    this.media.set(id, { data, mimeType, sha256: createHash('sha256').update(data).digest('base64'), fileName });
    return id;
  }

  private newWamid(number: string): string {
    const inner = `${number}${randomBytes(10).toString('hex').toUpperCase()}${++this.seq}`;
    return `wamid.${Buffer.from(inner).toString('base64')}`;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.set(timer, resolve);
    });
  }

  private track(promise: Promise<unknown>): void {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise));
  }
}

function invalid(details: string): GraphError {
  return new GraphError(400, 100, 'Invalid parameter', details);
}

function normalizeNumber(value: string): string {
  return value.replace(/^\+/, '').replace(/[\s-]/g, '');
}

/**
 * JSON as Meta serialises webhooks: non-ASCII characters as lower-case \uXXXX escapes (surrogate pairs for emoji)
 * and "/" as "\/". The signature is over exactly these bytes.
 */
export function metaJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/\//g, '\\/');
}

async function readBody(req: IncomingMessage, limit = 110 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new GraphError(413, 100, 'Request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseJson(raw: Buffer): Record<string, unknown> {
  try {
    const value = JSON.parse(raw.toString('utf8')) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw invalid('The body is not a JSON object');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** What `sparsam demo` loads from this file by path (src/cli/demo.command.ts); typed here so the two stay in step. */
export const demoSimulator: DemoSimulatorModule<WhatsAppSimulator> = { startSimulator };

/**
 * Meta's limits for an interactive list (interactive-list-messages): button label 1-20 characters, 1-10 sections,
 * 1-10 rows across all sections, row title 1-24, row description up to 72, row id 1-200 and unique, section title
 * up to 24 (required when there is more than one section).
 */
function validateList(action: unknown): SimulatedList {
  const a = (action ?? {}) as { button?: unknown; sections?: unknown };
  if (typeof a.button !== 'string' || [...a.button].length < 1 || [...a.button].length > 20) {
    throw invalid('interactive.action.button must be 1 to 20 characters');
  }
  if (!Array.isArray(a.sections) || a.sections.length < 1 || a.sections.length > 10) {
    throw invalid('interactive.action.sections must have 1 to 10 sections');
  }
  const ids = new Set<string>();
  let rows = 0;
  const sections = (a.sections as { title?: unknown; rows?: unknown }[]).map((s) => {
    if (s.title !== undefined && (typeof s.title !== 'string' || [...s.title].length > 24)) {
      throw invalid('A section title is at most 24 characters');
    }
    if (s.title === undefined && (a.sections as unknown[]).length > 1) {
      throw invalid('Every section needs a title when there is more than one');
    }
    if (!Array.isArray(s.rows) || s.rows.length < 1) throw invalid('Every section needs at least one row');
    const parsed = (s.rows as { id?: unknown; title?: unknown; description?: unknown }[]).map((r) => {
      if (typeof r.id !== 'string' || r.id.length < 1 || r.id.length > 200)
        throw invalid('A row id is 1 to 200 characters');
      if (typeof r.title !== 'string' || [...r.title].length < 1 || [...r.title].length > 24) {
        throw invalid('A row title is 1 to 24 characters');
      }
      if (r.description !== undefined && (typeof r.description !== 'string' || [...r.description].length > 72)) {
        throw invalid('A row description is at most 72 characters');
      }
      if (ids.has(r.id)) throw invalid('Row ids must be unique');
      ids.add(r.id);
      return { id: r.id, title: r.title, ...(typeof r.description === 'string' ? { description: r.description } : {}) };
    });
    rows += parsed.length;
    return { ...(typeof s.title === 'string' ? { title: s.title } : {}), rows: parsed };
  });
  if (rows > 10) throw invalid('A list has at most 10 rows across all sections');
  return { button: a.button, sections };
}
