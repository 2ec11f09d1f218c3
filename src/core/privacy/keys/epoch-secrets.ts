import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../../../shared/app-error.ts';

export const EPOCH_KEY_FILE = 'epoch.key';

/** One key epoch's secret: 32 random bytes from which its key-encryption key and contact pepper are derived. */
export interface EpochSecret {
  readonly epoch: number;
  readonly secret: Buffer;
}

/**
 * What the epoch file holds: the current epoch's secret and, only while a transition runs (data keys being
 * re-wrapped, lookup hashes re-peppered), the previous one. Retiring the previous epoch rewrites the file without it.
 */
export interface EpochSecretsState {
  readonly current: EpochSecret;
  readonly previous?: EpochSecret | undefined;
  /** The master key's key-check id the file is sealed under (a prefix of its key-check value). */
  readonly kekId?: string;
}

/**
 * Where the root of the key-epoch chain lives: the only place that holds an epoch secret at rest. It is never part of
 * either database, so that no copy of them (files, WAL, dumps) can bring an old epoch back.
 */
export interface EpochSecretStore {
  read(): EpochSecretsState | undefined;
  write(state: EpochSecretsState): void;
  /** A description for messages (a file path). */
  readonly where: string;
  /** Seals later writes (and opens later reads) under another master key, when the store seals at all. */
  useMaster?(master: Buffer): void;
}

/** In memory only (tests, and a process that must not leave an epoch secret on disk). */
export class MemoryEpochSecretStore implements EpochSecretStore {
  #state: EpochSecretsState | undefined;
  readonly where = 'memory';
  read(): EpochSecretsState | undefined {
    return this.#state;
  }
  write(state: EpochSecretsState): void {
    this.#state = state;
  }
}

const FILE_VERSION = 1;

function fileKey(master: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), Buffer.from('sparsam/epoch-file/v1', 'utf8'), 32));
}

interface EpochFileJson {
  v: number;
  kekId?: string;
  nonce: string;
  sealed: string;
}

/**
 * The epoch file (`<dataDir>/epoch.key`, mode 0600): the epoch secrets sealed with AES-256-GCM under a sub-key of the
 * master key, so that the file alone opens nothing. Written atomically (temp file + rename); a new epoch replaces
 * the file, and the previous secret disappears from it when the epoch is retired.
 */
export class FileEpochSecretStore implements EpochSecretStore {
  #master: Buffer;
  constructor(
    readonly file: string,
    master: Buffer,
  ) {
    this.#master = Buffer.from(master);
  }

  get where(): string {
    return this.file;
  }

  /** Seals later writes (and opens later reads) under another master key: used by master key rotation. */
  useMaster(master: Buffer): void {
    this.#master = Buffer.from(master);
  }

  read(): EpochSecretsState | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new AppError('CONFIG', `cannot read the epoch key file ${this.file}: ${(error as Error).message}`);
    }
    try {
      const json = JSON.parse(text) as EpochFileJson;
      if (json.v !== FILE_VERSION) throw new Error('unknown version');
      const sealed = Buffer.from(json.sealed, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', fileKey(this.#master), Buffer.from(json.nonce, 'base64'));
      decipher.setAAD(Buffer.from('sparsam.epoch-file\0' + FILE_VERSION, 'utf8'));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      const plain = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
      const body = JSON.parse(plain.toString('utf8')) as {
        current: { epoch: number; secret: string };
        previous?: { epoch: number; secret: string };
      };
      plain.fill(0);
      const decode = (e: { epoch: number; secret: string }): EpochSecret => ({
        epoch: e.epoch,
        secret: Buffer.from(e.secret, 'base64'),
      });
      return {
        current: decode(body.current),
        previous: body.previous ? decode(body.previous) : undefined,
        ...(json.kekId ? { kekId: json.kekId } : {}),
      };
    } catch {
      throw new AppError(
        'CONFIG',
        `the epoch key file ${this.file} cannot be opened with this master key (wrong master key or altered file)`,
      );
    }
  }

  write(state: EpochSecretsState): void {
    const body = Buffer.from(
      JSON.stringify({
        current: { epoch: state.current.epoch, secret: state.current.secret.toString('base64') },
        ...(state.previous
          ? { previous: { epoch: state.previous.epoch, secret: state.previous.secret.toString('base64') } }
          : {}),
      }),
      'utf8',
    );
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', fileKey(this.#master), nonce);
    cipher.setAAD(Buffer.from('sparsam.epoch-file\0' + FILE_VERSION, 'utf8'));
    const sealed = Buffer.concat([cipher.update(body), cipher.final(), cipher.getAuthTag()]);
    body.fill(0);
    const json: EpochFileJson = {
      v: FILE_VERSION,
      ...(state.kekId ? { kekId: state.kekId } : {}),
      nonce: nonce.toString('base64'),
      sealed: sealed.toString('base64'),
    };
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      writeFileSync(tmp, `${JSON.stringify(json)}\n`, { mode: 0o600, flag: 'wx' });
      renameSync(tmp, this.file);
    } catch (error) {
      rmSync(tmp, { force: true });
      throw error;
    }
  }
}
