import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { startSparsam, type Sparsam } from '../../src/main.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { createLogger } from '../../src/shared/logger.ts';
import {
  startSimulator,
  type SimulatorOptions,
  type WhatsAppSimulator,
} from '../../dev/simulator/whatsapp-simulator.ts';
import { APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN } from '../inbox/inbox-world.ts';

/**
 * What tests that run sparsam for real share: the configuration file with one inbox and one WhatsApp channel, a
 * sparsam started on its own data dir (optionally on a PostgreSQL database), the WhatsApp simulator set up for that
 * channel, a free port and polling until something holds.
 */

export interface ConfigYamlOptions {
  /** The inbox's `language` (default `de`); `false` leaves the line out. */
  language?: string | false;
  /** Adds the inbox's retention (consent 24 h, close after 14 days, erase 30 days after) and `media: strip`. */
  retention?: boolean;
  /** The channel's `messagesPerSecond`, when set. */
  messagesPerSecond?: number;
}

/** sparsam.yaml with the inbox `service` and the WhatsApp channel `wa-main` sending to the Graph API at `graphUrl`. */
export function configYaml(graphUrl: string, options: ConfigYamlOptions = {}): string {
  const language = options.language ?? 'de';
  const inbox = [
    '  - id: service',
    '    labelPrefix: Anfrage',
    ...(language === false ? [] : [`    language: ${language}`]),
    ...(options.retention
      ? [
          '    retention:',
          '      consentTimeoutHours: 24',
          '      autoCloseAfterDays: 14',
          '      eraseAfterCloseDays: 30',
          '    media: strip',
        ]
      : []),
  ];
  const channel = [
    '  - id: wa-main',
    '    kind: whatsapp-cloud',
    '    inbox: service',
    `    phoneNumberId: "${PHONE_NUMBER_ID}"`,
    '    accessToken: test-access-token',
    `    appSecret: ${APP_SECRET}`,
    `    verifyToken: ${VERIFY_TOKEN}`,
    `    graphBaseUrl: ${graphUrl}`,
    ...(options.messagesPerSecond === undefined ? [] : [`    messagesPerSecond: ${options.messagesPerSecond}`]),
  ];
  return [
    'organisation:',
    '  name: Autohaus Beispiel GmbH',
    '  contact: datenschutz@autohaus.example',
    'inboxes:',
    ...inbox,
    'channels:',
    ...channel,
    '',
  ].join('\n');
}

/**
 * The WhatsApp simulator for the channel in configYaml (its secret, token and number). Without `webhookUrl` it
 * delivers nowhere until the test sets one.
 */
export function startWhatsAppSimulator(
  options: Partial<Omit<SimulatorOptions, 'appSecret' | 'accessToken' | 'phoneNumberId' | 'verifyToken'>> = {},
): Promise<WhatsAppSimulator> {
  return startSimulator({
    appSecret: APP_SECRET,
    accessToken: 'test-access-token',
    phoneNumberId: PHONE_NUMBER_ID,
    verifyToken: VERIFY_TOKEN,
    webhookUrl: 'http://127.0.0.1:1/unused',
    ...options,
  });
}

/** A TCP port free on 127.0.0.1 at the moment of asking. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Waits until `check` holds, looking every `intervalMs`; throws naming `what` after `timeoutMs`. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A sparsam listening on 127.0.0.1 (any port), with its own data dir. */
export interface Instance {
  sparsam: Sparsam;
  url: string;
  dataDir: string;
}

export interface StartInstanceOptions {
  /** The configuration file's text. */
  yaml: string;
  masterKey: string;
  /** PostgreSQL database for the data and the key store; SQLite in the data dir without it. */
  databaseUrl?: string;
  /** Prefix of the temporary data dir's name. */
  dataDirPrefix: string;
  /** Further SPARSAM_* variables. */
  env?: Record<string, string>;
  /** The logger's level (default `error`). */
  logLevel?: string;
}

/** The epoch key file shared by every instance of one PostgreSQL database (removed with the database's tmp dir). */
export function sharedEpochKeyFile(databaseUrl: string): string {
  const name = createHash('sha256').update(databaseUrl).digest('hex').slice(0, 16);
  return path.join(tmpdir(), `sparsam-epoch-${name}`, 'epoch.key');
}

/** Starts sparsam with the system clock, as `sparsam start` would with these settings. */
export async function startInstance(options: StartInstanceOptions): Promise<Instance> {
  const dataDir = mkdtempSync(path.join(tmpdir(), options.dataDirPrefix));
  const config = loadConfig({
    env: {
      SPARSAM_DATA_DIR: dataDir,
      ...(options.databaseUrl
        ? { SPARSAM_DATABASE_URL: options.databaseUrl, SPARSAM_KEYSTORE_URL: options.databaseUrl }
        : {}),
      SPARSAM_MASTER_KEY: options.masterKey,
      // Instances of one PostgreSQL database share one epoch key file, as they would share a mounted volume.
      ...(options.databaseUrl ? { SPARSAM_EPOCH_KEY_FILE: sharedEpochKeyFile(options.databaseUrl) } : {}),
      SPARSAM_PORT: '0',
      SPARSAM_HOST: '127.0.0.1',
      SPARSAM_CONFIG: '/virtual/sparsam.yaml',
      SPARSAM_LOG_LEVEL: 'error',
      ...options.env,
    },
    readFile: () => options.yaml,
  });
  const { sparsam, address } = await startSparsam(config, {
    clock: systemClock,
    logger: createLogger({ level: options.logLevel ?? 'error' }),
  });
  return { sparsam, url: address, dataDir };
}

/** Closes each started instance and removes its data dir. */
export async function closeInstances(...instances: (Instance | undefined)[]): Promise<void> {
  for (const i of instances) {
    await i?.sparsam.close().catch(() => undefined);
    if (i) rmSync(i.dataDir, { recursive: true, force: true });
  }
}
