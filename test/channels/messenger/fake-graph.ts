import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Reply = { status: number; body: string; headers?: Record<string, string> };

/** A local stand-in for graph.facebook.com's Send API. */
export class FakeGraph {
  readonly requests: { path: string; authorization: string | undefined; type: string; body: Buffer }[] = [];
  readonly replies: Reply[] = [];
  readonly files = new Map<string, Buffer>();
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

  json(i: number): Record<string, unknown> {
    return JSON.parse(this.requests[i]!.body.toString('utf8')) as Record<string, unknown>;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = req.url ?? '/';
    const file = this.files.get(path);
    if (req.method === 'GET' && file) {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      return void res.end(file);
    }
    this.requests.push({
      path,
      authorization: req.headers.authorization,
      type: req.headers['content-type'] ?? '',
      body: Buffer.concat(chunks),
    });
    const reply = this.replies.shift() ?? {
      status: 200,
      body: JSON.stringify({ recipient_id: '6543210987654321', message_id: `m_sent${++this.seq}` }),
    };
    res.writeHead(reply.status, { 'content-type': 'application/json', ...(reply.headers ?? {}) });
    res.end(reply.body);
  }
}
