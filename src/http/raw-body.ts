import type { FastifyInstance } from 'fastify';
import { AppError } from '../shared/app-error.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body exactly as received; webhook signatures are computed over these bytes. */
    rawBody?: Buffer;
  }
}

/**
 * Replaces Fastify's JSON parser by one that keeps the raw bytes on `request.rawBody` (webhook signatures are over
 * the bytes as sent, never over re-serialised JSON) and answers malformed JSON with a 400 that echoes nothing.
 */
export function registerRawJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer;
    request.rawBody = raw;
    if (raw.length === 0) {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(raw.toString('utf8')));
    } catch {
      done(new AppError('VALIDATION', 'the request body is not valid JSON'), undefined);
    }
  });
  // Form posts (Twilio) are parsed by their route; keep the raw bytes for signature checks too.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer;
    request.rawBody = raw;
    done(null, Object.fromEntries(new URLSearchParams(raw.toString('utf8'))));
  });
}
