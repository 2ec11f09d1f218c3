import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../../../shared/app-error.ts';

export const MASTER_KEY_BYTES = 32;
export const MASTER_KEY_FILE = 'master.key';

/** Where the master key comes from, for messages and for `sparsam keys rotate`. */
export type MasterKeySource = { kind: 'env' } | { kind: 'file'; file: string };

export function masterKeySource(settings: { masterKey?: string | undefined; dataDir: string }): MasterKeySource {
  return settings.masterKey
    ? { kind: 'env' }
    : { kind: 'file', file: path.join(path.resolve(settings.dataDir), MASTER_KEY_FILE) };
}

/** Decodes a base64 master key and checks its length; the error never repeats the value. */
export function parseMasterKey(encoded: string, where: string): Buffer {
  const trimmed = encoded.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) && !/^[A-Za-z0-9_-]+={0,2}$/.test(trimmed)) {
    throw new AppError(
      'CONFIG',
      `${where}: must be ${MASTER_KEY_BYTES} bytes in base64 (example: openssl rand -base64 32)`,
    );
  }
  const key = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
  if (key.length !== MASTER_KEY_BYTES) {
    throw new AppError(
      'CONFIG',
      `${where}: must be ${MASTER_KEY_BYTES} bytes in base64, got ${key.length} bytes (example: openssl rand -base64 32)`,
    );
  }
  return key;
}

/** Writes a key file owner-only, atomically (temp file + rename), so that a crash never leaves half a key. */
export function writeMasterKeyFile(file: string, key: Buffer): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, file);
}

/**
 * The master key that wraps every data key. `masterKey` (SPARSAM_MASTER_KEY, base64 of 32 bytes) wins; otherwise
 * the key file `<dataDir>/master.key` is read, or created with 32 random bytes and mode 0600 on first start. A key
 * file readable by group or others is refused (the fix is in the message), since it opens every conversation.
 */
export async function loadOrCreateMasterKey(settings: {
  masterKey?: string | undefined;
  dataDir: string;
}): Promise<Buffer> {
  if (settings.masterKey) return parseMasterKey(settings.masterKey, 'SPARSAM_MASTER_KEY');
  const source = masterKeySource(settings) as { kind: 'file'; file: string };
  const file = source.file;
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, `${randomBytes(MASTER_KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new AppError('CONFIG', `cannot create the master key file ${file}: ${(error as Error).message}`);
    }
  }
  const mode = statSync(file).mode & 0o777;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new AppError(
      'CONFIG',
      `the master key file ${file} is readable by other users (mode ${mode.toString(8)}): run  chmod 600 ${file}`,
    );
  }
  return parseMasterKey(readFileSync(file, 'utf8'), `the master key file ${file}`);
}
