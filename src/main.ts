import { BusinessAccountService } from './core/business-account/business-account.service.ts';
import { whatsappAccountRoutes } from './http/api/whatsapp-account.routes.ts';
import { ChannelHealthStore, TemplateStore } from './store/sql/business-account.store.ts';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { noticeOrganisation, type AppConfig } from './config/config.ts';
import { AccountService } from './core/accounts/account.service.ts';
import { buildHttpApp, type RouteModule } from './http/app.ts';
import { bearerAuthenticator } from './http/auth/bearer.ts';
import type { Authenticator } from './http/auth/principal.ts';
import { EventJobSinks, LocalInboxEventBus, type InboxEventBus } from './core/inbox/inbox-events.ts';
import { createMetrics, type Metrics } from './http/metrics.ts';
import { systemClock, type Clock } from './shared/clock.ts';
import { createLogger, type Logger } from './shared/logger.ts';
import { youngGeneration } from './shared/young-generation.ts';
import { openStore } from './store/open-store.ts';
import type { Store } from './store/store.ts';
import { InboxStore } from './store/sql/inbox.store.ts';
import { UserStore } from './store/sql/user.store.ts';
import { LocalCacheSignals, type CacheSignals } from './shared/cache-signals.ts';
import { loadOrCreateMasterKey } from './core/privacy/keys/master-key.ts';
import { KeyService } from './core/privacy/keys/key.service.ts';
import { FileEpochSecretStore } from './core/privacy/keys/epoch-secrets.ts';
import { KeyEpochService } from './core/privacy/keys/key-epoch.service.ts';
import { sealField } from './core/privacy/keys/field-cipher.ts';
import { KeyStore } from './store/sql/key.store.ts';
import path from 'node:path';
import { AppError } from './shared/app-error.ts';
import { PublicKeyPinStore } from './store/sql/public-key-pin.store.ts';
import { SealedSecretStore } from './store/sql/sealed-secret.store.ts';
import { SealedSecrets } from './core/privacy/keys/sealed-secrets.ts';
import { resolveSealedChannelFields } from './channels/sealed-fields.ts';
import { composeWebInbox } from './compose-web-inbox.ts';
import { WEB_DIST_DIR, webInboxRoutes } from './http/auth/web-inbox.ts';
import type { TeamService } from './core/inbox/team.service.ts';
import { documentWebRoutes } from './http/auth/web-openapi.ts';
import { ChannelRegistry, channelKindFacts, channelModule, type ChannelConfig } from './channels/registry.ts';
import type { ChannelDeps } from './channels/channel-module.ts';
import { CachedInboxSettings } from './core/inbox/inbox-settings.ts';
import { effectiveInboxSettings } from './core/inbox/team-settings.service.ts';
import { TeamStore } from './store/sql/team.store.ts';
import { SnoozeStore } from './store/sql/snooze.store.ts';
import { SavedViewStore } from './store/sql/saved-view.store.ts';
import type { SnoozeService } from './core/inbox/snooze.service.ts';
import { WebStore } from './store/sql/web.store.ts';
import { InboxService } from './core/inbox/inbox.service.ts';
import { AuditLog } from './core/privacy/audit/audit-log.ts';
import { ConsentService, noticeVersion } from './core/privacy/consent/consent.service.ts';
import { ErasureService } from './core/privacy/erasure/erasure.service.ts';
import { ChannelAdminService } from './core/channel/channel-admin.service.ts';
import { SecretBox } from './core/accounts/secret-box.ts';
import { validateChannelDraft } from './channels/channel-forms.ts';
import { ManagedChannelStore } from './store/sql/managed-channel.store.ts';
import { channelAdminRoutes } from './http/api/channel-admin.routes.ts';
import { MediaSanitizer } from './core/privacy/media/media-sanitizer.ts';
import { ContactDirectory, formatLabel } from './core/privacy/pseudonym/contact-directory.ts';
import { conversationRoutes } from './http/api/conversations.routes.ts';
import { OpenApiRegistry, openApiRoutes } from './http/api/openapi.ts';
import { ForgedWebhookAudit } from './http/webhooks/forged-webhook-audit.ts';
import { channelWebhookRoutes } from './http/webhooks/channel-webhook.routes.ts';
import { webchatRoutes } from './http/webchat/webchat.routes.ts';
import { VisitorChatService } from './core/inbox/visitor-chat.service.ts';
import { webchatPageUrl } from './channels/webchat/webchat.links.ts';
import { WebchatAppearances } from './channels/webchat/webchat.appearance.ts';
import { WhatsAppRouter } from './channels/whatsapp-cloud/whatsapp-cloud.router.ts';
import { JobQueue } from './jobs/job-queue.ts';
import { registerOutboundSend } from './jobs/outbound-send.job.ts';
import type { Pacer } from './jobs/pacer.ts';
import { SendPacer } from './jobs/send-pacer.ts';
import { SharedSendPacer } from './jobs/shared-send-pacer.ts';
import { PgSendPacingStore } from './store/postgres/send-pacing.store.ts';
import type { Database } from './store/database.ts';
import { AuditStore } from './store/sql/audit.store.ts';
import { ConsentStore } from './store/sql/consent.store.ts';
import { ContactStore } from './store/sql/contact.store.ts';
import { ConversationStore, SqlInboxTransactions } from './store/sql/conversation.store.ts';
import { ProviderRefs } from './store/sql/provider-ref.ts';
import { ErasureStore } from './store/sql/erasure.store.ts';
import { RetentionSweeper } from './core/privacy/retention/retention-sweeper.ts';
import { RetentionStore } from './store/sql/retention.store.ts';
import { JobStore } from './store/sql/job.store.ts';
import { MediaStore } from './store/sql/media.store.ts';
import { MessageStore } from './store/sql/message.store.ts';
import { OutboundStore } from './store/sql/outbound.store.ts';
import { ComplianceTools } from './core/compliance/compliance.ts';
import { complianceRoutes } from './http/api/compliance.routes.ts';
import { ReportFactStore } from './store/sql/report.store.ts';
import { reportRoutes } from './http/api/reports.routes.ts';
import { ReportService } from './core/reports/report.service.ts';
import { ComplianceStore } from './store/sql/compliance.store.ts';
import { SubjectRightsStore } from './store/sql/subject-rights.store.ts';
import { AutomationService } from './core/inbox/automation.ts';
import { Outbox } from './core/inbox/outbox.ts';
import { MarketingService } from './core/marketing/marketing.service.ts';
import { marketingRoutes } from './http/api/marketing.routes.ts';
import { MarketingStore } from './store/sql/marketing.store.ts';
import { openMessageContent } from './core/inbox/message-content.ts';
import { WebhookService } from './core/webhooks/webhook.service.ts';
import { webhookRoutes } from './http/api/webhooks.routes.ts';
import { registerWebhookDelivery } from './jobs/webhook-delivery.job.ts';
import { NodeWebhookTransport } from './jobs/webhook-transport.ts';
import { WebhookStore } from './store/sql/webhook.store.ts';

/**
 * Webhook groups committed at once on PostgreSQL (see InboundProcessor); the pool has ten connections. Two, not more:
 * a group's statements cost about the same for one message as for twenty, so under load fewer, larger groups take
 * more messages a second (bench/README.md, sixth round), while the second group keeps one group's round trips from
 * stalling the others.
 */
const INGEST_GROUPS_POSTGRES = 2;
import { TeamsStore } from './store/sql/teams.store.ts';
import { AccessScopes } from './core/teams/access-scopes.ts';
import { TeamsService } from './core/teams/teams.service.ts';
import { FanOutNotifier, InAppNotifier } from './core/teams/notifier.ts';
import { MentionsService } from './core/teams/mentions.service.ts';
import { AssignmentService } from './core/teams/assignment.service.ts';
import { NotificationService } from './core/notifications/notification.service.ts';
import { notificationRoutes } from './http/api/notifications.routes.ts';
import { registerNotificationJobs, smtpMailGateway, webPushGateway } from './jobs/notification.jobs.ts';
import { NotificationStore } from './store/sql/notification.store.ts';

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
  /** Background jobs (outbound sends, media fetches, retention sweeps); started by startSparsam, stopped by close(). */
  jobs: JobQueue;
  channels: ChannelRegistry;
  audit: AuditLog;
  /** Forged webhooks' audit entries, aggregated per channel and minute; flush() writes the open windows now. */
  forgedWebhooks: ForgedWebhookAudit;
  inbox: InboxService;
  /** Team features: quick replies, labels, notes, assignment (the demo seeds quick replies through it). */
  team: TeamService;
  /** Snooze: wake-ups by job and sweep. */
  snooze: SnoozeService;
  /** Privacy core: keys (envelope encryption), pseudonymous contacts, consent ledger, erasure, retention. */
  keys: KeyService;
  /** Key epochs: re-wrap, re-pepper and destroy the previous epoch's secret (`sparsam keys rotate`). */
  keyEpochs: KeyEpochService;
  directory: ContactDirectory;
  consent: ConsentService;
  erasure: ErasureService;
  retention: RetentionSweeper;
  /** The data protection officer's tools: subject requests, reveals, documents, kill switch, breach register. */
  compliance: ComplianceTools;
  /** Outgoing webhooks: endpoints, signed deliveries through the job queue, the delivery log. */
  webhooks: WebhookService;
  /** WhatsApp templates, account health and business profile of the Cloud API channels. */
  businessAccount: BusinessAccountService;
  /** The OpenAPI document of /api/v1; route modules add their operations. */
  docs: OpenApiRegistry;
  /** Inbox memberships, token limits, availability and assignment settings. */
  teams: TeamsService;
  /** Auto-assignment (round robin) and the offline rule; run once a minute and on new conversations. */
  assignment: AssignmentService;
  /** "Tell this user" (mentions, assignments): in-app now; further sinks (web push, e-mail) are added here. */
  notifier: FanOutNotifier;
  /** Web Push and e-mail notifications of staff (content-free), delivered through the job queue. */
  notifications: NotificationService;
  /** Marketing consent and broadcasts; half-queued broadcasts are resumed by startSparsam. */
  marketing: MarketingService;
  /** Stops background work, closes the HTTP server and the store. Safe to call twice. */
  close(): Promise<void>;
}

export interface CreateOptions {
  logger?: Logger;
  clock?: Clock;
  /** Accept push subscriptions whose endpoint is on 127.0.0.1 (a test's local push service). Never in production. */
  allowLoopbackPushEndpoints?: boolean;
}

/**
 * The composition root: the one place that picks and wires concrete stores, services, channels and routes. Opens the
 * data dir only after the configuration has been validated (a broken configuration writes nothing).
 */
export async function createSparsam(config: AppConfig, options: CreateOptions = {}): Promise<Sparsam> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  if (!config.databaseUrl || !config.keystoreUrl) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    // An existing data dir (made by hand, or by an older version) is tightened too: it holds the key store and the
    // master key file, which nobody but sparsam's user may list or read.
    const mode = statSync(config.dataDir).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      chmodSync(config.dataDir, mode & 0o700);
      logger.warn({ was: mode.toString(8) }, 'data dir was readable by others; tightened to owner-only (chmod 700)');
    }
  }
  const store = await openStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    keystoreUrl: config.keystoreUrl,
  });
  const metrics = createMetrics();
  const users = new UserStore(store.db);
  const inboxes = new InboxStore(store.db);
  const webStore = new WebStore(store.db);
  // Inboxes whose settings an admin changed keep the change while the configuration is mirrored (other instances
  // may be reading them right now); composeWebInbox re-applies the changes once more afterwards.
  const effective = await effectiveInboxSettings(webStore, config.inboxes);
  await inboxes.syncConfigured(config.inboxes, config.channels, clock.now().getTime(), effective);
  // Live updates: in-process on SQLite; fanned out to every instance through LISTEN/NOTIFY on PostgreSQL.
  // The PostgreSQL modules (and the pg driver) are loaded only where PostgreSQL is used.
  const pg = config.databaseUrl
    ? {
        ...(await import('./store/postgres/pg-event-bus.ts')),
        ...(await import('./store/postgres/pg-cache-signals.ts')),
        ...(await import('./store/postgres/postgres.dialect.ts')),
      }
    : undefined;
  const pgEvents = pg && config.databaseUrl ? new pg.PgInboxEventBus(config.databaseUrl, logger) : undefined;
  await pgEvents?.start();
  const events: InboxEventBus = pgEvents ?? new LocalInboxEventBus();
  // Per-process caches (data keys, inbox settings, live-event streams of a session) dropped on every instance at
  // once when one instance destroys a key, changes settings or ends a session: LISTEN/NOTIFY on PostgreSQL.
  const pgSignals = pg && config.databaseUrl ? new pg.PgCacheSignals(config.databaseUrl, logger) : undefined;
  await pgSignals?.start();
  const signals: CacheSignals = pgSignals ?? new LocalCacheSignals();
  // Teams: inbox memberships and token limits (the scope of every request), availability, assignment, mentions.
  const teamsStore = new TeamsStore(store.db);
  const scopes = new AccessScopes(teamsStore);
  const bearer = bearerAuthenticator(users, clock, scopes);
  const masterKey = await loadOrCreateMasterKey({ masterKey: config.masterKey, dataDir: config.dataDir });
  // Key epochs: the epoch secrets (the root of the chain that wraps data keys and peppers lookup hashes) live only in
  // the epoch file, never in either database, so that no old copy of them brings an erased conversation back.
  const keys = new KeyService(new KeyStore(store.keys), masterKey, clock, {
    signals,
    epochs: new FileEpochSecretStore(config.epochKeyFile, masterKey),
  });
  await keys.init();
  // Provider message ids are stored as keyed hashes (a WhatsApp id carries the customer's number).
  const providerRefs = new ProviderRefs(keys.pepper);
  // Logins, 2FA changes, invitations, assignments, settings changes and every privacy-relevant act.
  const audit = new AuditLog(new AuditStore(store.db), keys, clock);
  // Channels: those declared in the configuration file, and those created in the admin screen (loaded below, once
  // the erasure service they need exists). SMS checks Twilio's signature over the public URL and sets it as status
  // callback; Telegram stamps button taps.
  // Threema: customers' public keys pinned on first contact (keyed hash of the ID in the main database).
  const channelDeps: ChannelDeps = {
    fetch: globalThis.fetch,
    baseUrl: config.baseUrl,
    now: () => clock.now().getTime(),
    logger,
    publicKeyPins: new PublicKeyPinStore(store.db, keys.pepper, () => clock.now().getTime()),
  };
  // Secrets a channel keeps in the key store (Threema's private key): sealed on first start, read back afterwards.
  const channelConfigs = await resolveSealedChannelFields(
    config.channels,
    new SealedSecrets(new SealedSecretStore(store.keys), keys, clock),
    (channelId, field) => logger.info({ channelId, field }, 'channel secret sealed into the key store'),
  );
  const channels = new ChannelRegistry(channelConfigs, channelDeps);
  const jobs = new JobQueue({
    store: new JobStore(store.db, { skipLocked: store.capabilities.skipLocked }),
    clock,
    logger,
  });
  // Outgoing webhooks: the core's events, signed (Standard Webhooks) and delivered through the job queue.
  const conversations = new ConversationStore(store.db);
  const messages = new MessageStore(store.db, providerRefs);
  const webhooks = new WebhookService({
    port: new WebhookStore(store.db),
    box: new SecretBox(keys.pepper, 'sparsam/webhook-secrets/v1'),
    clock,
    audit,
    jobs,
    transport: new NodeWebhookTransport(),
    logger,
    channelInfo: async (channelId) => {
      const channel = await inboxes.findChannel(channelId);
      return channel && { inboxId: channel.inbox_id, kind: channel.kind };
    },
    inboxIds: async () => (await inboxes.listInboxes()).map((i) => i.id),
    conversationLabel: async (conversationId) => {
      const conversation = await conversations.findById(conversationId);
      const inbox = conversation && (await inboxes.listInboxes()).find((i) => i.id === conversation.inbox_id);
      return conversation && inbox ? formatLabel(inbox.label_prefix, conversation.label_seq) : undefined;
    },
    messageText: async (messageId) => {
      const message = await messages.findById(messageId);
      if (!message?.body_enc) return undefined;
      const key = await keys.existingDataKey('conversation', message.conversation_id);
      return key ? openMessageContent(key, message.id, message.body_enc).text : undefined;
    },
  });
  registerWebhookDelivery(jobs, webhooks);
  const teams = new TeamsService({
    memberships: teamsStore,
    presence: teamsStore,
    users,
    inboxes,
    settings: webStore,
    audit,
    clock,
  });
  const accounts = new AccountService(users, clock, teams);
  // "Tell this user": the in-app live event now; web push and e-mail are further sinks (notifier.add).
  const notifier = new FanOutNotifier([new InAppNotifier(events)], logger);
  const mentions = new MentionsService({ mentions: teamsStore, teams, notify: notifier, events, clock });
  // The browser inbox's services: session login (TOTP), staff, team features, live events, admin settings.
  const webInbox = await composeWebInbox({
    channelConfig: (channelId) => channels.config(channelId),
    config,
    clock,
    users,
    inboxes,
    web: webStore,
    team: new TeamStore(store.db),
    snoozes: new SnoozeStore(store.db),
    // The wake-up is a job due at the time: it survives restarts, and one instance runs it.
    scheduleWake: async (conversationId, until) => {
      await jobs.enqueue(
        'conversation-wake',
        { conversationId, until },
        { runAt: until, dedupeKey: `conversation-wake:${conversationId}:${until}` },
      );
    },
    savedViews: new SavedViewStore(store.db),
    accounts,
    events,
    bearer,
    scopes,
    teams,
    mentions,
    notify: notifier,
    signals,
    accountSecret: keys.pepper,
    sealNote: async (conversationId, messageId, content) =>
      sealField(await keys.dataKeyFor('conversation', conversationId), JSON.stringify(content), {
        table: 'messages',
        rowId: messageId,
        column: 'body_enc',
      }),
    audit,
    webhooks,
  });
  const authenticate: Authenticator = webInbox.authenticate;
  // Free-text labels from before the admins' label list: sealed with the conversation's key, none left in plain.
  await webInbox.team.sealLegacyLabels(
    async (conversationId, labels) =>
      sealField(await keys.dataKeyFor('conversation', conversationId), JSON.stringify(labels), {
        table: 'conversations',
        rowId: conversationId,
        column: 'labels_legacy_enc',
      }),
    () => store.scrub(),
  );

  // Inbox core: privacy services, the job queue and the InboxService that ties them together.
  // The admin screen's credit balance (Threema): channels that can tell it.
  webInbox.deps.channelBalance = {
    supports: (channelId) => typeof channels.get(channelId)?.balance === 'function',
    get: async (channelId) => {
      const balance = await channels.get(channelId)?.balance?.();
      if (!balance) throw new AppError('NOT_FOUND', 'this channel has no prepaid balance');
      return balance;
    },
  };
  const contacts = new ContactDirectory(new ContactStore(store.db), keys, clock, channelKindFacts);
  const keyEpochs = new KeyEpochService(keys, clock, {
    epochMs: config.keyEpochHours * 3_600_000,
    repepper: () => contacts.repepper(),
  });
  const consent = new ConsentService(new ConsentStore(store.db), keys, clock, webhooks);
  const erasure = new ErasureService(new ErasureStore(store.db, () => store.scrub()), keys, audit, clock, webhooks);
  // Channels created in the admin screen: secrets sealed under a key derived from the key store's secret (never in
  // the main database or its backups in plain), loaded now and again on every instance whenever one changes them.
  const channelSecrets = new SecretBox(keys.pepper, 'sparsam/channel-secrets/v1');
  const channelAdmin = new ChannelAdminService<ChannelConfig>({
    port: new ManagedChannelStore(store.db),
    validate: validateChannelDraft,
    sealer: {
      seal: (channelId, secrets) => channelSecrets.seal(JSON.stringify(secrets), `channels:${channelId}:secrets`),
      open: (channelId, sealed) =>
        JSON.parse(channelSecrets.open(sealed, `channels:${channelId}:secrets`)) as Record<string, string>,
    },
    isDeclared: (channelId) => channels.isDeclared(channelId),
    erasure,
    audit,
    clock,
    // Every other instance reloads on the signal; this one before the admin's request is answered.
    changed: async () => {
      await signals.publish({ type: 'channels.changed' });
      await reloadChannels();
    },
    warn: (channelId, problem) =>
      logger.warn({ channelId, problem }, 'a channel created in the admin screen is skipped'),
  });
  const reloadChannels = async () => channels.setManaged(await channelAdmin.loadManaged());
  await reloadChannels();
  const reloadQuietly = () =>
    void reloadChannels().catch((error: unknown) =>
      logger.warn({ reason: (error as Error).message }, 'could not load the channels created in the admin screen'),
    );
  signals.subscribe((signal) => {
    if (signal.type === 'channels.changed') reloadQuietly();
  });
  signals.onResync(reloadQuietly);
  // Retention: consent timeout, auto-close, erase after close, audit pruning (run by the 'retention-sweep' job).
  // Content-free facts for the reports (report_facts), kept when conversations are erased.
  const reportFacts = new ReportFactStore(store.db);
  const retention = new RetentionSweeper(new RetentionStore(store.db), erasure, audit, clock, {
    logger,
    events: webhooks,
    reportFacts,
    channelKindOf: (channelId) => channels.get(channelId)?.kind ?? 'unknown',
  });
  // The one writer of outbound messages and their send jobs (replies, notices, automated messages, broadcasts).
  const inboxTransactions = new SqlInboxTransactions(store.db, jobs, providerRefs);
  const outbox = new Outbox({ clock, transactions: inboxTransactions, keys });
  // Automated messages (greeting, away) and marketing consent and broadcasts, queued through the outbox.
  const marketingStore = new MarketingStore(store.db);
  const media = new MediaStore(store.db);
  // One cache of the inbox settings (hours, greeting, away message), dropped on every instance when one changes them.
  const inboxSettings = new CachedInboxSettings(inboxes, clock, undefined, signals);
  // The WhatsApp Business Account of the Cloud API channels: templates (synced from Meta, created in the admin
  // screen, following the status webhooks), account health and the business profile.
  const configuredTemplates = (channelId: string) => {
    const channel = channels.config(channelId);
    return channel && 'templates' in channel ? (channel.templates ?? []) : [];
  };
  const businessAccount = new BusinessAccountService({
    templates: new TemplateStore(store.db),
    health: new ChannelHealthStore(store.db),
    channels,
    audit,
    clock,
    configured: configuredTemplates,
    privacyNoticeUrl: config.organisation.privacyNoticeUrl,
  });
  // The templates agents and broadcasts may send: approved at Meta (synced or by webhook), or configured.
  const templates = (channelId: string) => businessAccount.sendableTemplates(channelId);
  const automation = new AutomationService({
    clock,
    logger,
    settings: inboxSettings,
    conversations,
    consent,
    audit,
    events,
    outbox,
  });
  const marketing = new MarketingService({
    port: marketingStore,
    contacts,
    consent,
    audit,
    outbox,
    clock,
    channels,
    templates,
    formatLabel,
    keys,
  });
  // Jobs that follow from a group of webhooks' events, written in the group's transaction (notifications, below).
  const eventJobs = new EventJobSinks();
  const inbox = new InboxService({
    automation,
    eventJobs,
    clock,
    logger,
    transactions: inboxTransactions,
    outbox,
    conversations,
    messages,
    media,
    contacts,
    consent,
    erasure,
    audit,
    reportFacts,
    keys,
    channels,
    channelState: { isEnabled: (id) => inboxes.isChannelEnabled(id) },
    staff: users,
    sanitizer: new MediaSanitizer(),
    events,
    inboxes: inboxSettings,
    organisation: noticeOrganisation(config),
    timeZone: config.organisation.timeZone,
    templates,
    noticeVersion,
    formatLabel,
    chatUrl: (inboxId) => webchatPageUrl(config.baseUrl, config.channels, inboxId),
    webhooks,
    // PostgreSQL runs several groups' transactions at once (each on its own pooled connection); SQLite has one writer.
    ingestConcurrency: store.dialect === 'postgres' ? INGEST_GROUPS_POSTGRES : 1,
  });
  // The website chat's visitor side (kind webchat): consent before the first message, history, files, live stream.
  const visitorChat = new VisitorChatService(
    {
      clock,
      logger,
      channels,
      contacts,
      consent,
      conversations,
      messages: new MessageStore(store.db, providerRefs),
      media,
      keys,
      erasure,
      audit,
      events,
      inboxes: inboxSettings,
      organisation: config.organisation,
      noticeVersion,
      formatLabel,
    },
    inbox,
  );
  // Outbound pace per channel: in-process on SQLite (one instance); on PostgreSQL shared by every instance through
  // the send_pacing table, so that instances together stay within the provider's limit per number.
  // The shared pacer has its own connection (one more per instance), so that its slot claims do not queue behind
  // the jobs' queries.
  const pacingDb =
    store.dialect === 'postgres' && pg && config.databaseUrl
      ? (await pg.openPostgres<Database>({ url: config.databaseUrl, max: 1 })).db
      : undefined;
  const pacer: Pacer = pacingDb ? new SharedSendPacer(new PgSendPacingStore(pacingDb), { logger }) : new SendPacer();
  registerOutboundSend(jobs, {
    store: new OutboundStore(store.db, providerRefs),
    pacer,
    keys,
    contacts,
    channels,
    media,
    events,
    webhooks,
    clock,
    logger,
  });
  jobs.register(
    'media-fetch',
    async (job) => {
      if (typeof job.payload.mediaId === 'string') await inbox.fetchMedia(job.payload.mediaId);
    },
    {
      concurrency: 4,
      onFailed: async (job) => {
        if (typeof job.payload.mediaId === 'string') await inbox.mediaFetchFailed(job.payload.mediaId);
      },
    },
  );
  // Auto-assignment and the offline rule: on every conversation staff can now see, and once a minute (capacity freed,
  // agents came online or went offline).
  const assignment = new AssignmentService({
    teams,
    memberships: teamsStore,
    conversations: teamsStore,
    users,
    events,
    notify: notifier,
    audit,
    clock,
    logger,
  });
  events.subscribe((event) => {
    if (event.type === 'conversation.created') void assignment.run(event.inboxId).catch(() => undefined);
  });
  webInbox.deps.runAssignment = (inboxId) => assignment.run(inboxId);
  webInbox.deps.conversationLabels = (ids) => inbox.labelsOf(ids);
  const docs = new OpenApiRegistry();
  documentWebRoutes(docs);
  const compliance = new ComplianceTools({
    port: new ComplianceStore(store.db),
    subjectRightsPort: new SubjectRightsStore(store.db),
    contacts,
    consent,
    audit,
    erasure,
    keys,
    clock,
    organisation: config.organisation,
    keyStoreUrl: config.keystoreUrl,
    masterKeyFromEnv: Boolean(config.masterKey),
    channelKinds: channelKindFacts,
    events,
    webhooks: async () =>
      (await webhooks.list()).map((e) => ({
        target: new URL(e.url).origin,
        inboxId: e.inboxId,
        events: e.events,
        includeContent: e.includeContent,
        legalBasis: e.legalBasis,
        paused: e.state === 'paused',
      })),
  });

  // Staff notifications: Web Push (VAPID key pair made on the first start, private key sealed) and optional e-mail.
  // Inbox events become dispatch jobs; recipients are every active admin and agent who wants the event.
  const notifications = new NotificationService({
    port: new NotificationStore(store.db),
    box: new SecretBox(keys.pepper, 'sparsam/notifications/v1'),
    pepper: keys.pepper,
    push: webPushGateway(),
    mail: smtpMailGateway(),
    jobs,
    clock,
    logger,
    baseUrl: config.baseUrl,
    allowLoopbackEndpoints: options.allowLoopbackPushEndpoints === true,
    // Inbox membership: only staff who may see the conversation's inbox are notified of it.
    recipients: {
      async resolve(audience, staff) {
        if (Array.isArray(audience)) return staff.filter((u) => audience.includes(u.id));
        const inboxId = (audience as { inboxId: string }).inboxId;
        const allowed = await Promise.all(staff.map((u) => teams.maySee(u, inboxId)));
        return staff.filter((_, i) => allowed[i]);
      },
    },
  });
  await notifications.init();
  // @mentions reach the named colleague by Web Push and e-mail too (assignments arrive as inbox events).
  notifier.add({
    async notify(n) {
      if (n.kind !== 'mention') return;
      await notifications.notify([n.userId], {
        kind: 'note.mention',
        conversationId: n.conversationId,
        eventId: n.messageId ?? `${n.conversationId}:${n.userId}`,
      });
    },
  });
  registerNotificationJobs(jobs, notifications);
  eventJobs.add(notifications);
  const stopNotifications = events.subscribe((event) => {
    notifications.onInboxEvent(event).catch((error: unknown) => {
      logger.warn({ err: error, type: event.type }, 'could not queue a notification');
    });
  });

  const forgedWebhooks = new ForgedWebhookAudit(audit);
  // Route modules, each a thin Fastify plugin calling core services built above.
  const modules: RouteModule[] = [];
  modules.push(
    channelWebhookRoutes({
      channels,
      inbox,
      audit,
      forged: forgedWebhooks,
      metrics,
      whatsapp: new WhatsAppRouter(() => channels.configs()),
      accountEvents: businessAccount,
      now: () => clock.now().getTime(),
    }),
    whatsappAccountRoutes({
      service: businessAccount,
      sanitizer: new MediaSanitizer(),
      authenticate: (request) => authenticate(request),
      docs,
    }),
    conversationRoutes({ inbox, authenticate: (request) => authenticate(request), docs }),
    reportRoutes({
      reports: new ReportService({
        facts: reportFacts,
        nameOf: async (id) => (await users.findUserById(id))?.display_name,
        teamOf: async (id) => (await inboxSettings.get(id))?.team ?? id,
        timeZone: config.organisation.timeZone,
        clock,
      }),
      authenticate: (request) => authenticate(request),
      docs,
    }),
    openApiRoutes({ docs, authenticate: (request) => authenticate(request) }),
    complianceRoutes({
      compliance,
      authenticate: (request) => authenticate(request),
      docs,
      staffNames: async () => new Map((await webInbox.staff.list()).map((u) => [u.id, u.displayName])),
    }),
    marketingRoutes({ marketing, authenticate: (request) => authenticate(request), docs }),
    channelAdminRoutes({
      channels: channelAdmin,
      authenticate: (request) => authenticate(request),
      baseUrl: config.baseUrl,
      registerWebhook: async (channelId) => {
        const channel = channels.config(channelId);
        if (!channel) throw new AppError('NOT_FOUND', 'no such channel');
        const registration = channelModule(channel.kind)?.webhookRegistration;
        if (!registration)
          throw new AppError('VALIDATION', 'this channel kind takes its webhook URL in the provider’s console');
        try {
          return await registration.register(channel, config.baseUrl, channelDeps);
        } catch (error) {
          // The provider's answer may quote the request (a bot token in Telegram's URL): never passed on or logged.
          throw new AppError('PROVIDER_REFUSED', 'the provider refused the webhook registration', undefined, {
            cause: error,
          });
        }
      },
      docs,
    }),
    webchatRoutes({
      visitor: visitorChat,
      channels,
      baseUrl: config.baseUrl,
      organisationName: config.organisation.name,
      appearances: new WebchatAppearances(webStore, config.channels, () => clock.now().getTime()),
      admin: { authenticate: (request) => authenticate(request), audit },
      widgetDir: path.join(WEB_DIST_DIR, 'webchat'),
    }),
    webhookRoutes({ webhooks, authenticate: (request) => authenticate(request), docs }),
    notificationRoutes({
      notifications,
      authenticate: (request) => authenticate(request),
      findUser: async (id) => users.findUserById(id),
      audit,
      docs,
    }),
  );
  // The web inbox's modules go last: its SPA fallback answers any GET the other modules leave unmatched.
  modules.push(...webInboxRoutes(webInbox.deps));
  const http = await buildHttpApp(
    { logger, metrics, bodyLimitBytes: config.bodyLimitBytes, trustProxy: config.trustProxy, ping: () => store.ping() },
    modules,
  );
  // Privacy work on a clock: one retention sweep a minute across all instances (one job per minute slot).
  jobs.register('retention-sweep', async () => {
    await retention.sweep();
  });
  jobs.every('retention-sweep', 60_000);
  // Key epochs: finish a transition left unfinished, begin the next epoch when the current one is over.
  jobs.register('key-epoch', async () => {
    await keyEpochs.tick();
  });
  jobs.every('key-epoch', 60_000);
  jobs.register('assignment-sweep', async () => {
    await assignment.run();
  });
  jobs.every('assignment-sweep', 60_000);
  // Snoozed conversations wake by their job; the sweep wakes any whose job was lost. Both wake conditionally, once.
  jobs.register('conversation-wake', async (job) => {
    const { conversationId, until } = job.payload;
    if (typeof conversationId === 'string' && typeof until === 'number') {
      await webInbox.snooze.wakeAt(conversationId, until);
    }
  });
  jobs.register('snooze-sweep', async () => {
    await webInbox.snooze.wakeDue();
  });
  jobs.every('snooze-sweep', 60_000);

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
    jobs,
    channels,
    audit,
    forgedWebhooks,
    inbox,
    team: webInbox.team,
    snooze: webInbox.snooze,
    docs,
    keys,
    keyEpochs,
    directory: contacts,
    consent,
    erasure,
    retention,
    compliance,
    webhooks,
    teams,
    assignment,
    notifier,
    businessAccount,
    notifications,
    marketing,
    async close() {
      if (closed) return;
      closed = true;
      stopNotifications();
      await http.close();
      await forgedWebhooks.flush().catch(() => undefined);
      await jobs.stop();
      await pacingDb?.destroy();
      await pgEvents?.close();
      await pgSignals?.close();
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
  // Started: requests may now need a young generation of the size V8 chooses (held small by bin/sparsam.js).
  youngGeneration.release();
  // Background work only in the server: one-shot CLI commands build a Sparsam too and must not send or sweep.
  sparsam.jobs.start();
  // A broadcast half-queued when the last process stopped goes on from its cursor (no contact gets it twice).
  void sparsam.marketing.resumeQueueing().catch((error: unknown) => {
    sparsam.logger.error({ err: error }, 'resuming half-queued broadcasts failed');
  });
  return { sparsam, address };
}
