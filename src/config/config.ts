import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { CHANNEL_KINDS, CHANNEL_SECRET_FIELDS, channelModule } from '../channels/registry.ts';
import { AppError } from '../shared/app-error.ts';
import {
  EXAMPLES,
  envSchema,
  fileSchema,
  type ChannelConfig,
  type EnvConfig,
  type FileConfig,
  type InboxConfig,
} from './config.schema.ts';

export type { ChannelConfig, InboxConfig } from './config.schema.ts';
export type { ChannelKind } from '../channels/channel-kind.ts';

/** A resolved inbox: defaults filled in, label prefix chosen by language when not given. */
export type Inbox = InboxConfig & { labelPrefix: string };

/** sparsam's whole configuration, validated and deeply frozen. Nothing else reads process.env. */
export interface AppConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly keystoreUrl: string | undefined;
  readonly masterKey: string | undefined;
  /** Length of a key epoch: erasure reaches every older copy at most this long after it happened. */
  readonly keyEpochHours: number;
  /** Where the epoch secrets live (default `<dataDir>/epoch.key`); never inside a backup. */
  readonly epochKeyFile: string;
  readonly configFile: string | undefined;
  readonly baseUrl: string;
  readonly logLevel: EnvConfig['SPARSAM_LOG_LEVEL'];
  readonly bodyLimitBytes: number;
  /**
   * Which reverse proxy to believe about the client address and scheme: false (none, the default), a number of hops,
   * or the proxies' addresses (IP or CIDR, comma-separated). Fastify's `trustProxy` option.
   */
  readonly trustProxy: boolean | number | string;
  readonly organisation: FileConfig['organisation'];
  readonly inboxes: readonly Inbox[];
  readonly channels: readonly ChannelConfig[];
  /**
   * Sealed channel secrets (Threema's `privateKey`) written inline in the configuration file rather than as
   * `env:NAME`, as `channels[i].field (channel id)`: `doctor` warns about each; they belong in the key store only.
   */
  readonly inlineSealedSecrets: readonly string[];
}

/** Thrown when configuration is wrong; `problems` lists one line per key, each with the fix. */
export class ConfigError extends AppError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('CONFIG', `sparsam cannot start, the configuration is wrong:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

/** Secret keys: every channel module's secret fields, and the environment's. */
const SECRET_KEYS: ReadonlySet<string> = new Set([
  ...CHANNEL_SECRET_FIELDS,
  'SPARSAM_MASTER_KEY',
  'SPARSAM_DATABASE_URL',
  'SPARSAM_KEYSTORE_URL',
]);

function formatPath(segments: readonly PropertyKey[]): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? String(s) : `.${String(s)}`)).join('');
}

function describeIssues(issues: readonly z.core.$ZodIssue[], prefix: string[] = []): string[] {
  return issues.map((issue) => {
    const segments = [...prefix, ...issue.path];
    const key = formatPath(segments) || '(file)';
    const last = [...segments].reverse().find((s) => typeof s === 'string') as string | undefined;
    const example = last ? EXAMPLES[last] : undefined;
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown key(s) ${issue.keys.join(', ')}: check the spelling`;
    if (issue.code === 'invalid_union' && last === 'kind') {
      message = `must be one of ${CHANNEL_KINDS.join(', ')}`;
    }
    return `${key}: ${message}${example ? ` (example: ${example})` : ''}`;
  });
}

/** Replaces `env:NAME` strings by the variable's value; collects a problem for each one that is unset. */
function resolveEnvRefs(value: unknown, env: NodeJS.ProcessEnv, at: PropertyKey[], problems: string[]): unknown {
  if (typeof value === 'string' && value.startsWith('env:')) {
    const name = value.slice(4);
    const resolved = env[name];
    if (resolved === undefined || resolved === '') {
      problems.push(`${formatPath(at)}: refers to environment variable ${name}, which is not set (example: ${value})`);
      return undefined;
    }
    return resolved;
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveEnvRefs(v, env, [...at, i], problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveEnvRefs(v, env, [...at, k], problems)]));
  }
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** Reads the YAML file; replaceable in tests. */
  readFile?: (file: string) => string;
}

/**
 * Loads, validates and freezes the configuration. Reads the environment and, when `SPARSAM_CONFIG` is set, the YAML
 * file. Never writes anything: a broken configuration leaves the disk untouched.
 */
export function loadConfig(options: LoadConfigOptions = {}): AppConfig {
  const env = options.env ?? process.env;
  const readFile = options.readFile ?? ((file: string) => readFileSync(file, 'utf8'));
  const problems: string[] = [];

  const envInput = Object.fromEntries(Object.keys(envSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const envResult = envSchema.safeParse(envInput);
  if (!envResult.success) problems.push(...describeIssues(envResult.error.issues));

  let file: FileConfig | undefined;
  let inlineSealedSecrets: string[] = [];
  const configPath = env.SPARSAM_CONFIG;
  if (configPath) {
    let raw: unknown;
    try {
      raw = parseYaml(readFile(configPath));
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
      problems.push(`SPARSAM_CONFIG: cannot read ${configPath}: ${reason} (example: ./sparsam.yaml)`);
    }
    if (raw !== undefined || problems.length === 0) {
      inlineSealedSecrets = findInlineSealedSecrets(raw);
      const resolved = resolveEnvRefs(raw ?? {}, env, [], problems);
      const fileResult = fileSchema.safeParse(resolved ?? {});
      if (fileResult.success) file = fileResult.data;
      else problems.push(...describeIssues(fileResult.error.issues).filter((p) => !problems.includes(p)));
    }
  } else {
    file = fileSchema.parse({});
  }

  if (file) problems.push(...crossCheck(file));
  if (problems.length > 0 || !envResult.success || !file) throw new ConfigError(dedupe(problems));

  const e = envResult.data;
  const inboxes: Inbox[] = (file.inboxes.length > 0 ? file.inboxes : [defaultInbox()]).map((inbox) => ({
    ...inbox,
    labelPrefix: inbox.labelPrefix ?? (inbox.language === 'de' ? 'Anfrage' : 'Request'),
  }));
  const dataDir = path.resolve(e.SPARSAM_DATA_DIR);
  return deepFreeze({
    port: e.SPARSAM_PORT,
    host: e.SPARSAM_HOST,
    dataDir,
    databaseUrl: e.SPARSAM_DATABASE_URL,
    keystoreUrl: e.SPARSAM_KEYSTORE_URL,
    masterKey: e.SPARSAM_MASTER_KEY,
    keyEpochHours: e.SPARSAM_KEY_EPOCH_HOURS,
    epochKeyFile: path.resolve(e.SPARSAM_EPOCH_KEY_FILE ?? path.join(dataDir, 'epoch.key')),
    configFile: configPath,
    baseUrl: (e.SPARSAM_BASE_URL ?? `http://localhost:${e.SPARSAM_PORT}`).replace(/\/+$/, ''),
    logLevel: e.SPARSAM_LOG_LEVEL,
    bodyLimitBytes: e.SPARSAM_BODY_LIMIT_BYTES,
    trustProxy: parseTrustProxy(e.SPARSAM_TRUST_PROXY),
    organisation: file.organisation,
    inboxes,
    channels: file.channels,
    inlineSealedSecrets,
  });
}

/** Sealed fields (a module's `sealedFields`) whose value stands in the file itself rather than as `env:NAME`. */
function findInlineSealedSecrets(raw: unknown): string[] {
  const channels = (raw as { channels?: unknown } | null | undefined)?.channels;
  if (!Array.isArray(channels)) return [];
  const found: string[] = [];
  channels.forEach((entry: unknown, i) => {
    if (!entry || typeof entry !== 'object') return;
    const channel = entry as Record<string, unknown>;
    const fields = typeof channel.kind === 'string' ? (channelModule(channel.kind)?.sealedFields ?? []) : [];
    for (const field of fields) {
      const value = channel[field];
      if (typeof value === 'string' && value !== '' && !value.startsWith('env:')) {
        found.push(`channels[${i}].${field} (${typeof channel.id === 'string' ? channel.id : 'no id'})`);
      }
    }
  });
  return found;
}

function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value.replace(/\s+/g, '');
}

function defaultInbox(): InboxConfig {
  return fileSchema.shape.inboxes.unwrap().element.parse({ id: 'service' });
}

function crossCheck(file: FileConfig): string[] {
  const problems: string[] = [];
  const inboxIds = new Set<string>(file.inboxes.length > 0 ? [] : ['service']);
  file.inboxes.forEach((inbox, i) => {
    if (inboxIds.has(inbox.id)) problems.push(`inboxes[${i}].id: "${inbox.id}" is used twice (example: sales)`);
    inboxIds.add(inbox.id);
  });
  const channelIds = new Set<string>();
  file.channels.forEach((channel, i) => {
    if (channelIds.has(channel.id))
      problems.push(`channels[${i}].id: "${channel.id}" is used twice (example: wa-main)`);
    channelIds.add(channel.id);
    if (!inboxIds.has(channel.inbox)) {
      problems.push(
        `channels[${i}].inbox: no inbox with id "${channel.inbox}" (declared: ${[...inboxIds].join(', ') || 'none'})`,
      );
    }
  });
  return problems;
}

function dedupe(lines: string[]): string[] {
  return [...new Set(lines)];
}

/** True for configuration keys whose values are secrets and must never be printed. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key);
}

/**
 * The organisation as the customer-facing texts name it, with the address of the full privacy notice:
 * `organisation.privacyNoticeUrl`, else sparsam's own public page `<baseUrl>/privacy-notice`.
 */
export function noticeOrganisation(config: Pick<AppConfig, 'organisation' | 'baseUrl'>): {
  name: string;
  contact: string;
  noticeUrl: string;
} {
  return {
    name: config.organisation.name,
    contact: config.organisation.contact,
    noticeUrl: config.organisation.privacyNoticeUrl ?? `${config.baseUrl}/privacy-notice`,
  };
}
