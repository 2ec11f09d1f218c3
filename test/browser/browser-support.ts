import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { loadConfig } from '../../src/config/config.ts';
import { startSparsam, type Sparsam } from '../../src/main.ts';
import { createLogger } from '../../src/shared/logger.ts';

export const PHONE_NUMBER_ID = '106540352242922';
export const APP_SECRET = 'browser-test-app-secret-0123456789';
export const ACCESS_TOKEN = 'EAAG-browser-test-token-0123456789';

export interface OutboundCall {
  to: string;
  type: string;
  text?: string;
  buttons?: { id: string; title: string }[];
  template?: string;
  id: string;
}

/**
 * A customer's phone on the WhatsApp Cloud API, as seen from sparsam: receives sparsam's Graph API calls and sends
 * signed webhooks (X-Hub-Signature-256 over the exact bytes) for messages, button taps and delivery statuses.
 */
export class CustomerPhone {
  readonly outbound: OutboundCall[] = [];
  #server: Server | undefined;
  #seq = 0;
  url = '';
  webhookUrl = '';

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const ok = req.headers.authorization === `Bearer ${ACCESS_TOKEN}`;
        if (!ok) {
          res.writeHead(401, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ error: { code: 190, message: 'Invalid OAuth access token' } }));
        }
        if (req.method === 'GET' && req.url?.includes(PHONE_NUMBER_ID)) {
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ verified_name: 'Autohaus Beispiel', id: PHONE_NUMBER_ID }));
        }
        if (req.method === 'POST' && req.url?.endsWith(`/${PHONE_NUMBER_ID}/messages`)) {
          const m = JSON.parse(body) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
          const id = `wamid.OUT${++this.#seq}`;
          if (m.status !== 'read') {
            this.outbound.push({
              to: String(m.to),
              type: String(m.type),
              text: m.text?.body ?? m.interactive?.body?.text,
              buttons: m.interactive?.action?.buttons?.map((b: { reply: { id: string; title: string } }) => b.reply),
              template: m.template?.name,
              id,
            });
          }
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end(
            JSON.stringify({
              messaging_product: 'whatsapp',
              contacts: [{ input: m.to, wa_id: m.to }],
              messages: [{ id }],
            }),
          );
        }
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 100 } }));
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  private async post(value: Record<string, unknown>): Promise<number> {
    const payload = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [
            {
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '4930901820', phone_number_id: PHONE_NUMBER_ID },
                ...value,
              },
              field: 'messages',
            },
          ],
        },
      ],
    };
    const raw = JSON.stringify(payload);
    const signature = `sha256=${createHmac('sha256', APP_SECRET).update(raw).digest('hex')}`;
    const res = await fetch(this.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
      body: raw,
    });
    return res.status;
  }

  /** The customer writes a text message. */
  sendText(from: string, text: string, name = 'Kunde'): Promise<number> {
    return this.post({
      contacts: [{ profile: { name }, wa_id: from }],
      messages: [
        {
          from,
          id: `wamid.IN${Date.now()}${++this.#seq}`,
          timestamp: String(Math.floor(Date.now() / 1000)),
          type: 'text',
          text: { body: text },
        },
      ],
    });
  }

  /** The customer taps a reply button. */
  tapButton(from: string, id: string, title: string): Promise<number> {
    return this.post({
      contacts: [{ profile: { name: 'Kunde' }, wa_id: from }],
      messages: [
        {
          from,
          id: `wamid.IN${Date.now()}${++this.#seq}`,
          timestamp: String(Math.floor(Date.now() / 1000)),
          type: 'interactive',
          interactive: { type: 'button_reply', button_reply: { id, title } },
        },
      ],
    });
  }

  /** WhatsApp reports a delivery status of an outbound message. */
  status(to: string, messageId: string, status: 'sent' | 'delivered' | 'read'): Promise<number> {
    return this.post({
      statuses: [{ id: messageId, status, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: to }],
    });
  }

  async waitFor(predicate: (m: OutboundCall) => boolean, timeoutMs = 15_000): Promise<OutboundCall> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const hit = this.outbound.find(predicate);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the phone received no matching message; got ${JSON.stringify(this.outbound.map((m) => m.type))}`);
  }
}

export interface Stack {
  sparsam: Sparsam;
  baseUrl: string;
  phone: CustomerPhone;
  dataDir: string;
  close(): Promise<void>;
}

/** sparsam on a fresh SQLite data dir, listening on a free port, with one WhatsApp channel wired to the phone. */
export async function startStack(): Promise<Stack> {
  const phone = new CustomerPhone();
  await phone.start();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sparsam-browser-'));
  const configFile = path.join(dataDir, 'sparsam.yaml');
  writeFileSync(
    configFile,
    [
      'organisation:',
      '  name: Autohaus Beispiel GmbH',
      '  contact: datenschutz@example.org',
      'inboxes:',
      '  - id: service',
      '    labelPrefix: Anfrage',
      '    retention: { eraseAfterCloseDays: 0 }',
      'channels:',
      '  - id: wa-main',
      '    kind: whatsapp-cloud',
      '    inbox: service',
      `    phoneNumberId: "${PHONE_NUMBER_ID}"`,
      `    accessToken: ${ACCESS_TOKEN}`,
      `    appSecret: ${APP_SECRET}`,
      '    verifyToken: browser-test-verify-token-xyz',
      `    graphBaseUrl: ${phone.url}`,
      '    templates:',
      '      - name: termin_erinnerung',
      '        language: de',
      '        body: "Guten Tag, Ihr Termin ist am {{1}}. Antworten Sie gern auf diese Nachricht."',
    ].join('\n'),
  );
  const config = loadConfig({
    env: {
      SPARSAM_DATA_DIR: dataDir,
      SPARSAM_CONFIG: configFile,
      SPARSAM_PORT: '0',
      SPARSAM_HOST: '127.0.0.1',
      SPARSAM_BASE_URL: 'https://inbox.autohaus-beispiel.de',
    },
  });
  const { sparsam, address } = await startSparsam(config, { logger: createLogger({ level: 'warn' }) });
  phone.webhookUrl = `${address}/webhooks/whatsapp/wa-main`;
  return {
    sparsam,
    baseUrl: address,
    phone,
    dataDir,
    async close() {
      await sparsam.close();
      await phone.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
