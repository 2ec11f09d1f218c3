import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig, type AppConfig } from '../config/config.ts';
import { AuditLog } from '../core/privacy/audit/audit-log.ts';
import { KeyService } from '../core/privacy/keys/key.service.ts';
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
import { KeyStore } from '../store/sql/key.store.ts';
import { readSecretLine } from './read-secret.ts';

interface PrivacyContext {
  config: AppConfig;
  store: Store;
  keys: KeyService;
  audit: AuditLog;
}

/**
 * Opens only what the privacy commands need (store, master key, key service, audit log): no HTTP server and no job
 * workers, so that no send or erasure runs while keys are being rotated.
 */
async function withPrivacy<T>(fn: (ctx: PrivacyContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const store = await openStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    keystoreUrl: config.keystoreUrl,
  });
  try {
    const master = await loadOrCreateMasterKey({ masterKey: config.masterKey, dataDir: config.dataDir });
    const keys = new KeyService(new KeyStore(store.keys), master, systemClock);
    await keys.init();
    const audit = new AuditLog(new AuditStore(store.db), keys, systemClock);
    return await fn({ config, store, keys, audit });
  } finally {
    await store.close();
  }
}

/** `sparsam audit …` and `sparsam keys …`. */
export function registerPrivacyCommands(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('check the hash chain and MACs of the audit log; exits 1 and names the first broken entry if altered')
    .action(async () => {
      await withPrivacy(async ({ audit: log }) => {
        const result = await log.verify();
        if (result.ok) {
          console.log(`audit log intact: ${result.checked} entries checked`);
          return;
        }
        console.log(
          `audit log BROKEN at seq ${result.firstBroken?.seq}: ${result.firstBroken?.reason} ` +
            `(${result.checked} entries before it are intact)`,
        );
        process.exitCode = 1;
      });
    });

  const keys = program.command('keys').description('the master key and the key store');
  keys
    .command('rotate')
    .description(
      'rotate the master key: re-wrap every data key under a new master key (content is not re-encrypted). ' +
        'Stop the server first. Without --stdin a new random key is generated into <dataDir>/master.key ' +
        '(written as master.key.new first, moved into place after the key store is re-wrapped); with --stdin the ' +
        'new key is read from standard input as base64 of 32 bytes (required when SPARSAM_MASTER_KEY is set; ' +
        'update the variable afterwards).',
    )
    .option('--stdin', 'read the new master key (base64, 32 bytes) from standard input')
    .action(async (opts: { stdin?: boolean }) => {
      const config = loadConfig();
      const source = masterKeySource({ masterKey: config.masterKey, dataDir: config.dataDir });
      if (source.kind === 'env' && !opts.stdin) {
        throw new AppError(
          'VALIDATION',
          'SPARSAM_MASTER_KEY is set: give the new key on standard input with --stdin ' +
            '(e.g. openssl rand -base64 32 | sparsam keys rotate --stdin), then set SPARSAM_MASTER_KEY to it',
        );
      }
      const next = opts.stdin
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
        console.log(`re-wrapped ${rewrapped} data keys under the new master key`);
        console.log(
          source.kind === 'file'
            ? `the new master key is in ${source.file}; back it up, the old one no longer opens anything`
            : 'now set SPARSAM_MASTER_KEY to the new key before starting sparsam',
        );
      });
    });
}
