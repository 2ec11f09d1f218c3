/**
 * The one error type the core and stores throw on purpose. `code` is a literal the HTTP layer maps to a status;
 * `message` must never carry personal data (no phone numbers, no message text, no tokens): it reaches logs and,
 * for 4xx codes, the client.
 */
export type AppErrorCode =
  | 'VALIDATION'
  | 'NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA'
  | 'RATE_LIMITED'
  | 'SIGNATURE_INVALID'
  | 'CONSENT_REQUIRED'
  | 'WINDOW_CLOSED'
  | 'TEXT_TOO_LONG'
  | 'CHANNEL_DISABLED'
  | 'CONFIG'
  | 'STORE_UNAVAILABLE'
  /** A provider refused or did not answer a call sparsam made for an admin (registering a webhook, a template, the
   * business profile); details may carry providerCode and reason. */
  | 'PROVIDER_REFUSED'
  | 'INTERNAL';

export class AppError extends Error {
  readonly code: AppErrorCode;
  /** Content-free details safe to return to a client (field names, limits), never values supplied by a customer. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: AppErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }
}

/** HTTP status for each code; the single place that knows it, used by http/ only. */
export const appErrorStatus: Record<AppErrorCode, number> = {
  VALIDATION: 400,
  NOT_FOUND: 404,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA: 415,
  RATE_LIMITED: 429,
  SIGNATURE_INVALID: 401,
  CONSENT_REQUIRED: 409,
  WINDOW_CLOSED: 422,
  TEXT_TOO_LONG: 422,
  CHANNEL_DISABLED: 503,
  CONFIG: 500,
  STORE_UNAVAILABLE: 503,
  PROVIDER_REFUSED: 502,
  INTERNAL: 500,
};

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
