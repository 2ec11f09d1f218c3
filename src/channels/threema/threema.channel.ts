import { timingSafeEqual } from 'node:crypto';
import type {
  Channel,
  ChannelBalance,
  ChannelCapabilities,
  DownloadedMedia,
  InboundMediaRef,
  OutboundCommand,
  OutboundMediaType,
  SendResult,
  WebhookRequest,
  WebhookResult,
} from '../../core/channel/channel.port.ts';
import { ChannelApiError } from '../../core/channel/channel-errors.ts';
import { MemoryPublicKeyPins, type PublicKeyPinPort } from '../../core/ports/public-key-pin.port.ts';
import { AppError } from '../../shared/app-error.ts';
import type { ChannelDeps } from '../channel-module.ts';
import { ThreemaClient } from './threema.client.ts';
import type { ThreemaChannelConfig } from './threema.config.ts';
import {
  THREEMA_TYPE_FILE,
  THREEMA_TYPE_TEXT,
  newBlobKey,
  openBlob,
  openMessage,
  publicKeyOf,
  sealBlob,
  sealMessage,
} from './threema.crypto.ts';
import { mapThreemaMessage } from './threema.mapper.ts';
import { parseThreemaCallback, type ThreemaCallback } from './threema.parser.ts';
import { verifyThreemaMac } from './threema.signature.ts';

export type { ThreemaChannelConfig };

/** Files up to 50 MB go through the blob server (https://gateway.threema.ch/en/developer/api, "upload_blob"). */
export const THREEMA_MAX_FILE_BYTES = 50 * 1024 * 1024;
/** A text message holds at most 3500 bytes of UTF-8 (the gateway's limit; threema-gateway-rs `send_simple`). */
export const THREEMA_MAX_TEXT_BYTES = 3500;
/** secretbox adds a 16-byte authenticator to every blob. */
const BLOB_OVERHEAD = 16;

const FILE_LIMITS: Readonly<Record<OutboundMediaType, number>> = Object.freeze({
  image: THREEMA_MAX_FILE_BYTES,
  document: THREEMA_MAX_FILE_BYTES,
  audio: THREEMA_MAX_FILE_BYTES,
  video: THREEMA_MAX_FILE_BYTES,
});

/**
 * Threema has no window, no templates and no buttons: the consent notice asks for a keyword reply (core's fallback,
 * as on SMS). Files go both ways, end-to-end encrypted through the blob server.
 */
export const THREEMA_CAPABILITIES: ChannelCapabilities = Object.freeze({
  messagingWindowHours: null,
  supportsButtons: false,
  supportsLists: false,
  supportsTemplates: false,
  supportsReadReceipts: false,
  messagesPerSecond: 5,
  maxMediaBytes: THREEMA_MAX_FILE_BYTES,
  supportsOutboundMedia: true,
  maxTextChars: THREEMA_MAX_TEXT_BYTES,
  maxOutboundMediaBytes: FILE_LIMITS,
});

/** What a Threema channel uses besides its configuration: fetch and the key pins (in memory without a store). */
export type ThreemaChannelDeps = ChannelDeps;

/**
 * A Threema Gateway ID in end-to-end mode. The gateway relays boxes it cannot open: sparsam encrypts every message to
 * the customer's public key with the gateway ID's private key and opens every callback with it. Customers' public
 * keys are pinned on first contact; a box that opens only with a different, newly published key is taken with the
 * message marked `senderKeyChanged` (staff see it) and an audit entry by the inbox, never silently.
 */
export class ThreemaChannel implements Channel {
  readonly kind = 'threema' as const;
  readonly id: string;
  readonly inboxId: string;
  readonly capabilities = THREEMA_CAPABILITIES;
  readonly client: ThreemaClient;
  private readonly pins: PublicKeyPinPort;
  private readonly secretKey: Uint8Array | undefined;

  constructor(
    private readonly config: ThreemaChannelConfig,
    deps: ThreemaChannelDeps,
  ) {
    this.id = config.id;
    this.inboxId = config.inbox;
    this.pins = deps.publicKeyPins ?? new MemoryPublicKeyPins();
    this.secretKey = config.privateKey ? Uint8Array.from(Buffer.from(config.privateKey, 'hex')) : undefined;
    this.client = new ThreemaClient({
      gatewayId: config.gatewayId,
      apiSecret: config.apiSecret,
      apiBaseUrl: config.apiBaseUrl,
      fetch: deps.fetch,
    });
  }

  /** The gateway ID's public key (what Threema's directory publishes for it). */
  get publicKey(): Uint8Array {
    return publicKeyOf(this.key());
  }

  private key(): Uint8Array {
    if (!this.secretKey) {
      throw new AppError(
        'CONFIG',
        `channels: Threema channel "${this.id}" has no privateKey: give it once (privateKey: env:THREEMA_PRIVATE_KEY) ` +
          'so that sparsam seals it into the key store',
      );
    }
    return this.secretKey;
  }

  /**
   * Checks the MAC (401 when missing or wrong), the fields (400), then opens the box with the sender's pinned public
   * key, or the key the gateway publishes on first contact or after a change. A box that opens with neither is
   * refused with 400 `reason: undecryptable` (the route writes one content-free audit entry; nothing is stored).
   */
  async verifyAndParse(request: WebhookRequest): Promise<WebhookResult> {
    if (request.method !== 'POST') throw new AppError('VALIDATION', 'Threema callbacks are POST requests');
    const type = String(request.headers['content-type'] ?? '');
    if (!type.startsWith('application/x-www-form-urlencoded')) {
      throw new AppError('SIGNATURE_INVALID', 'Threema callbacks are form posts; this request is not one');
    }
    const params = new URLSearchParams(request.rawBody?.toString('utf8') ?? '');
    const get = (name: string) => params.get(name) ?? undefined;
    verifyThreemaMac(this.config.apiSecret, get);
    const callback = parseThreemaCallback(get, this.config.gatewayId);
    const { opened, keyChanged, pin } = await this.open(callback);
    const mapping = mapThreemaMessage(callback, opened, this.id, keyChanged);
    return { kind: 'events', events: mapping.events, ignored: mapping.ignored, afterCommit: pin };
  }

  private async open(callback: ThreemaCallback): Promise<{
    opened: { type: number; payload: Uint8Array };
    keyChanged: boolean;
    /** Pins the key the box opened with; run after the commit. */
    pin: (() => Promise<void>) | undefined;
  }> {
    const secretKey = this.key();
    const pinned = await this.pins.get(this.id, callback.from);
    if (pinned) {
      const opened = openMessage(callback.box, callback.nonce, pinned, secretKey);
      if (opened) return { opened, keyChanged: false, pin: undefined };
    }
    let current: Uint8Array;
    try {
      current = await this.client.publicKey(callback.from);
    } catch (error) {
      // The directory does not know the sender: a box nobody can open, refused like one (the gateway stops retrying).
      if (error instanceof ChannelApiError && error.httpStatus === 404) {
        throw new AppError('VALIDATION', 'the Threema directory has no public key for the sender', {
          reason: 'undecryptable',
        });
      }
      throw error;
    }
    const opened =
      pinned && sameKey(pinned, current) ? undefined : openMessage(callback.box, callback.nonce, current, secretKey);
    if (!opened) {
      throw new AppError('VALIDATION', "the Threema message does not open with the sender's public key", {
        reason: 'undecryptable',
      });
    }
    const from = callback.from;
    const pin = pinned
      ? () => this.pins.replace(this.id, from, current)
      : () => this.pins.pinIfAbsent(this.id, from, current);
    return { opened, keyChanged: pinned !== undefined, pin };
  }

  /** The customer's pinned key, fetched and pinned when none is (a first message sent by staff). */
  private async recipientKey(address: string): Promise<Uint8Array> {
    const pinned = await this.pins.get(this.id, address);
    if (pinned) return pinned;
    const current = await this.client.publicKey(address);
    await this.pins.pinIfAbsent(this.id, address, current);
    return (await this.pins.get(this.id, address)) ?? current;
  }

  async send(command: OutboundCommand): Promise<SendResult> {
    switch (command.type) {
      case 'text':
        return { providerMessageId: await this.sendText(command.address, command.text) };
      case 'buttons': {
        // capabilities.supportsButtons is false, so core sends keyword prompts as text; should buttons arrive
        // anyway, their titles are listed so that the customer can answer with one of them.
        const lines = [command.text, '', ...command.buttons.map((b) => `- ${b.title}`)];
        if (command.footer) lines.push('', command.footer);
        return { providerMessageId: await this.sendText(command.address, lines.join('\n')) };
      }
      case 'media':
        return { providerMessageId: await this.sendFile(command) };
      case 'template':
        throw new ChannelApiError('unsupported', 'Threema has no message templates', 400, false);
      case 'list':
        // capabilities.supportsLists is false: core never asks; refusing keeps a wrong call visible.
        throw new ChannelApiError('unsupported', 'Threema has no list messages', 400, false);
      case 'read':
        // capabilities.supportsReadReceipts is false: no receipts are sent to the customer.
        return { providerMessageId: undefined };
    }
  }

  private async sendText(address: string, text: string): Promise<string> {
    const payload = new TextEncoder().encode(text);
    if (payload.length === 0) throw new ChannelApiError('invalid_request', 'the message is empty', 400, false);
    if (payload.length > THREEMA_MAX_TEXT_BYTES) {
      throw new ChannelApiError('too_long', `a Threema text holds at most ${THREEMA_MAX_TEXT_BYTES} bytes`, 413, false);
    }
    const recipient = await this.recipientKey(address);
    const { nonce, box } = sealMessage(THREEMA_TYPE_TEXT, payload, recipient, this.key());
    return this.client.sendE2e(address, nonce, box);
  }

  /** Encrypts the file with a fresh key, uploads it, and sends a file message (0x17) naming blob and key. */
  private async sendFile(command: Extract<OutboundCommand, { type: 'media' }>): Promise<string> {
    const recipient = await this.recipientKey(command.address);
    const blobKey = newBlobKey();
    const blobId = await this.client.uploadBlob(sealBlob(command.data, blobKey));
    const descriptor = {
      b: blobId,
      k: Buffer.from(blobKey).toString('hex'),
      m: command.mimeType,
      n: command.fileName ?? defaultName(command.mimeType),
      s: command.data.length,
      // Rendering: 1 shows images and videos as media, 0 as a file.
      j: command.mediaType === 'image' || command.mediaType === 'video' ? 1 : 0,
      i: command.mediaType === 'image' || command.mediaType === 'video' ? 1 : 0,
      ...(command.caption ? { d: command.caption } : {}),
    };
    const payload = new TextEncoder().encode(JSON.stringify(descriptor));
    const { nonce, box } = sealMessage(THREEMA_TYPE_FILE, payload, recipient, this.key());
    return this.client.sendE2e(command.address, nonce, box);
  }

  /** Fetches the blob named by `<blobId>:<blobKey>` and decrypts it; the media sanitizer checks it afterwards. */
  async downloadMedia(ref: InboundMediaRef): Promise<DownloadedMedia> {
    const [blobId, keyHex] = ref.providerMediaId.split(':');
    if (!blobId || !keyHex || !/^[0-9a-f]{64}$/.test(keyHex)) {
      throw new ChannelApiError('invalid_blob', 'the file reference is malformed', 400, false);
    }
    const encrypted = await this.client.downloadBlob(blobId, this.capabilities.maxMediaBytes + BLOB_OVERHEAD);
    const data = openBlob(new Uint8Array(encrypted.data), Uint8Array.from(Buffer.from(keyHex, 'hex')));
    if (!data) throw new ChannelApiError('undecryptable_file', 'the Threema file does not decrypt', 422, false);
    return { data: Buffer.from(data), mimeType: ref.mimeType };
  }

  /** The gateway account's credits, with the configured warning threshold. */
  async balance(): Promise<ChannelBalance> {
    return { credits: await this.client.credits(), warnBelow: this.config.creditsWarningBelow };
  }
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function defaultName(mime: string): string {
  const ext = mime.split('/')[1]?.replace(/[^a-z0-9]/gi, '') || 'bin';
  return `file.${ext}`;
}

/** The factory of kind `threema` (threema.module.ts). */
export function createThreemaChannel(config: ThreemaChannelConfig, deps: ThreemaChannelDeps): ThreemaChannel {
  return new ThreemaChannel(config, deps);
}
