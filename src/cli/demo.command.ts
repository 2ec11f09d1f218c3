import { randomBytes } from 'node:crypto';
import { ALL_INBOXES } from '../core/teams/inbox-scope.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { loadConfig } from '../config/config.ts';
import { startSparsam, type Sparsam } from '../main.ts';
import { AppError } from '../shared/app-error.ts';
import { createLogger } from '../shared/logger.ts';

/** The demo channel's id: its webhook is `/webhooks/whatsapp/demo`. */
export const DEMO_CHANNEL_ID = 'demo';
const DEMO_PHONE_NUMBER_ID = '100000000000001';
/** The demo's WhatsApp Business Account and Meta app (the simulator takes any app id for uploads). */
const DEMO_BUSINESS_ACCOUNT_ID = '100000000000002';
const DEMO_APP_ID = '100000000000003';
const DEMO_ADMIN_EMAIL = 'demo@sparsam.invalid';
/** The demo's data protection officer: subject access, erasure and the audit log can be tried too. */
const DEMO_DPO_EMAIL = 'dpo@sparsam.invalid';

/** Approved templates of the demo channel: a MARKETING one for campaigns, a UTILITY one for replies after 24 h. */
export const DEMO_TEMPLATES = [
  {
    name: 'herbstangebot',
    language: 'de',
    category: 'MARKETING' as const,
    body: 'Hallo! Im Herbst gibt es bei uns {{1}}. Keine Angebote mehr? Antworten Sie STOP.',
  },
  {
    name: 'termin_erinnerung',
    language: 'de',
    category: 'UTILITY' as const,
    body: 'Erinnerung an Ihren Termin am {{1}} um {{2}} Uhr.',
  },
];

/** Quick replies the demo starts with, so that "/" in the composer offers something. */
export const DEMO_QUICK_REPLIES = [
  { shortcut: 'hallo', title: 'Begrüßung', text: 'Hallo, danke für Ihre Nachricht! Wie können wir helfen?' },
  { shortcut: 'öffnungszeiten', title: 'Öffnungszeiten', text: 'Wir sind Mo–Fr 8–17 Uhr und Sa 9–13 Uhr für Sie da.' },
  { shortcut: 'danke', title: 'Abschluss', text: 'Gern geschehen! Melden Sie sich jederzeit wieder.' },
];

export interface DemoOptions {
  /** sparsam's port (0: any free port). */
  port: number;
  /** The simulator's port (0: any free port). */
  simulatorPort: number;
  /** Keep data here; default a new temporary directory that is deleted when the demo stops. */
  dataDir?: string;
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Also a Threema channel (`demo-threema`) with the Threema Gateway simulator on this port (0: any free port). */
  threemaPort?: number;
}

/** The Threema demo channel's id: its webhook is `/webhooks/threema/demo-threema`. */
export const DEMO_THREEMA_CHANNEL_ID = 'demo-threema';
const DEMO_THREEMA_GATEWAY_ID = '*SPRSAMD';

/** What the demo needs of the Threema Gateway simulator (dev/simulator/threema-simulator.ts). */
interface DemoThreemaSimulator {
  url: string;
  webhookUrl: string | undefined;
  start(port?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The Threema simulator, loaded by path like the WhatsApp one (development checkout only). */
export const DEMO_THREEMA_SIMULATOR_MODULE = new URL('../../dev/simulator/threema-simulator.ts', import.meta.url);

async function startThreemaSimulator(port: number, secrets: { apiSecret: string; privateKey: string }) {
  let loaded: { ThreemaSimulator?: new (options: Record<string, unknown>) => DemoThreemaSimulator };
  try {
    loaded = (await import(DEMO_THREEMA_SIMULATOR_MODULE.href)) as typeof loaded;
  } catch {
    loaded = {};
  }
  if (!loaded.ThreemaSimulator) {
    throw new AppError(
      'CONFIG',
      'the Threema demo needs the development checkout (dev/simulator/threema-simulator.ts)',
    );
  }
  const simulator = new loaded.ThreemaSimulator({
    gatewayId: DEMO_THREEMA_GATEWAY_ID,
    apiSecret: secrets.apiSecret,
    gatewayPrivateKey: secrets.privateKey,
  });
  await simulator.start(port);
  return simulator;
}

/** What the demo needs of the WhatsApp Cloud API simulator. */
export interface DemoSimulator {
  url: string;
  setWebhookUrl(url: string): void;
  /** Meta's GET handshake against the configured webhook URL. */
  verifyWebhook(): Promise<{ status: number }>;
  close(): Promise<void>;
}

export interface DemoSimulatorOptions {
  port: number;
  phoneNumberId: string;
  webhookUrl: string;
  accessToken: string;
  appSecret: string;
  verifyToken: string;
  businessAccountId?: string;
  /** Templates the simulated account has, approved. */
  templates?: { name: string; language: string; category: string; body: string }[];
}

/** The export `demoSimulator` of the development simulator module, {@link DEMO_SIMULATOR_MODULE}. */
export interface DemoSimulatorModule<S extends DemoSimulator = DemoSimulator> {
  startSimulator(options: DemoSimulatorOptions): Promise<S>;
}

/**
 * The WhatsApp simulator is a development tool that lives outside the production source tree (dev/simulator/) and
 * is not part of a build: the demo loads it by path at run time, from a development checkout run through tsx
 * (`npm run demo`). The path is a URL, not a literal import, so that the production build does not compile it in.
 */
export const DEMO_SIMULATOR_MODULE = new URL('../../dev/simulator/whatsapp-simulator.ts', import.meta.url);

/** Loads the simulator; a production build or install without dev/ gets a message saying what the demo needs. */
export async function loadDemoSimulator<S extends DemoSimulator = DemoSimulator>(
  moduleUrl: URL = DEMO_SIMULATOR_MODULE,
): Promise<DemoSimulatorModule<S>> {
  try {
    const loaded = (await import(moduleUrl.href)) as { demoSimulator?: DemoSimulatorModule<S> };
    if (loaded.demoSimulator) return loaded.demoSimulator;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
  }
  throw new AppError(
    'CONFIG',
    'the demo needs the development checkout: its WhatsApp simulator (dev/simulator/) is not part of a production ' +
      'build or image. Clone the sparsam repository, run npm install, then npm run demo.',
  );
}

export interface RunningDemo<S extends DemoSimulator = DemoSimulator> {
  sparsam: Sparsam;
  simulator: S;
  /** The Threema Gateway simulator, when the demo runs with a Threema channel. */
  threema?: { url: string; webhookUrl: string };
  inboxUrl: string;
  phoneUrl: string;
  webhookUrl: string;
  admin: { email: string; password: string } | undefined;
  /** The data protection officer's login, created with the admin on a fresh data directory. */
  dpo: { email: string; password: string } | undefined;
  /** Meta's GET handshake against sparsam, run once at start: 200 when the webhook route is wired. */
  handshakeStatus: number;
  close(): Promise<void>;
}

/**
 * Starts the offline demo: the Cloud API simulator, then sparsam (SQLite in a temporary data dir) with one inbox and
 * one `whatsapp-cloud` channel whose Graph API is the simulator, then points the simulator's webhooks at sparsam.
 * Secrets are random per run and live only in memory. An admin account is created with a random password, printed
 * once, so that a person can log in to the inbox and answer what they write on the simulator's customer phone.
 */
export async function startDemo<S extends DemoSimulator = DemoSimulator>(
  options: DemoOptions,
  simulatorModule?: DemoSimulatorModule<S>,
): Promise<RunningDemo<S>> {
  const { startSimulator } = simulatorModule ?? (await loadDemoSimulator<S>());
  const secrets = {
    accessToken: randomBytes(24).toString('base64url'),
    appSecret: randomBytes(24).toString('base64url'),
    verifyToken: randomBytes(12).toString('base64url'),
  };
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'sparsam-demo-'));
  const simulator = await startSimulator({
    port: options.simulatorPort,
    phoneNumberId: DEMO_PHONE_NUMBER_ID,
    // Replaced below once sparsam listens and its port is known.
    webhookUrl: 'http://127.0.0.1:9/webhooks/whatsapp/demo',
    businessAccountId: DEMO_BUSINESS_ACCOUNT_ID,
    templates: DEMO_TEMPLATES,
    ...secrets,
  });
  const threemaSecrets = {
    apiSecret: randomBytes(24).toString('base64url'),
    privateKey: randomBytes(32).toString('hex'),
  };
  let threema: DemoThreemaSimulator | undefined;
  try {
    if (options.threemaPort !== undefined) threema = await startThreemaSimulator(options.threemaPort, threemaSecrets);
    const file = {
      organisation: {
        name: 'sparsam Demo',
        contact: 'datenschutz@example.org',
        privacyNoticeUrl: 'https://example.org/datenschutz',
      },
      inboxes: [{ id: 'demo', language: 'de' }],
      channels: [
        {
          id: DEMO_CHANNEL_ID,
          inbox: 'demo',
          kind: 'whatsapp-cloud',
          phoneNumberId: DEMO_PHONE_NUMBER_ID,
          businessAccountId: DEMO_BUSINESS_ACCOUNT_ID,
          appId: DEMO_APP_ID,
          graphBaseUrl: simulator.url,
          graphApiVersion: 'v23.0',
          templates: DEMO_TEMPLATES,
          ...secrets,
        },
        ...(threema
          ? [
              {
                id: DEMO_THREEMA_CHANNEL_ID,
                inbox: 'demo',
                kind: 'threema',
                gatewayId: DEMO_THREEMA_GATEWAY_ID,
                apiSecret: threemaSecrets.apiSecret,
                privateKey: threemaSecrets.privateKey,
                apiBaseUrl: threema.url,
              },
            ]
          : []),
      ],
    };
    const config = loadConfig({
      env: {
        SPARSAM_PORT: String(options.port),
        SPARSAM_HOST: '127.0.0.1',
        SPARSAM_DATA_DIR: dataDir,
        SPARSAM_CONFIG: 'demo.yaml',
        SPARSAM_BASE_URL: `http://127.0.0.1:${options.port || 8080}`,
        SPARSAM_LOG_LEVEL: options.logLevel ?? 'warn',
      },
      readFile: () => toYaml(file),
    });
    const { sparsam, address } = await startSparsam(config, {
      logger: createLogger({ level: options.logLevel ?? 'warn' }),
    });
    const inboxUrl = address.replace('://0.0.0.0', '://127.0.0.1');
    const webhookUrl = `${inboxUrl}/webhooks/whatsapp/${DEMO_CHANNEL_ID}`;
    simulator.setWebhookUrl(webhookUrl);
    if (threema) threema.webhookUrl = `${inboxUrl}/webhooks/threema/${DEMO_THREEMA_CHANNEL_ID}`;

    let admin: RunningDemo<S>['admin'];
    let dpo: RunningDemo<S>['dpo'];
    if ((await sparsam.users.countAdmins()) === 0) {
      const password = randomBytes(12).toString('base64url');
      await sparsam.accounts.createUser({
        email: DEMO_ADMIN_EMAIL,
        password,
        role: 'admin',
        displayName: 'Demo Admin',
      });
      admin = { email: DEMO_ADMIN_EMAIL, password };
      const dpoPassword = randomBytes(12).toString('base64url');
      await sparsam.accounts.createUser({
        email: DEMO_DPO_EMAIL,
        password: dpoPassword,
        role: 'dpo',
        displayName: 'Demo Datenschutz',
      });
      dpo = { email: DEMO_DPO_EMAIL, password: dpoPassword };
    }
    if ((await sparsam.team.listQuickReplies()).length === 0) {
      for (const quickReply of DEMO_QUICK_REPLIES) {
        await sparsam.team.createQuickReply({ name: 'system:demo', role: 'admin', scope: ALL_INBOXES }, quickReply);
      }
    }
    const handshake = await simulator.verifyWebhook().catch(() => ({ status: 0 }));
    let closed = false;
    return {
      sparsam,
      simulator,
      inboxUrl,
      phoneUrl: `${simulator.url}/`,
      webhookUrl,
      ...(threema ? { threema: { url: threema.url, webhookUrl: threema.webhookUrl! } } : {}),
      admin,
      dpo,
      handshakeStatus: handshake.status,
      async close() {
        if (closed) return;
        closed = true;
        await simulator.close();
        await threema?.stop();
        await sparsam.close();
        if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await simulator.close();
    await threema?.stop();
    if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('a port between 0 and 65535');
  return port;
}

/** `sparsam demo` (`npm run demo`): sparsam and the WhatsApp simulator side by side, offline. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run sparsam offline with a simulated WhatsApp customer phone (nothing leaves this machine)')
    .option('--port <port>', 'port for sparsam', parsePort, 8080)
    .option('--simulator-port <port>', 'port for the WhatsApp simulator', parsePort, 8090)
    .option('--data-dir <dir>', 'keep the demo data here (default: a temporary directory deleted on exit)')
    .option('--threema', 'also a Threema channel, with a simulated Threema Gateway and customer page')
    .option('--threema-port <port>', 'port for the Threema Gateway simulator', parsePort, 8091)
    .action(
      async (opts: {
        port: number;
        simulatorPort: number;
        dataDir?: string;
        threema?: boolean;
        threemaPort: number;
      }) => {
        const demoOptions: DemoOptions = { port: opts.port, simulatorPort: opts.simulatorPort };
        if (opts.dataDir) demoOptions.dataDir = opts.dataDir;
        if (opts.threema) demoOptions.threemaPort = opts.threemaPort;
        const demo = await startDemo(demoOptions);
        const lines = [
          '',
          'sparsam demo is running (offline; stop with Ctrl-C)',
          '',
          `  Team inbox:      ${demo.inboxUrl}/`,
          demo.admin
            ? `  Log in as:       ${demo.admin.email}  password ${demo.admin.password}  (shown once)`
            : '  Log in with the admin account of this data directory.',
          ...(demo.dpo
            ? [`  Data protection: ${demo.dpo.email}  password ${demo.dpo.password}  (shown once; DSGVO screens)`]
            : []),
          `  Customer phone:  ${demo.phoneUrl}   (write as a WhatsApp customer, tap the buttons)`,
          `  Graph API:       ${demo.simulator.url}  (simulated Cloud API for channel "${DEMO_CHANNEL_ID}")`,
          `  Webhook:         ${demo.webhookUrl}  (handshake answered ${demo.handshakeStatus})`,
          ...(demo.threema
            ? [
                `  Threema customer: ${demo.threema.url}/   (write as a Threema customer; answer JA to the notice)`,
                `  Threema webhook:  ${demo.threema.webhookUrl}`,
              ]
            : []),
          '',
        ];
        console.log(lines.join('\n'));
        const stop = async () => {
          await demo.close();
          process.exit(0);
        };
        process.once('SIGINT', () => void stop());
        process.once('SIGTERM', () => void stop());
      },
    );
}
