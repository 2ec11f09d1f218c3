import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import type { CopiedSubjects } from '../../core/privacy/erasure/erasure-verifier.ts';
import { AppError } from '../../shared/app-error.ts';
import { KEYSTORE_SCHEMA } from '../open-store.ts';
import type { Store } from '../store.ts';

const run = promisify(execFile);

/** File names inside a backup directory. */
export const SNAPSHOT_SQLITE = 'sparsam.db';
export const SNAPSHOT_POSTGRES = 'sparsam.sql';
export const SNAPSHOT_MANIFEST = 'manifest.json';

export interface SnapshotManifest {
  format: 1;
  dialect: 'sqlite' | 'postgres';
  file: string;
  createdAt: string;
  /** The key epoch current when the snapshot was taken. */
  epoch: number | undefined;
}

/**
 * A consistent online snapshot of the MAIN database only (never the key store): SQLite `VACUUM INTO` (one read
 * transaction, no WAL to copy), PostgreSQL `pg_dump` (one repeatable-read snapshot) without the key-store schema.
 */
export async function createMainSnapshot(
  store: Store,
  settings: { databaseUrl?: string | undefined },
  outDir: string,
  epoch: number | undefined,
  now: Date,
): Promise<SnapshotManifest> {
  mkdirSync(outDir, { recursive: true, mode: 0o700 });
  for (const name of [SNAPSHOT_SQLITE, SNAPSHOT_POSTGRES]) {
    if (existsSync(path.join(outDir, name))) {
      throw new AppError('VALIDATION', `${path.join(outDir, name)} exists already: give an empty directory`);
    }
  }
  let file: string;
  if (store.dialect === 'sqlite') {
    file = SNAPSHOT_SQLITE;
    await sql`VACUUM INTO ${path.join(outDir, file)}`.execute(store.db);
  } else {
    if (!settings.databaseUrl) throw new AppError('CONFIG', 'PostgreSQL store without SPARSAM_DATABASE_URL');
    file = SNAPSHOT_POSTGRES;
    try {
      await run(
        'pg_dump',
        [
          '--format=plain',
          '--no-owner',
          '--no-privileges',
          `--exclude-schema=${KEYSTORE_SCHEMA}`,
          `--file=${path.join(outDir, file)}`,
          `--dbname=${settings.databaseUrl}`,
        ],
        { maxBuffer: 1 << 20 },
      );
    } catch (error) {
      throw new AppError(
        'CONFIG',
        `pg_dump failed (install the PostgreSQL client tools of the server's version): ${firstLine(error)}`,
      );
    }
  }
  const manifest: SnapshotManifest = {
    format: 1,
    dialect: store.dialect,
    file,
    createdAt: now.toISOString(),
    epoch,
  };
  writeFileSync(path.join(outDir, SNAPSHOT_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  return manifest;
}

function firstLine(error: unknown): string {
  const text = (error as { stderr?: string }).stderr || (error as Error).message;
  return String(text)
    .split('\n')[0]!
    .replace(/postgres(ql)?:\/\/\S+/g, '<database url>');
}

/**
 * Reads what an old copy of the main database holds about subjects. `dir` is a `sparsam backup create` directory or
 * any copy: a SQLite `sparsam.db` (with its `-wal` file, if copied), or a plain `pg_dump` of the main database.
 */
export function readCopiedSubjects(dir: string): CopiedSubjects {
  let epoch: number | undefined;
  const manifestFile = path.join(dir, SNAPSHOT_MANIFEST);
  if (existsSync(manifestFile)) {
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Partial<SnapshotManifest>;
    if (typeof manifest.epoch === 'number') epoch = manifest.epoch;
  }
  if (existsSync(path.join(dir, SNAPSHOT_SQLITE))) return { ...readSqliteCopy(path.join(dir, SNAPSHOT_SQLITE)), epoch };
  const dump = [SNAPSHOT_POSTGRES, 'main.sql'].map((f) => path.join(dir, f)).find((f) => existsSync(f));
  if (dump) return { ...readPgDump(readFileSync(dump, 'utf8')), epoch };
  throw new AppError(
    'VALIDATION',
    `${dir} holds no copy of the main database (${SNAPSHOT_SQLITE} or ${SNAPSHOT_POSTGRES})`,
  );
}

function readSqliteCopy(file: string): Omit<CopiedSubjects, 'epoch'> {
  // Copied (with its WAL) into a private temporary directory, so that the copy itself is never changed.
  const tmp = mkdtempSync(path.join(tmpdir(), 'sparsam-verify-'));
  try {
    const target = path.join(tmp, 'copy.db');
    copyFileSync(file, target);
    if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${target}-wal`);
    const db = new BetterSqlite3(target);
    try {
      const contacts = db.prepare('SELECT id, channel_id, lookup_hash, address_enc FROM contacts').all() as {
        id: string;
        channel_id: string;
        lookup_hash: string;
        address_enc: Buffer;
      }[];
      const conversations = db.prepare('SELECT id, contact_id FROM conversations').all() as {
        id: string;
        contact_id: string;
      }[];
      return {
        contacts: contacts.map((c) => ({
          id: c.id,
          channelId: c.channel_id,
          lookupHash: c.lookup_hash,
          addressEnc: c.address_enc,
        })),
        conversations: conversations.map((c) => ({ id: c.id, contactId: c.contact_id })),
      };
    } finally {
      db.close();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The rows of one table's COPY block in a plain pg_dump, as column name -> text value (null for \N). */
export function pgDumpRows(dump: string, table: string): Record<string, string | null>[] {
  const lines = dump.split('\n');
  const header = new RegExp(`^COPY (?:"?[\\w]+"?\\.)?"?${table}"? \\(([^)]*)\\) FROM stdin;$`);
  const rows: Record<string, string | null>[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = header.exec(lines[i]!);
    if (!match) continue;
    const columns = match[1]!.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
    for (i++; i < lines.length && lines[i] !== '\\.'; i++) {
      const values = lines[i]!.split('\t');
      const row: Record<string, string | null> = {};
      columns.forEach((c, k) => {
        const v = values[k] ?? '';
        row[c] = v === '\\N' ? null : unescapeCopy(v);
      });
      rows.push(row);
    }
  }
  return rows;
}

function unescapeCopy(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) =>
    c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c === '\\' ? '\\' : c,
  );
}

/** A bytea value of a COPY block (`\x…` hex after unescaping). */
export function pgBytea(value: string | null): Buffer {
  if (!value) return Buffer.alloc(0);
  if (!value.startsWith('\\x')) throw new AppError('VALIDATION', 'a bytea value in the dump is not in hex format');
  return Buffer.from(value.slice(2), 'hex');
}

function readPgDump(dump: string): Omit<CopiedSubjects, 'epoch'> {
  return {
    contacts: pgDumpRows(dump, 'contacts').map((r) => ({
      id: r.id!,
      channelId: r.channel_id!,
      lookupHash: r.lookup_hash!,
      addressEnc: pgBytea(r.address_enc ?? null),
    })),
    conversations: pgDumpRows(dump, 'conversations').map((r) => ({ id: r.id!, contactId: r.contact_id! })),
  };
}
