import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths that pino replaces with "[redacted]" wherever they appear. Personal data and secrets must never reach a log
 * line; the list is deliberately broad (any field named like a secret, an address or a body), and code logs only
 * pseudonymous ids besides.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-hub-signature"]',
  'req.headers["x-telegram-bot-api-secret-token"]',
  'req.headers["d360-api-key"]',
  'req.headers["x-twilio-signature"]',
  'res.headers["set-cookie"]',
  ...[
    'token',
    'accessToken',
    'botToken',
    'secret',
    'appSecret',
    'secretToken',
    'verifyToken',
    'apiKey',
    'password',
    'masterKey',
    'address',
    'phone',
    'wa_id',
    'from',
    'to',
    'body',
    'text',
    'caption',
    'name',
    'profileName',
    'email',
  ].flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
];

export interface LoggerSettings {
  level?: string;
  destination?: DestinationStream;
}

/** Creates sparsam's logger: JSON lines, redaction on, request bodies never serialised. */
export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: { app: 'sparsam' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      // Only the route and method: query strings may carry hub.verify_token or other secrets.
      req: (req: { method?: string; routeOptions?: { url?: string }; url?: string; id?: string }) => ({
        method: req.method,
        route: req.routeOptions?.url ?? (req.url ? req.url.split('?')[0] : undefined),
        id: req.id,
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      err: pino.stdSerializers.err,
    },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}
