import Fastify, { type FastifyInstance } from 'fastify';
import type { Channel, WebhookResult } from '../../../src/core/channel/channel.port.ts';
import { registerErrorHandler } from '../../../src/http/error-handler.ts';
import { registerRawJsonParser } from '../../../src/http/raw-body.ts';
import { toWebhookRequest } from '../../../src/http/webhooks/webhook-request.ts';

/**
 * A Fastify app with sparsam's raw-body parsers and error mapping and one route that runs a channel's
 * verifyAndParse on the request and answers with the result: channel tests send provider payloads through the
 * same parsing the real webhook routes use, byte for byte.
 */
export interface ChannelHarness {
  app: FastifyInstance;
  /** What verifyAndParse returned for the last request that passed (undefined fields kept, unlike JSON). */
  last: WebhookResult | undefined;
}

export async function channelHarness(channel: Channel, path = '/hook'): Promise<ChannelHarness> {
  const app = Fastify({ logger: false });
  const harness: ChannelHarness = { app, last: undefined };
  registerRawJsonParser(app);
  registerErrorHandler(app);
  app.route({
    method: ['GET', 'POST'],
    url: path,
    handler: async (request, reply) => {
      harness.last = undefined;
      const result = await channel.verifyAndParse(toWebhookRequest(request));
      harness.last = result;
      if (result.kind === 'handshake') return reply.status(result.status).type('text/plain').send(result.body);
      return { events: result.events.length };
    },
  });
  await app.ready();
  return harness;
}
