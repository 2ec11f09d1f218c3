import Fastify, { type FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Channel, InboundEvent } from '../../../src/core/channel/channel.port.ts';
import { registerErrorHandler } from '../../../src/http/error-handler.ts';
import { registerRawJsonParser } from '../../../src/http/raw-body.ts';
import { toWebhookRequest } from '../../../src/http/webhooks/webhook-request.ts';

/** The recorded webhook bodies, as bytes exactly as Meta sends them (non-ASCII escaped as \uXXXX, "/" as "\/"). */
export function whatsappFixture(name: string): Buffer {
  return readFileSync(path.join(import.meta.dirname, '../../fixtures/whatsapp', name));
}

/**
 * A Fastify app with sparsam's raw-body JSON parser and error handler and one route that hands the request to the
 * channel, as the webhook route does: the channel sees the exact bytes and the parsed body.
 */
export async function webhookApp(channel: Channel): Promise<WebhookApp> {
  const received: InboundEvent[][] = [];
  const app = Fastify({ logger: false });
  registerRawJsonParser(app);
  registerErrorHandler(app);
  app.route({
    method: ['GET', 'POST'],
    url: '/webhook',
    handler: async (request, reply) => {
      const result = await channel.verifyAndParse(toWebhookRequest(request));
      if (result.kind === 'handshake') return reply.status(result.status).type('text/plain').send(result.body);
      // Events are kept as objects (JSON would drop undefined fields the tests check).
      received.push(result.events);
      return reply.send({ count: result.events.length });
    },
  });
  await app.ready();
  return { app, received };
}

/** The app built by {@link webhookApp}, with the events each accepted request produced. */
export interface WebhookApp {
  app: FastifyInstance;
  received: InboundEvent[][];
}
