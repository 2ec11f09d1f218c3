import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

type LogMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
const METHODS: readonly LogMethod[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

/**
 * The request's logger (`request.log`), made when the request first logs a line at a level that is on, not for every
 * request. Fastify makes a child logger per request to carry its id; with pino's redaction on, making one serialises
 * the bindings through every redaction path, which was about 3 % of sparsam's CPU under a webhook storm, where
 * hardly a request logs anything (webhook routes log at warn and above). Lines logged read exactly as before.
 */
export const lazyRequestLogger: NonNullable<FastifyServerOptions['childLoggerFactory']> = function (
  logger,
  bindings,
  options,
) {
  let child: FastifyBaseLogger | undefined;
  const made = () => (child ??= logger.child(bindings, options));
  const values = (logger as unknown as { levels: { values: Record<string, number> } }).levels.values;
  const threshold = () => (child ? child.level : (options.level ?? logger.level));
  const on = (method: LogMethod) => {
    const level = threshold();
    if (level === 'silent') return false;
    // A level pino does not list here (a custom one): let the real child decide.
    const at = values[level];
    return at === undefined || (values[method] ?? 0) >= at;
  };
  const lazy = {
    get level() {
      return threshold();
    },
    set level(level: string) {
      made().level = level;
    },
    child: (...args: Parameters<FastifyBaseLogger['child']>) => made().child(...args),
    silent: () => undefined,
  } as unknown as FastifyBaseLogger;
  for (const method of METHODS) {
    (lazy as unknown as Record<LogMethod, (...args: unknown[]) => void>)[method] = (...args: unknown[]) => {
      if (on(method)) (made()[method] as (...a: unknown[]) => void)(...args);
    };
  }
  return lazy;
};
