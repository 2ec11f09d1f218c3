import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { AppConfig } from '../config/config.ts';
import { controllerPlaceholders } from '../core/compliance/controller-placeholder.ts';
import { healthReasons } from '../core/business-account/business-account.service.ts';
import type { ChannelHealthPort } from '../core/ports/business-account.port.ts';
import { describeStoreError, openStore } from '../store/open-store.ts';
import { ManagedChannelStore } from '../store/sql/managed-channel.store.ts';
import { ChannelHealthStore } from '../store/sql/business-account.store.ts';

export interface Finding {
  /** False: sparsam cannot run as configured. */
  ok: boolean;
  /** Runs, but something needs attention before real use (printed as WARN). */
  warn?: boolean;
  what: string;
  /** Plain words: what is wrong and what to do. */
  detail?: string;
}

function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Checks what sparsam needs to run and says in plain words what is wrong. Changes nothing. */
export async function runDoctor(config: AppConfig): Promise<Finding[]> {
  const findings: Finding[] = [{ ok: true, what: 'configuration is valid' }];
  /** Channels an admin created in the admin screen (read from the main store when it answers). */
  let managedChannels = 0;

  const usesSqlite = !config.databaseUrl || !config.keystoreUrl;
  if (usesSqlite) {
    if (existsSync(config.dataDir)) {
      try {
        accessSync(config.dataDir, constants.W_OK);
        const mode = statSync(config.dataDir).mode & 0o777;
        findings.push({
          ok: (mode & 0o077) === 0,
          what: `data dir ${config.dataDir}`,
          ...((mode & 0o077) !== 0
            ? { detail: `others can read it (mode ${mode.toString(8)}); run: chmod 700 ${config.dataDir}` }
            : {}),
        });
      } catch {
        findings.push({ ok: false, what: `data dir ${config.dataDir}`, detail: 'not writable by this user' });
      }
    } else {
      findings.push({ ok: true, what: `data dir ${config.dataDir}`, detail: 'will be created on first start' });
    }
  }

  if (config.databaseUrl || existsSync(path.join(config.dataDir, 'sparsam.db'))) {
    try {
      const store = await openStore({
        dataDir: config.dataDir,
        databaseUrl: config.databaseUrl,
        keystoreUrl: config.keystoreUrl,
        migrate: false,
      });
      try {
        await store.ping();
        findings.push({ ok: true, what: `main store (${store.dialect}) answers` });
        managedChannels = (await new ManagedChannelStore(store.db).listManaged().catch(() => [])).length;
        findings.push({ ok: true, what: `key store (${store.keysDialect}) answers` });
        findings.push(...(await whatsAppHealthFindings(config, new ChannelHealthStore(store.db))));
      } finally {
        await store.close();
      }
    } catch (error) {
      findings.push({ ok: false, what: 'store', detail: describeStoreError((error as Error).cause ?? error) });
    }
  } else {
    findings.push({ ok: true, what: 'store', detail: 'SQLite files will be created on first start' });
  }

  if (config.databaseUrl && !config.keystoreUrl) {
    findings.push({
      ok: false,
      what: 'key store placement',
      detail:
        'the main store is PostgreSQL but the key store is a SQLite file on this machine; several instances need ' +
        'one shared key store: set SPARSAM_KEYSTORE_URL (example: postgres://sparsam@db/sparsam_keys)',
    });
  }
  if (config.databaseUrl && config.keystoreUrl && config.databaseUrl === config.keystoreUrl) {
    findings.push({
      ok: true,
      what: 'key store placement',
      detail:
        'same PostgreSQL database, own schema sparsam_keys: exclude it from main-data backups (pg_dump -N sparsam_keys)',
    });
  }

  const free = await portFree(config.port, config.host);
  findings.push({
    ok: free,
    what: `port ${config.port}`,
    ...(free ? {} : { detail: 'already in use: stop the other program or set SPARSAM_PORT (example: 8081)' }),
  });

  if (!config.baseUrl.startsWith('https://')) {
    findings.push({
      ok: true,
      warn: true,
      what: 'public URL',
      detail: `${config.baseUrl} is not https; Meta and Telegram only call https webhooks: set SPARSAM_BASE_URL`,
    });
  }
  const placeholders = controllerPlaceholders(config.organisation);
  if (placeholders.length > 0) {
    findings.push({
      ok: true,
      warn: true,
      what: 'controller',
      detail:
        `"${config.organisation.name}, ${config.organisation.contact}" is a placeholder (${placeholders.join(' and ')}); ` +
        'the privacy notice and the record of processing activities name it: set organisation.name and ' +
        'organisation.contact in the configuration file (example: name: Autohaus Beispiel GmbH, contact: ' +
        'datenschutz@autohaus-beispiel.de)',
    });
  }
  for (const where of config.inlineSealedSecrets) {
    findings.push({
      ok: true,
      warn: true,
      what: 'private key in the configuration file',
      detail:
        `${where} stands inline in ${config.configFile ?? 'the configuration file'}: sparsam seals it into the key ` +
        'store at start and needs it there only; remove it from the file once sparsam has started with it (or ' +
        'give it as env:NAME, example: privateKey: env:THREEMA_PRIVATE_KEY), so that no copy or backup of the ' +
        'file holds it',
    });
  }
  if (config.channels.length === 0 && managedChannels === 0) {
    findings.push({
      ok: true,
      warn: true,
      what: 'channels',
      detail: 'none set up yet: add one in the admin screen (Verwaltung › Kanäle) or under channels: in SPARSAM_CONFIG',
    });
  } else {
    findings.push({
      ok: true,
      what: 'channels',
      detail: `${config.channels.length} in the configuration file, ${managedChannels} created in the admin screen`,
    });
  }
  return findings;
}

/** What each reason means and what to do, for `doctor`. */
const HEALTH_ADVICE: Record<string, string> = {
  quality_low: 'quality rating is low: customers block or report the number; send fewer, wanted messages',
  flagged: 'Meta flagged the number for low quality: the messaging limit may go down unless quality recovers',
  restricted: 'Meta restricted the account (see the admin screen for what and until when)',
  banned: 'Meta disabled or is about to disable the account: appeal in WhatsApp Manager',
  violation: 'Meta reported a policy violation: check WhatsApp Manager > Account quality',
};

/**
 * The WhatsApp account health of the configured channels as Meta reported it by webhook (quality rating, messaging
 * limit, violations, restrictions, bans): one WARN line per channel that needs attention. A database not migrated
 * to the health table yet says nothing.
 */
export async function whatsAppHealthFindings(config: AppConfig, health: ChannelHealthPort): Promise<Finding[]> {
  const whatsapp = config.channels.filter((c) => c.kind === 'whatsapp-cloud');
  if (whatsapp.length === 0) return [];
  let rows;
  try {
    rows = await health.list();
  } catch {
    return [];
  }
  const findings: Finding[] = [];
  const now = Date.now();
  for (const channel of whatsapp) {
    const h = rows.find((r) => r.channelId === channel.id);
    const reasons = healthReasons(h, now);
    if (!h || reasons.length === 0) continue;
    const facts = [
      h.qualityRating && `quality ${h.qualityRating}`,
      h.messagingLimit && `limit ${h.messagingLimit}`,
      h.violationType && `violation ${h.violationType}`,
      h.banState && `ban state ${h.banState}`,
      ...h.restrictions.map((r) => `${r.type}${r.expiresAt ? ` until ${r.expiresAt}` : ''}`),
    ].filter(Boolean);
    findings.push({
      ok: true,
      warn: true,
      what: `channel ${channel.id} (WhatsApp account health)`,
      detail: `${reasons.map((r) => HEALTH_ADVICE[r] ?? r).join('; ')} [${facts.join(', ')}]`,
    });
  }
  if (findings.length === 0) {
    findings.push({ ok: true, what: 'WhatsApp account health', detail: 'no warnings from Meta' });
  }
  return findings;
}
