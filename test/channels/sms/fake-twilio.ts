import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  path: string;
  authorization: string | undefined;
  form: Record<string, string>;
}

export type Reply = { status: number; body: string; headers?: Record<string, string> };

/** A local stand-in for api.twilio.com: records requests and answers with the queued replies. */
export class FakeTwilio {
  readonly requests: Recorded[] = [];
  readonly replies: Reply[] = [];
  readonly media = new Map<string, { data: Buffer; type: string }>();
  /** The sids given to sent messages, in order (sparsam keeps only keyed hashes of them). */
  readonly sids: string[] = [];
  url = '';
  private server: Server | undefined;
  private seq = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  #accepted(): Reply {
    const sid = `SM${String(++this.seq).padStart(32, '0')}`;
    this.sids.push(sid);
    return { status: 201, body: JSON.stringify({ sid, status: 'queued' }) };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = req.url ?? '/';
    this.requests.push({
      method: req.method ?? '',
      path,
      authorization: req.headers.authorization,
      form: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))),
    });
    const file = this.media.get(path);
    if (req.method === 'GET' && file) {
      res.writeHead(200, { 'content-type': file.type });
      return void res.end(file.data);
    }
    const reply = this.replies.shift() ?? this.#accepted();
    res.writeHead(reply.status, { 'content-type': 'application/json', ...(reply.headers ?? {}) });
    res.end(reply.body);
  }
}
