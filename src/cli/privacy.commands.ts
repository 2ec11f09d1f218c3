import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { channelKindFacts } from '../channels/registry.ts';
import { loadConfig, type AppConfig } from '../config/config.ts';
import { AuditLog, type AuditAnchorExport } from '../core/privacy/audit/audit-log.ts';
import { KeyService } from '../core/privacy/keys/key.service.ts';
import { FileEpochSecretStore } from '../core/privacy/keys/epoch-secrets.ts';
import { KeyEpochService } from '../core/privacy/keys/key-epoch.service.ts';
import { ContactDirectory } from '../core/privacy/pseudonym/contact-directory.ts';
import {
  loadOrCreateMasterKey,
  masterKeySource,
  parseMasterKey,
  writeMasterKeyFile,
} from '../core/privacy/keys/master-key.ts';
import { AppError } from '../shared/app-error.ts';
import { systemClock } from '../shared/clock.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { AuditStore } from '../store/sql/audit.store.ts';
import { ContactStore } from '../store/sql/contact.store.ts';
import { KeyStore } from '../store/sql/key.store.ts';
import { readSecretLine } from './read-secret.ts';

export interface PrivacyContext {
  config: AppConfig;
  store: Store;
  keys: KeyService;
  audit: AuditLog;
  contacts: ContactDirectory;
}

/**
 * Opens only what the privacy commands need (store, master key, key service, audit log): no HTTP server and no job
 * workers, so that no send or erasure runs while keys are being rotated.
 */
export async function withPrivacy<T>(fn: (ctx: PrivacyContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const store = await openStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    keystoreUrl: config.keystoreUrl,
  });
  try {
    const master = await loadOrCreateMasterKey({ masterKey: config.masterKey, dataDir: config.dataDir });
    const keys = new KeyService(new KeyStore(store.keys), master, systemClock, {
      epochs: new FileEpochSecretStore(config.epochKeyFile, master),
    });
    await keys.init();
    const audit = new AuditLog(new AuditStore(store.db), keys, systemClock);
    const contacts = new ContactDirectory(new ContactStore(store.db), keys, systemClock, channelKindFacts);
    return await fn({ config, store, keys, audit, contacts });
  } finally {
    await store.close();
  }
}

/** Reads an exported audit anchor, with a clear error for anything else. */
function readAnchorFile(file: string): AuditAnchorExport {
  let parsed: Partial<AuditAnchorExport>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<AuditAnchorExport>;
  } catch (error) {
    throw new AppError('VALIDATION', `${file} is not a readable audit anchor: ${(error as Error).message}`);
  }
  if (
    parsed.format !== 'sparsam.audit-anchor.v1' ||
    typeof parsed.seq !== 'number' ||
    typeof parsed.hash !== 'string' ||
    typeof parsed.at !== 'number' ||
    typeof parsed.mac !== 'string'
  ) {
    throw new AppError('VALIDATION', `${file} is not an audit anchor written by \`sparsam audit anchor\``);
  }
  return { ...parsed, exportedAt: String(parsed.exportedAt ?? '') } as AuditAnchorExport;
}

/** `sparsam audit …` and `sparsam keys …`. */
export function registerPrivacyCommands(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description(
      'check the hash chain and MACs of the audit log, and that the chain was not rolled back (its head is checked ' +
        "against the key store's witness and any exported anchors given); exits 1 and names the first broken entry",
    )
    .option(
      '--anchor <file>',
      'an anchor exported by `sparsam audit anchor` (repeatable): the chain must still pass through it',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .action(async (opts: { anchor?: string[] }) => {
      const anchors = (opts.anchor ?? []).map(readAnchorFile);
      await withPrivacy(async ({ audit: log }) => {
        const result = await log.verify({ anchors });
        if (result.ok) {
          console.log(
            `audit log intact: ${result.checked} entries checked` +
              (anchors.length > 0 ? `, ${anchors.length} exported anchor(s) matched` : ''),
          );
          return;
        }
        console.log(
          `audit log BROKEN at seq ${result.firstBroken?.seq}: ${result.firstBroken?.reason} ` +
            `(${result.checked} entries before it are intact)`,
        );
        process.exitCode = 1;
      });
    });
  audit
    .command('anchor')
    .description(
      'export the current head of the audit chain (seq, hash, time, MAC) to a file to keep outside sparsam ' +
        "(e.g. with the DPO's records); `sparsam audit verify --anchor FILE` later proves the chain was neither " +
        'rolled back nor rewritten up to it. The file holds no personal data. Audited as audit.anchor-exported.',
    )
    .requiredOption('--out <file>', 'where to write the anchor (JSON); an existing file is not overwritten')
    .action(async (opts: { out: string }) => {
      if (existsSync(opts.out)) throw new AppError('VALIDATION', `${opts.out} exists already; choose a new file`);
      await withPrivacy(async ({ audit: log }) => {
        await log.append({ actor: 'cli:audit-anchor', action: 'audit.anchor-exported' });
        const anchor = await log.exportAnchor();
        writeFileSync(opts.out, `${JSON.stringify(anchor, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
        console.log(`audit anchor written to ${opts.out}: entry ${anchor.seq} (${anchor.hash.slice(0, 16)}…)`);
      });
    });

  const keys = program.command('keys').description('the master key, the key epochs and the key store');
  keys
    .command('rotate')
    .description(
      'start a new key epoch now, while sparsam runs: every live data key is re-wrapped under the new epoch key, ' +
        "every contact's lookup hash is re-peppered, then the previous epoch's secret is destroyed, so that no " +
        'older copy of the databases opens or re-identifies anything erased before (epochs also advance by ' +
        'themselves every SPARSAM_KEY_EPOCH_HOURS). With --master, rotate the master key instead (it seals the ' +
        'epoch key file and the root secret; stop the server first): without --stdin a new random key is generated ' +
        'into <dataDir>/master.key (written as master.key.new first), or with --stdin the new key is read from standard input as base64 of ' +
        '32 bytes (required when SPARSAM_MASTER_KEY is set; update the variable afterwards).',
    )
    .option('--master', 'rotate the master key instead of starting a key epoch')
    .option('--stdin', 'with --master: read the new master key (base64, 32 bytes) from standard input')
    .action(async (opts: { master?: boolean; stdin?: boolean }) => {
      if (!opts.master) {
        if (opts.stdin) throw new AppError('VALIDATION', '--stdin belongs to --master (rotating the master key)');
        await withPrivacy(async ({ config, keys: service, audit: log, contacts }) => {
          const epochs = new KeyEpochService(service, systemClock, { repepper: () => contacts.repepper() });
          const result = await epochs.rotate();
          await log.append({ actor: 'cli:keys-rotate', action: 'keys.epoch-started', details: { ...result } });
          console.log(
            `key epoch ${result.epoch} started: ${result.rewrapped} data keys re-wrapped, ` +
              `${result.repeppered} lookup hashes re-peppered, the previous epoch's secret destroyed`,
          );
          console.log(
            `running instances follow at once; the epoch secret is in ${config.epochKeyFile} (never in a backup)`,
          );
        });
        return;
      }
      await rotateMaster(opts.stdin === true);
    });
}

async function rotateMaster(stdin: boolean): Promise<void> {
  const config = loadConfig();
  const source = masterKeySource({ masterKey: config.masterKey, dataDir: config.dataDir });
  if (source.kind === 'env' && !stdin) {
    throw new AppError(
      'VALIDATION',
      'SPARSAM_MASTER_KEY is set: give the new key on standard input with --stdin ' +
        '(e.g. openssl rand -base64 32 | sparsam keys rotate --master --stdin), then set SPARSAM_MASTER_KEY to it',
    );
  }
  const next = stdin
    ? parseMasterKey(await readSecretLine('New master key (base64): '), 'the new master key')
    : randomBytes(32);
  const pending = source.kind === 'file' ? `${source.file}.new` : undefined;
  if (pending) {
    if (existsSync(pending)) rmSync(pending);
    writeMasterKeyFile(pending, next);
  }
  await withPrivacy(async ({ keys: service, audit: log }) => {
    const { rewrapped } = await service.rotateMaster(next).catch((error: unknown) => {
      // The key store transaction rolled back: the old key is still the right one.
      if (pending) rmSync(pending, { force: true });
      throw error;
    });
    if (source.kind === 'file' && pending) renameSync(pending, source.file);
    await log.append({ actor: 'cli:keys-rotate', action: 'keys.rotated', details: { rewrapped } });
    console.log(`re-wrapped ${rewrapped} data keys, the root secret and the epoch key file under the new master key`);
    console.log(
      source.kind === 'file'
        ? `the new master key is in ${source.file}; back it up, the old one no longer opens anything`
        : 'now set SPARSAM_MASTER_KEY to the new key before starting sparsam',
    );
  });
}
