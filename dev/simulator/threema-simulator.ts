import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import nacl from 'tweetnacl';
import { threemaMac } from '../../src/channels/threema/threema.signature.ts';

/**
 * A local stand-in for the Threema Gateway (E2E mode), for tests and `npm run demo -- --threema`. It serves what
 * sparsam calls (`GET /pubkeys/{id}`, `POST /send_e2e`, `POST /upload_blob`, `GET /blobs/{id}`, `GET /credits`),
 * checking `from` and `secret` on every call, and plays the customers' Threema apps: each simulated customer has a
 * key pair; what sparsam sends is opened with the customer's secret key (so tests see exactly what would arrive),
 * and {@link ThreemaSimulator.textCallback} and friends build callbacks encrypted to the gateway's public key and
 * MAC'd with the API secret, exactly as the gateway posts them. Only localhost; nothing here is for production.
 */

export interface ThreemaSimulatorOptions {
  gatewayId: string;
  apiSecret: string;
  /** The gateway ID's private key (64 hex), as configured in sparsam: its public key is what customers encrypt to. */
  gatewayPrivateKey: string;
  /** Where callbacks go (sparsam's `/webhooks/threema/<channelId>`); settable later. */
  webhookUrl?: string;
  /** Credits on the simulated account (each send costs one). */
  credits?: number;
  port?: number;
  host?: string;
}

/** A message sparsam sent, as the customer's app opened it. */
export interface ReceivedByCustomer {
  to: string;
  messageId: string;
  type: number;
  /** Nonce as sent (hex); a new random one each time. */
  nonce: string;
  /** Padding bytes the box carried (1-255). */
  padding: number;
  text?: string;
  file?: { data: Buffer; mimeType: string; fileName: string | undefined; caption: string | undefined };
}

interface SimulatedCustomer {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
  nickname: string | undefined;
}

const FILE_NONCE = Uint8Array.from([...new Array<number>(23).fill(0), 1]);

export class ThreemaSimulator {
  /** Every message sparsam sent, opened. */
  readonly received: ReceivedByCustomer[] = [];
  /** Every API call: path (without query) and the status answered. */
  readonly calls: { path: string; status: number }[] = [];
  /** Boxes that reached send_e2e but did not open with the customer's key (should stay empty). */
  readonly unreadable: string[] = [];
  credits: number;
  webhookUrl: string | undefined;

  private server: Server | undefined;
  private baseUrl = '';
  private readonly gatewayPublicKey: Uint8Array;
  private readonly customers = new Map<string, SimulatedCustomer>();
  private readonly blobs = new Map<string, Buffer>();
  private readonly sendFailures: number[] = [];
  private dateSeq = 0;

  constructor(private readonly options: ThreemaSimulatorOptions) {
    this.gatewayPublicKey = nacl.box.keyPair.fromSecretKey(Buffer.from(options.gatewayPrivateKey, 'hex')).publicKey;
    this.credits = options.credits ?? 1000;
    this.webhookUrl = options.webhookUrl;
  }

  get url(): string {
    if (!this.baseUrl) throw new Error('the Threema simulator is not started');
    return this.baseUrl;
  }

  async start(port = this.options.port ?? 0, host = this.options.host ?? '127.0.0.1'): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, host, resolve));
    const address = this.server.address() as AddressInfo;
    this.baseUrl = `http://${host}:${address.port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A simulated customer (a key pair per Threema ID), created on first use. */
  customer(id: string, nickname?: string): SimulatedCustomer {
    let c = this.customers.get(id);
    if (!c) {
      c = { ...nacl.box.keyPair(), nickname };
      this.customers.set(id, c);
    }
    return c;
  }

  /** The customer re-installs Threema with a new key pair under the same ID (the directory publishes the new key). */
  rotateKey(id: string): void {
    const old = this.customer(id);
    this.customers.set(id, { ...nacl.box.keyPair(), nickname: old.nickname });
  }

  /** The next `times` send_e2e calls are answered with `status` (402: no credits, 500: a gateway failure). */
  failSends(status: number, times = 1): void {
    for (let i = 0; i < times; i++) this.sendFailures.push(status);
  }

  /** What the customer with `id` received from sparsam, in order. */
  receivedBy(id: string): ReceivedByCustomer[] {
    return this.received.filter((m) => m.to === id);
  }

  // --------------------------------------------------------------------------------------------- callbacks

  /**
   * A callback as the gateway posts it (form-encoded; MAC over from, to, messageId, date, nonce, box): a message of
   * `type` with `payload`, encrypted by the customer's app to the gateway's public key, with random padding.
   */
  callback(
    from: string,
    type: number,
    payload: Uint8Array,
    options: { messageId?: string; date?: number; senderSecretKey?: Uint8Array; nickname?: string } = {},
  ): string {
    const customer = this.customer(from);
    const padAmount = 1 + (randomBytes(1)[0]! % 255);
    const plain = Buffer.concat([Buffer.from([type]), Buffer.from(payload), Buffer.alloc(padAmount, padAmount)]);
    const nonce = randomBytes(24);
    const box = nacl.box(plain, nonce, this.gatewayPublicKey, options.senderSecretKey ?? customer.secretKey);
    return this.signedForm({
      from,
      messageId: options.messageId ?? randomBytes(8).toString('hex'),
      date: options.date,
      nonce: nonce.toString('hex'),
      box: Buffer.from(box).toString('hex'),
      nickname: options.nickname ?? customer.nickname,
    });
  }

  /** A form with a valid MAC over the given hex strings (for boxes that are deliberately broken). */
  signedForm(fields: {
    from: string;
    messageId?: string;
    date?: number;
    nonce: string;
    box: string;
    nickname?: string | undefined;
    secret?: string;
  }): string {
    const values = {
      from: fields.from,
      to: this.options.gatewayId,
      messageId: fields.messageId ?? randomBytes(8).toString('hex'),
      date: String(fields.date ?? Math.floor(Date.now() / 1000) + this.dateSeq++),
      nonce: fields.nonce,
      box: fields.box,
    };
    const form = new URLSearchParams(values);
    form.set('mac', threemaMac(fields.secret ?? this.options.apiSecret, values));
    if (fields.nickname) form.set('nickname', fields.nickname);
    return form.toString();
  }

  /** A text message (type 0x01) from the customer. */
  textCallback(from: string, text: string, options: { messageId?: string; date?: number } = {}): string {
    return this.callback(from, 0x01, new TextEncoder().encode(text), options);
  }

  /** A file message (type 0x17): the file is encrypted with a fresh key and put on the blob server first. */
  fileCallback(
    from: string,
    file: { data: Buffer; mimeType: string; fileName?: string; caption?: string },
    options: { messageId?: string } = {},
  ): string {
    const key = randomBytes(32);
    const blobId = randomBytes(16).toString('hex');
    this.blobs.set(blobId, Buffer.from(nacl.secretbox(file.data, FILE_NONCE, key)));
    const descriptor = {
      b: blobId,
      k: key.toString('hex'),
      m: file.mimeType,
      n: file.fileName ?? 'file',
      s: file.data.length,
      i: 0,
      ...(file.caption ? { d: file.caption } : {}),
    };
    return this.callback(from, 0x17, new TextEncoder().encode(JSON.stringify(descriptor)), options);
  }

  /** A delivery receipt (type 0x80): 1 received, 2 read, 3 acknowledged, 4 declined, for sparsam's message ids. */
  receiptCallback(from: string, status: 1 | 2 | 3 | 4, messageIds: string[]): string {
    const payload = Buffer.concat([Buffer.from([status]), ...messageIds.map((id) => Buffer.from(id, 'hex'))]);
    return this.callback(from, 0x80, payload);
  }

  /** Posts a callback to {@link webhookUrl}, as the gateway does; resolves with sparsam's status. */
  async deliver(form: string): Promise<number> {
    if (!this.webhookUrl) throw new Error('the Threema simulator has no webhook URL');
    const response = await fetch(this.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    await response.arrayBuffer();
    return response.status;
  }

  // --------------------------------------------------------------------------------------------- HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const body = await readBody(req);
    const answer = (status: number, text = '', type = 'text/plain; charset=utf-8') => {
      this.calls.push({ path: url.pathname, status });
      res.writeHead(status, { 'content-type': type }).end(text);
    };
    if (req.method === 'GET' && url.pathname === '/') return this.page(res);
    if (req.method === 'POST' && url.pathname === '/customer/say') {
      const form = new URLSearchParams(body.toString('utf8'));
      const id = (form.get('id') ?? 'ECHOECHO').toUpperCase();
      const text = form.get('text') ?? '';
      if (text) this.customer(id, form.get('nickname') || undefined);
      if (text) await this.deliver(this.textCallback(id, text)).catch(() => 0);
      res.writeHead(303, { location: `/?id=${encodeURIComponent(id)}` }).end();
      return;
    }
    const form =
      req.method === 'POST' && url.pathname === '/send_e2e' ? new URLSearchParams(body.toString('utf8')) : undefined;
    const from = form?.get('from') ?? url.searchParams.get('from');
    const secret = form?.get('secret') ?? url.searchParams.get('secret');
    if (from !== this.options.gatewayId || secret !== this.options.apiSecret) return answer(401);

    const pubkey = /^\/pubkeys\/([A-Z0-9*]{8})$/.exec(url.pathname);
    if (req.method === 'GET' && pubkey) {
      const id = pubkey[1]!;
      if (id === this.options.gatewayId) return answer(200, Buffer.from(this.gatewayPublicKey).toString('hex'));
      const customer = this.customers.get(id);
      return customer ? answer(200, Buffer.from(customer.publicKey).toString('hex')) : answer(404);
    }
    if (req.method === 'GET' && url.pathname === '/credits') return answer(200, String(this.credits));
    if (req.method === 'POST' && url.pathname === '/upload_blob') {
      const parsed = await new Request('http://simulator/upload', {
        method: 'POST',
        headers: { 'content-type': String(req.headers['content-type'] ?? '') },
        body,
      })
        .formData()
        .catch(() => undefined);
      const blob = parsed?.get('blob');
      if (!blob || typeof blob === 'string') return answer(400);
      const id = randomBytes(16).toString('hex');
      this.blobs.set(id, Buffer.from(await blob.arrayBuffer()));
      return answer(200, id);
    }
    const blob = /^\/blobs\/([0-9a-f]{32})$/.exec(url.pathname);
    if (req.method === 'GET' && blob) {
      const data = this.blobs.get(blob[1]!);
      if (!data) return answer(404);
      this.calls.push({ path: '/blobs', status: 200 });
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(data);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/send_e2e' && form) {
      const failure = this.sendFailures.shift();
      if (failure !== undefined) return answer(failure);
      if (this.credits <= 0) return answer(402);
      const to = form.get('to') ?? '';
      const customer = this.customers.get(to);
      if (!customer) return answer(400);
      const nonce = Buffer.from(form.get('nonce') ?? '', 'hex');
      const box = Buffer.from(form.get('box') ?? '', 'hex');
      if (nonce.length !== 24 || box.length === 0) return answer(400);
      const plain = nacl.box.open(box, nonce, this.gatewayPublicKey, customer.secretKey);
      if (!plain) {
        this.unreadable.push(to);
        return answer(400);
      }
      this.credits -= 1;
      const messageId = randomBytes(8).toString('hex');
      this.received.push(await this.openReceived(to, messageId, nonce.toString('hex'), plain));
      return answer(200, messageId);
    }
    return answer(404);
  }

  private async openReceived(
    to: string,
    messageId: string,
    nonce: string,
    plain: Uint8Array,
  ): Promise<ReceivedByCustomer> {
    const padding = plain[plain.length - 1]!;
    const data = Buffer.from(plain.subarray(1, plain.length - padding));
    const message: ReceivedByCustomer = { to, messageId, type: plain[0]!, nonce, padding };
    if (message.type === 0x01) message.text = data.toString('utf8');
    if (message.type === 0x17) {
      const d = JSON.parse(data.toString('utf8')) as { b: string; k: string; m: string; n?: string; d?: string };
      const blob = this.blobs.get(d.b);
      const opened = blob ? nacl.secretbox.open(blob, FILE_NONCE, Buffer.from(d.k, 'hex')) : null;
      message.file = {
        data: opened ? Buffer.from(opened) : Buffer.alloc(0),
        mimeType: d.m,
        fileName: d.n,
        caption: d.d,
      };
    }
    return message;
  }

  /** A bare customer page for the demo: write as a Threema customer and read what sparsam sent (opened). */
  private page(res: ServerResponse): void {
    const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    const items = this.received
      .map(
        (m) =>
          `<li><b>${esc(m.to)}</b>: ${esc(m.text ?? (m.file ? `[${m.file.mimeType}] ${m.file.caption ?? ''}` : ''))}</li>`,
      )
      .join('');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html lang="en"><head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta http-equiv="refresh" content="5">
<title>Threema customer (simulated)</title></head><body>
<h1>Threema customer (simulated)</h1>
<form method="post" action="/customer/say"><label>Threema ID <input name="id" value="ECHOECHO" maxlength="8"></label>
<label>Message <input name="text" autofocus></label><button>Send</button></form>
<h2>Received (decrypted with the customer's key)</h2><ul>${items}</ul></body></html>`);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
