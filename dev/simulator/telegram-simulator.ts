import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the Telegram Bot API, for tests and `npm run demo`: it accepts the Bot API calls sparsam makes
 * (`POST /bot<token>/<method>`, JSON or multipart), serves files (`GET /file/bot<token>/<path>`), and plays the
 * customer: {@link TelegramSimulator.customerSays} posts an Update to the webhook registered with `setWebhook`,
 * with the secret token header, exactly as Telegram would. Point a channel's `apiBaseUrl` at {@link url}.
 *
 * Only localhost; nothing here is for production.
 */

export interface SimulatedCall {
  method: string;
  params: Record<string, unknown>;
  /** Uploaded files of a multipart call, by field name. */
  files: Record<string, { size: number; name: string | undefined }>;
  /** What the simulator answered (the sent Message for send* calls). */
  result?: unknown;
}

export interface SimulatedFailure {
  error_code: number;
  description: string;
  retry_after?: number;
}

export interface SimulatedCustomer {
  chatId: number;
  firstName: string;
  lastName?: string;
}

interface StoredFile {
  data: Buffer;
  path: string;
  mimeType: string;
}

export class TelegramSimulator {
  /** Every Bot API call received, in order. */
  readonly calls: SimulatedCall[] = [];
  /** The webhook registered with setWebhook, if any. */
  webhook: { url: string; secretToken: string | undefined } | undefined;

  private server: Server | undefined;
  private baseUrl = '';
  private nextUpdateId = 100_000;
  private nextMessageId = new Map<number, number>();
  private readonly failures = new Map<string, SimulatedFailure[]>();
  private readonly files = new Map<string, StoredFile>();
  private fileSeq = 0;

  constructor(private readonly botToken: string) {}

  /** The base URL to configure as the channel's `apiBaseUrl`. */
  get url(): string {
    if (!this.baseUrl) throw new Error('the Telegram simulator is not started');
    return this.baseUrl;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, host, resolve));
    const address = this.server.address() as AddressInfo;
    this.baseUrl = `http://${host}:${address.port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The next call(s) of `method` fail with this Bot API error (e.g. 429 with retry_after). */
  failNext(method: string, failure: SimulatedFailure, times = 1): void {
    const list = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push(failure);
    this.failures.set(method, list);
  }

  /** Stores a file the customer "uploaded" and returns its file_id. */
  addFile(data: Buffer, mimeType: string, extension = 'jpg'): string {
    const id = `sim-file-${++this.fileSeq}`;
    this.files.set(id, { data, path: `photos/file_${this.fileSeq}.${extension}`, mimeType });
    return id;
  }

  /** Messages the bot sent (sendMessage, sendPhoto, …), newest last. */
  sent(chatId?: number): SimulatedCall[] {
    return this.calls.filter(
      (c) => c.method.startsWith('send') && (chatId === undefined || String(c.params.chat_id) === String(chatId)),
    );
  }

  /** Builds an Update for a text message from a customer in a private chat. */
  textUpdate(customer: SimulatedCustomer, text: string, date = Math.floor(Date.now() / 1000)): Record<string, unknown> {
    return {
      update_id: this.nextUpdateId++,
      message: {
        message_id: this.messageId(customer.chatId),
        from: {
          id: customer.chatId,
          is_bot: false,
          first_name: customer.firstName,
          ...(customer.lastName ? { last_name: customer.lastName } : {}),
          language_code: 'de',
        },
        chat: {
          id: customer.chatId,
          type: 'private',
          first_name: customer.firstName,
          ...(customer.lastName ? { last_name: customer.lastName } : {}),
        },
        date,
        text,
      },
    };
  }

  /** Builds the Update Telegram sends when the customer taps an inline button of a message the bot sent. */
  tapUpdate(customer: SimulatedCustomer, buttonData: string): Record<string, unknown> {
    const sent = [...this.sent(customer.chatId)].reverse().find((c) => {
      const markup = c.params.reply_markup as { inline_keyboard?: { callback_data?: string }[][] } | undefined;
      return markup?.inline_keyboard?.some((row) => row.some((b) => b.callback_data === buttonData));
    });
    if (!sent) throw new Error(`no message with a button "${buttonData}" was sent to this chat`);
    const result = sent.result as Record<string, unknown>;
    return {
      update_id: this.nextUpdateId++,
      callback_query: {
        // Opaque, like Telegram's own callback query ids.
        id: String(2_177_964_812_370_000_000n + BigInt(this.nextUpdateId)),
        from: { id: customer.chatId, is_bot: false, first_name: customer.firstName },
        chat_instance: `ci-${customer.chatId}`,
        data: buttonData,
        message: result,
      },
    };
  }

  /** Posts an Update to the registered webhook, as Telegram does; resolves with the webhook's HTTP status. */
  async deliver(update: Record<string, unknown>): Promise<number> {
    if (!this.webhook) throw new Error('no webhook registered: call setWebhook first (sparsam channel set-webhook)');
    const response = await fetch(this.webhook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(this.webhook.secretToken ? { 'x-telegram-bot-api-secret-token': this.webhook.secretToken } : {}),
      },
      body: JSON.stringify(update),
    });
    await response.arrayBuffer();
    return response.status;
  }

  async customerSays(customer: SimulatedCustomer, text: string): Promise<number> {
    this.transcript.push({ chatId: customer.chatId, from: 'customer', text, buttons: [] });
    return this.deliver(this.textUpdate(customer, text));
  }

  async customerTaps(customer: SimulatedCustomer, buttonData: string): Promise<number> {
    return this.deliver(this.tapUpdate(customer, buttonData));
  }

  private messageId(chatId: number): number {
    const next = (this.nextMessageId.get(chatId) ?? 0) + 1;
    this.nextMessageId.set(chatId, next);
    return next;
  }

  /** Registers the webhook directly (what `sparsam channel set-webhook` does through the Bot API). */
  setWebhook(url: string, secretToken: string | undefined): void {
    this.webhook = { url, secretToken };
  }

  /** The conversation of one chat as the customer's phone shows it: what they wrote and what the bot sent. */
  chat(chatId: number): { from: 'customer' | 'bot'; text: string; buttons: { title: string; data: string }[] }[] {
    return this.transcript
      .filter((line) => line.chatId === chatId)
      .map(({ from, text, buttons }) => ({ from, text, buttons }));
  }

  private readonly transcript: {
    chatId: number;
    from: 'customer' | 'bot';
    text: string;
    buttons: { title: string; data: string }[];
  }[] = [];

  /** The customer page of the demo: GET / (HTML), GET /_customer/chat, POST /_customer/say and /_customer/tap. */
  private async handleCustomer(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(CUSTOMER_PAGE);
      return true;
    }
    if (req.method === 'GET' && url.pathname === '/_customer/chat') {
      json(res, 200, { messages: this.chat(Number(url.searchParams.get('chatId'))) });
      return true;
    }
    if (req.method === 'POST' && (url.pathname === '/_customer/say' || url.pathname === '/_customer/tap')) {
      const { params } = await readParams(req);
      const customer: SimulatedCustomer = {
        chatId: Number(params.chatId),
        firstName: String(params.firstName ?? 'Kundin'),
      };
      if (!Number.isSafeInteger(customer.chatId) || customer.chatId <= 0) {
        json(res, 400, { error: 'chatId must be a positive number' });
        return true;
      }
      const status =
        url.pathname === '/_customer/say'
          ? await this.customerSays(customer, String(params.text ?? ''))
          : await this.customerTaps(customer, String(params.data ?? ''));
      json(res, 200, { webhookStatus: status });
      return true;
    }
    return false;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (await this.handleCustomer(req, res, url)) return;
    const filePrefix = `/file/bot${this.botToken}/`;
    if (req.method === 'GET' && url.pathname.startsWith(filePrefix)) {
      const path = url.pathname.slice(filePrefix.length);
      const file = [...this.files.values()].find((f) => f.path === path);
      if (!file) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': file.mimeType, 'content-length': file.data.length });
      return void res.end(file.data);
    }
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!match) return json(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    if (match[1] !== this.botToken) return json(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const method = match[2]!;
    const { params, files } = await readParams(req);
    const call: SimulatedCall = { method, params, files };
    this.calls.push(call);

    const chatId = Number(params.chat_id);
    const failure = this.failures.get(method)?.shift();
    if (failure) {
      return json(res, failure.error_code, {
        ok: false,
        error_code: failure.error_code,
        description: failure.description,
        ...(failure.retry_after !== undefined ? { parameters: { retry_after: failure.retry_after } } : {}),
      });
    }
    const result = this.answer(method, params, files);
    if (result === undefined) {
      return json(res, 404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
    }
    if (result instanceof Error) return json(res, 400, { ok: false, error_code: 400, description: result.message });
    call.result = result;
    if (method.startsWith('send')) {
      const markup = params.reply_markup as
        { inline_keyboard?: { text: string; callback_data?: string }[][] } | undefined;
      this.transcript.push({
        chatId,
        from: 'bot',
        text: String(params.text ?? params.caption ?? `[${method.slice(4).toLowerCase()}]`),
        buttons: (markup?.inline_keyboard ?? []).flat().map((b) => ({ title: b.text, data: b.callback_data ?? '' })),
      });
    }
    return json(res, 200, { ok: true, result });
  }

  private answer(method: string, params: Record<string, unknown>, files: SimulatedCall['files']): unknown {
    const chatId = Number(params.chat_id);
    const sentMessage = (extra: Record<string, unknown>) => ({
      message_id: 1_000_000 + this.messageId(-chatId),
      from: { id: 1, is_bot: true, first_name: 'sparsam' },
      chat: { id: chatId, type: 'private' },
      date: Math.floor(Date.now() / 1000),
      ...extra,
    });
    switch (method) {
      case 'getMe':
        return { id: 1, is_bot: true, first_name: 'sparsam', username: 'sparsam_sim_bot' };
      case 'setWebhook':
        if (typeof params.url !== 'string' || !/^https?:\/\//.test(params.url)) {
          return new Error('Bad Request: bad webhook: invalid URL');
        }
        this.webhook = {
          url: params.url,
          secretToken: typeof params.secret_token === 'string' ? params.secret_token : undefined,
        };
        return true;
      case 'deleteWebhook':
        this.webhook = undefined;
        return true;
      case 'getWebhookInfo':
        return { url: this.webhook?.url ?? '', has_custom_certificate: false, pending_update_count: 0 };
      case 'answerCallbackQuery':
        return true;
      case 'sendMessage':
        if (!Number.isFinite(chatId)) return new Error('Bad Request: chat not found');
        if (typeof params.text !== 'string' || params.text.length === 0) {
          return new Error('Bad Request: message text is empty');
        }
        return sentMessage({
          text: params.text,
          ...(params.reply_markup ? { reply_markup: params.reply_markup } : {}),
        });
      case 'sendPhoto':
      case 'sendDocument':
      case 'sendAudio':
      case 'sendVoice':
      case 'sendVideo': {
        const field = method.slice(4).toLowerCase();
        const upload = files[field];
        if (!upload && typeof params[field] !== 'string')
          return new Error(`Bad Request: there is no ${field} in the request`);
        const fileId = `sim-upload-${++this.fileSeq}`;
        const file = { file_id: fileId, file_unique_id: fileId, file_size: upload?.size };
        return sentMessage({
          ...(field === 'photo' ? { photo: [{ ...file, width: 1, height: 1 }] } : { [field]: file }),
          ...(typeof params.caption === 'string' ? { caption: params.caption } : {}),
        });
      }
      case 'getFile': {
        const file = this.files.get(String(params.file_id));
        if (!file) return new Error('Bad Request: invalid file_id');
        return {
          file_id: params.file_id,
          file_unique_id: params.file_id,
          file_size: file.data.length,
          file_path: file.path,
        };
      }
      default:
        return undefined;
    }
  }
}

async function readParams(
  req: IncomingMessage,
): Promise<{ params: Record<string, unknown>; files: SimulatedCall['files'] }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const type = req.headers['content-type'] ?? '';
  if (body.length === 0) return { params: {}, files: {} };
  if (type.startsWith('application/json'))
    return { params: JSON.parse(body.toString('utf8')) as Record<string, unknown>, files: {} };
  if (type.startsWith('multipart/form-data')) {
    const boundary = /boundary=("?)([^";]+)\1/.exec(type)?.[2];
    if (!boundary) return { params: {}, files: {} };
    const params: Record<string, unknown> = {};
    const files: SimulatedCall['files'] = {};
    for (const part of splitMultipart(body, boundary)) {
      const name = /name="([^"]*)"/i.exec(part.headers)?.[1];
      if (!name) continue;
      const fileName = /filename=("?)([^";\r\n]*)\1/i.exec(part.headers)?.[2];
      if (fileName !== undefined || /content-type:\s*application\/octet-stream/i.test(part.headers)) {
        files[name] = { size: part.data.length, name: fileName || undefined };
      } else {
        // grammY sends nested objects as JSON strings in multipart calls.
        const value = part.data.toString('utf8');
        params[name] = /^[[{]/.test(value) ? safeJson(value) : value;
      }
    }
    // attach://<id> points a field (photo, document, …) at a file part.
    for (const [key, value] of Object.entries(params)) {
      if (typeof value === 'string' && value.startsWith('attach://')) {
        const ref = files[value.slice('attach://'.length)];
        if (ref) files[key] = ref;
      }
    }
    return { params, files };
  }
  return { params: Object.fromEntries(new URLSearchParams(body.toString('utf8'))), files: {} };
}

/** A minimal multipart/form-data reader (the simulator only needs names, values and file sizes). */
function splitMultipart(body: Buffer, boundary: string): { headers: string; data: Buffer }[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: { headers: string; data: Buffer }[] = [];
  let index = body.indexOf(delimiter);
  while (index !== -1) {
    const start = index + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    const chunk = body.subarray(start + 2, next - 2); // drop the CRLF after the delimiter and before the next one
    const split = chunk.indexOf('\r\n\r\n');
    if (split !== -1) {
      parts.push({ headers: chunk.subarray(0, split).toString('utf8'), data: chunk.subarray(split + 4) });
    }
    index = next;
  }
  return parts;
}

function safeJson(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The demo's customer view of a Telegram chat; talks only to the simulator's own /_customer endpoints. */
const CUSTOMER_PAGE = `<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>Telegram (simuliert)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;max-width:28rem;margin:1rem auto;background:#e7ebf0}
header{background:#2aabee;color:#fff;padding:.6rem 1rem;border-radius:.5rem .5rem 0 0}
#log{background:#fff;min-height:20rem;padding:.5rem;display:flex;flex-direction:column;gap:.4rem}
.m{padding:.4rem .6rem;border-radius:.6rem;max-width:80%;white-space:pre-wrap}
.customer{align-self:flex-end;background:#effdde}.bot{align-self:flex-start;background:#f1f1f4}
.m button{display:block;width:100%;margin-top:.3rem;background:#fff;border:1px solid #2aabee;border-radius:.4rem;padding:.3rem}
form{display:flex;gap:.4rem;margin-top:.5rem}input[name=text]{flex:1}
</style></head><body>
<header>Telegram-Bot (simuliert) &middot; Chat <input id="chat" value="5071234567" size="11" aria-label="Chat-ID">
<input id="name" value="Jana" size="8" aria-label="Vorname"></header>
<div id="log" aria-live="polite"></div>
<form id="f"><input name="text" autocomplete="off" placeholder="Nachricht" aria-label="Nachricht"><button>Senden</button></form>
<script>
const log = document.getElementById('log');
const chat = () => document.getElementById('chat').value;
const name = () => document.getElementById('name').value;
async function post(path, body) {
  await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await refresh();
}
async function refresh() {
  const res = await fetch('/_customer/chat?chatId=' + encodeURIComponent(chat()));
  const { messages } = await res.json();
  log.replaceChildren(...messages.map((m) => {
    const div = document.createElement('div');
    div.className = 'm ' + m.from;
    div.textContent = m.text;
    for (const b of m.buttons) {
      const button = document.createElement('button');
      button.textContent = b.title;
      button.onclick = () => post('/_customer/tap', { chatId: chat(), firstName: name(), data: b.data });
      div.append(button);
    }
    return div;
  }));
}
document.getElementById('f').onsubmit = (e) => {
  e.preventDefault();
  const input = e.target.elements.text;
  if (input.value.trim()) post('/_customer/say', { chatId: chat(), firstName: name(), text: input.value });
  input.value = '';
};
setInterval(refresh, 1500);
refresh();
</script></body></html>`;

/** Starts a simulator for one bot token (demo helper). */
export async function startTelegramSimulator(botToken: string, port = 0): Promise<TelegramSimulator> {
  const simulator = new TelegramSimulator(botToken);
  await simulator.start(port);
  return simulator;
}
