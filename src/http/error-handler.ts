import type { FastifyError, FastifyInstance } from 'fastify';
import { appErrorStatus, isAppError } from '../shared/app-error.ts';

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/**
 * Maps errors to answers. AppErrors carry their own safe message; Fastify's own errors (body too large, bad content
 * type, schema validation) get a fixed text; anything else is a 500 with a request id and nothing from the error,
 * since an unexpected error's message may hold personal data or a secret.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (isAppError(error)) {
      const status = appErrorStatus[error.code];
      if (status >= 500) request.log.error({ err: { code: error.code, message: error.message } }, 'request failed');
      const body: ErrorBody = { error: { code: error.code, message: error.message } };
      if (error.details) body.error.details = error.details;
      return reply.status(status).send(body);
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply
        .status(413)
        .send({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'the request body is larger than allowed' } });
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply
        .status(415)
        .send({ error: { code: 'UNSUPPORTED_MEDIA', message: 'this content type is not accepted here' } });
    }
    if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      return reply.status(400).send({ error: { code: 'VALIDATION', message: 'the request body is not valid JSON' } });
    }
    if (error.validation) {
      const fields = error.validation.map(
        (v) => v.instancePath || (v.params as { missingProperty?: string }).missingProperty,
      );
      return reply
        .status(400)
        .send({ error: { code: 'VALIDATION', message: 'the request is not valid', details: { fields } } });
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply
        .status(error.statusCode)
        .send({ error: { code: 'BAD_REQUEST', message: 'the request was refused' } });
    }
    // The message and the stack's first line may quote personal data; log the type and the frames only.
    const frames = (error.stack ?? '').split('\n').slice(1).join('\n');
    request.log.error({ failure: { type: error.name, code: error.code, frames } }, 'unexpected error');
    return reply
      .status(500)
      .send({ error: { code: 'INTERNAL', message: `internal error; reference ${String(request.id)}` } });
  });

  app.setNotFoundHandler((_request, reply) =>
    reply.status(404).send({ error: { code: 'NOT_FOUND', message: 'no such route' } }),
  );
}
