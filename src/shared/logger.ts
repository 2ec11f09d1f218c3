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
  /**
   * One readable line per entry ("12:00:01 WARN  no admin account yet …") instead of JSON, for a person at a
   * terminal. The line is formatted from the finished, already redacted JSON entry, so redaction applies unchanged.
   */
  pretty?: boolean;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/**
 * Turns one JSON log line (as pino writes it, redacted) into "HH:MM:SS LEVEL message  key=value …" in local time.
 * A line that is not JSON passes unchanged.
 */
export function formatLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { level, time, msg, app: _app, pid: _pid, hostname: _hostname, ...rest } = entry;
  const when = typeof time === 'number' ? new Date(time).toTimeString().slice(0, 8) : '';
  const name = (typeof level === 'number' ? LEVEL_NAMES[level] : undefined) ?? String(level);
  const extras = Object.entries(rest)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${when} ${name.padEnd(5)} ${typeof msg === 'string' ? msg : ''}${extras ? `  ${extras}` : ''}\n`;
}

/** A destination that writes {@link formatLogLine}'s readable lines to `out` (standard output by default). */
export function prettyDestination(out: { write(chunk: string): unknown } = process.stdout): DestinationStream {
  return { write: (line: string) => void out.write(formatLogLine(line)) };
}

/** Creates sparsam's logger: JSON lines (or readable lines, `pretty`), redaction on, request bodies never serialised. */
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
  const destination = settings.pretty
    ? prettyDestination(settings.destination ?? process.stdout)
    : settings.destination;
  return destination ? pino(options, destination) : pino(options);
}
