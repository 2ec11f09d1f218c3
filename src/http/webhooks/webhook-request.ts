import type { FastifyRequest } from 'fastify';
import type { WebhookRequest } from '../../core/channel/channel.port.ts';

/**
 * The framework-free view of a Fastify request that channels verify and parse: the raw bytes kept by
 * raw-body.ts, the parsed body and query, the headers, and the origin the request was addressed to (trustProxy
 * honours X-Forwarded-Proto and -Host).
 */
export function toWebhookRequest(request: FastifyRequest): WebhookRequest {
  return {
    method: request.method,
    url: request.url,
    origin: `${request.protocol}://${request.host}`,
    headers: request.headers,
    query: (request.query && typeof request.query === 'object' ? request.query : {}) as Record<string, unknown>,
    rawBody: request.rawBody,
    body: request.body,
  };
}
