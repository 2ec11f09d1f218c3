import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { AppConfig } from './config/config.ts';
import { AccountService } from './core/accounts/account.service.ts';
import { buildHttpApp, type RouteModule } from './http/app.ts';
import { bearerAuthenticator } from './http/auth/bearer.ts';
import type { Authenticator } from './http/auth/principal.ts';
import { LocalInboxEventBus, type InboxEventBus } from './core/inbox/inbox-events.ts';
import { createMetrics, type Metrics } from './http/metrics.ts';
import { systemClock, type Clock } from './shared/clock.ts';
import { createLogger, type Logger } from './shared/logger.ts';
import { openStore } from './store/open-store.ts';
import type { Store } from './store/store.ts';
import { InboxStore } from './store/sql/inbox.store.ts';
import { UserStore } from './store/sql/user.store.ts';
import { PgInboxEventBus } from './store/postgres/pg-event-bus.ts';
import { loadOrCreateMasterKey } from './core/privacy/keys/master-key.ts';
import { KeyService } from './core/privacy/keys/key.service.ts';
import { sealField } from './core/privacy/keys/field-cipher.ts';
import { KeyStore } from './store/sql/key.store.ts';
import { createWebInbox } from './http/auth/web-inbox.ts';

/** Everything a running sparsam holds; built once by {@link createSparsam}, the composition root. */
export interface Sparsam {
  config: AppConfig;
  logger: Logger;
  clock: Clock;
  store: Store;
  metrics: Metrics;
  users: UserStore;
  inboxes: InboxStore;
  accounts: AccountService;
  events: InboxEventBus;
  /** Resolves the caller of an /api/v1 request (API token; session cookie once the web inbox adds it). */
  authenticate: Authenticator;
  http: FastifyInstance;
  /** Stops background work, closes the HTTP server and the store. Safe to call twice. */
  close(): Promise<void>;
}

export interface CreateOptions {
  logger?: Logger;
  clock?: Clock;
}

/**
 * The composition root: the one place that picks and wires concrete stores, services, channels and routes. Opens the
 * data dir only after the configuration has been validated (a broken configuration writes nothing).
 */
export async function createSparsam(config: AppConfig, options: CreateOptions = {}): Promise<Sparsam> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  if (!config.databaseUrl || !config.keystoreUrl) mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const store = await openStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    keystoreUrl: config.keystoreUrl,
  });
  const metrics = createMetrics();
  const users = new UserStore(store.db);
  const inboxes = new InboxStore(store.db);
  await inboxes.syncConfigured(config.inboxes, config.channels, clock.now().getTime());
  const accounts = new AccountService(users, clock);
  // Live updates: in-process on SQLite; fanned out to every instance through LISTEN/NOTIFY on PostgreSQL.
  const pgEvents = config.databaseUrl ? new PgInboxEventBus(config.databaseUrl, logger) : undefined;
  await pgEvents?.start();
  const events: InboxEventBus = pgEvents ?? new LocalInboxEventBus();
  const bearer = bearerAuthenticator(users, clock);
  const masterKey = await loadOrCreateMasterKey({ masterKey: config.masterKey, dataDir: config.dataDir });
  const keys = new KeyService(new KeyStore(store.keys), masterKey, clock);
  await keys.init();
  // The browser inbox: session login (TOTP), staff, team features, live events, admin screens, static SPA.
  const webInbox = await createWebInbox({
    config,
    clock,
    store,
    users,
    inboxes,
    accounts,
    events,
    bearer,
    accountSecret: keys.pepper,
    sealNote: async (conversationId, messageId, content) =>
      sealField(await keys.dataKeyFor('conversation', conversationId), JSON.stringify(content), {
        table: 'messages',
        rowId: messageId,
        column: 'body_enc',
      }),
  });
  const authenticate: Authenticator = webInbox.authenticate;

  // Route modules, each a thin Fastify plugin calling core services built above.
  const modules: RouteModule[] = [];
  // The web inbox's modules go last: its SPA fallback answers any GET the other modules leave unmatched.
  modules.push(...webInbox.modules);
  const http = await buildHttpApp(
    { logger, metrics, bodyLimitBytes: config.bodyLimitBytes, ping: () => store.ping() },
    modules,
  );

  let closed = false;
  return {
    config,
    logger,
    clock,
    store,
    metrics,
    users,
    inboxes,
    accounts,
    events,
    authenticate,
    http,
    async close() {
      if (closed) return;
      closed = true;
      await http.close();
      await pgEvents?.close();
      await store.close();
    },
  };
}

/** Starts sparsam and listens; resolves with the running instance and the address it listens on. */
export async function startSparsam(
  config: AppConfig,
  options: CreateOptions = {},
): Promise<{ sparsam: Sparsam; address: string }> {
  const sparsam = await createSparsam(config, options);
  const address = await sparsam.http.listen({ port: config.port, host: config.host });
  return { sparsam, address };
}
