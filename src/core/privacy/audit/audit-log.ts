import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../../shared/app-error.ts';
import type { Clock } from '../../../shared/clock.ts';
import type { AuditRecord } from '../../ports/model.ts';
import type { AuditFilter, AuditPort, ChainPoint } from '../../ports/audit.port.ts';
import type { KeyService } from '../keys/key.service.ts';

export type { AuditRecord } from '../../ports/model.ts';
export type { AuditFilter } from '../../ports/audit.port.ts';

/** Hash that the first entry links to. */
export const GENESIS_HASH = '0'.repeat(64);

export type AuditDetails = Record<string, string | number | boolean | null>;

export interface AuditInput {
  /** 'user:<id>', 'token:<id>', 'system', 'webhook:<channelId>' (also 'cli:<verb>', 'job:<queue>'). */
  actor: string;
  /** Dotted verb, e.g. 'conversation.erased', 'contact.revealed', 'auth.login', 'webhook.forged'. */
  action: string;
  targetType?: string | undefined;
  targetId?: string | undefined;
  result?: 'ok' | 'denied' | 'failed';
  /** Content-free: ids, pseudonym labels, counts, codes. Never text, addresses, tokens. */
  details?: AuditDetails | undefined;
}

export interface AuditVerification {
  ok: boolean;
  /** Entries checked (from the anchor to the head). */
  checked: number;
  firstBroken?: { seq: number; reason: string };
}

/**
 * A point of the chain exported for safekeeping (`sparsam audit anchor --out FILE`): seq, hash and time of the head
 * when exported, with an HMAC under the audit MAC key. {@link AuditLog.verify} with it finds a later rollback or
 * rewrite of the chain up to that point, even one that replaced the key store too.
 */
export interface AuditAnchorExport {
  format: 'sparsam.audit-anchor.v1';
  seq: number;
  hash: string;
  at: number;
  exportedAt: string;
  mac: string;
}

/** The key store's witness of the chain head (see {@link AuditLog}). */
const WITNESS = 'audit.witness';
/** Set once when an append finds the main database's head behind the witness (a restored or rolled-back chain). */
const ROLLBACK = 'audit.rollback';

interface Witness {
  seq: number;
  hash: string;
  at: number;
  mac: string;
}

function parseWitness(value: string | undefined): Witness | undefined | 'invalid' {
  if (value === undefined) return undefined;
  try {
    const w = JSON.parse(value) as Partial<Witness>;
    if (typeof w.seq === 'number' && typeof w.hash === 'string' && typeof w.mac === 'string') {
      return { seq: w.seq, hash: w.hash, at: Number(w.at ?? 0), mac: w.mac };
    }
  } catch {
    // reported as altered below
  }
  return 'invalid';
}

/** 'system', or '<kind>:<id>' (user, token, webhook, cli, job, …): ids only, no addresses or names. */
const ACTOR = /^[a-z][a-z0-9-]{0,31}(:[A-Za-z0-9._:-]{1,128})?$/;
const ACTION = /^[a-z][a-z0-9_.-]{0,63}$/;
const DETAIL_KEY = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const PAGE = 1000;

/** Detail values that look like personal data are refused, so that a careless caller cannot leak into the log. */
function checkDetails(details: AuditDetails): void {
  for (const [key, value] of Object.entries(details)) {
    if (!DETAIL_KEY.test(key))
      throw new AppError('VALIDATION', `audit detail key "${key.slice(0, 40)}" is not allowed`);
    if (value === null || typeof value === 'boolean') continue;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new AppError('VALIDATION', `audit detail ${key} must be a finite number`);
      continue;
    }
    if (typeof value !== 'string')
      throw new AppError('VALIDATION', `audit detail ${key} must be a string, number, boolean or null`);
    const digits = value.replace(/\D/g, '').length;
    const looksLikePhone = /^[+\d\s()./-]+$/.test(value) && digits >= 8;
    if (value.length > 200 || looksLikePhone || /[^\s@]+@[^\s@]+\.[^\s@]+/.test(value)) {
      throw new AppError('VALIDATION', `audit detail ${key} must be content-free (ids, labels, counts, codes)`);
    }
  }
}

function canonicalDetails(details: AuditDetails): string {
  return JSON.stringify(Object.fromEntries(Object.entries(details).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/** SHA-256 over a canonical serialisation of every field of the entry, including the previous entry's hash. */
export function entryHash(row: Omit<AuditRecord, 'hash' | 'mac'>): string {
  const canonical = JSON.stringify([
    'sparsam.audit.v1',
    row.seq,
    row.at,
    row.actor,
    row.action,
    row.target_type,
    row.target_id,
    row.result,
    row.details,
    row.prev_hash,
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

function macHex(key: Buffer, message: string): string {
  return createHmac('sha256', key).update(message, 'utf8').digest('hex');
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/**
 * The tamper-evident audit log. Append-only; every entry carries the SHA-256 of the previous entry (a hash chain)
 * and an HMAC under the audit MAC key, so that editing, deleting or reordering an entry is found by {@link verify},
 * and rewriting the chain needs the key. The chain's head (last entry) and anchor (last pruned entry) are kept with
 * their own MACs: deleting the newest entries and audit retention are both handled.
 *
 * The head is also witnessed outside the main database: every append records it, MAC'd, in the key store (inside
 * the append's transaction, in chain order). Deleting the newest entries and restoring an older head row (or a whole
 * older main database) leaves the database's head behind the witness, which {@link verify} reports as a rollback;
 * an append that finds the head behind the witness records that rollback in the key store for good. Exported
 * anchors ({@link exportAnchor}) extend this to copies kept by the data protection officer.
 */
export class AuditLog {
  constructor(
    private readonly port: AuditPort,
    private readonly keys: KeyService,
    private readonly clock: Clock,
  ) {}

  async append(input: AuditInput): Promise<AuditRecord> {
    this.#check(input);
    await this.keys.init();
    const at = this.clock.now().getTime();
    return this.port.append(
      (head) => {
        const row = this.#row(input, head.seq + 1, head.hash, at);
        return { row, head: this.#point('head', row) };
      },
      (before, after) => this.#witness(before, after),
    );
  }

  /** Appends several entries in one transaction, in order (used for batches of erasure receipts). */
  async appendMany(inputs: readonly AuditInput[]): Promise<AuditRecord[]> {
    inputs.forEach((input) => this.#check(input));
    if (inputs.length === 0) return [];
    await this.keys.init();
    const at = this.clock.now().getTime();
    return this.port.appendMany(
      (head) => {
        const rows: AuditRecord[] = [];
        let prev = head;
        for (const input of inputs) {
          const row = this.#row(input, prev.seq + 1, prev.hash, at);
          rows.push(row);
          prev = { seq: row.seq, hash: row.hash, mac: '', at };
        }
        return { rows, head: this.#point('head', rows[rows.length - 1]!) };
      },
      (before, after) => this.#witness(before, after),
    );
  }

  /** Moves the key store's witness to the new head; records a rollback when the head before was behind it. */
  async #witness(before: ChainPoint, after: ChainPoint): Promise<void> {
    const current = parseWitness(await this.keys.readAuditMeta(WITNESS));
    if (current !== undefined && current !== 'invalid' && this.#witnessValid(current)) {
      const behind = current.seq > before.seq || (current.seq === before.seq && current.hash !== before.hash);
      if (behind) {
        await this.keys.initAuditMeta({
          [ROLLBACK]: JSON.stringify({
            witnessSeq: current.seq,
            witnessHash: current.hash,
            headSeq: before.seq,
            detectedAt: this.clock.now().getTime(),
          }),
        });
      }
      if (current.seq >= after.seq) return;
    }
    const mac = macHex(this.keys.auditMacKey, `witness|${after.seq}|${after.hash}`);
    await this.keys.writeAuditMeta({
      [WITNESS]: JSON.stringify({ seq: after.seq, hash: after.hash, at: after.at, mac }),
    });
  }

  #witnessValid(w: Witness): boolean {
    return sameHex(w.mac, macHex(this.keys.auditMacKey, `witness|${w.seq}|${w.hash}`));
  }

  /** The head as an anchor to keep outside sparsam (`sparsam audit anchor --out FILE`). */
  async exportAnchor(): Promise<AuditAnchorExport> {
    await this.keys.init();
    const head = await this.port.readHead();
    const exportedAt = this.clock.now().toISOString();
    return {
      format: 'sparsam.audit-anchor.v1',
      seq: head.seq,
      hash: head.hash,
      at: head.at,
      exportedAt,
      mac: macHex(this.keys.auditMacKey, `anchor-export|${head.seq}|${head.hash}|${head.at}`),
    };
  }

  #check(input: AuditInput): void {
    if (!ACTOR.test(input.actor) || /:\d{8,}$/.test(input.actor)) {
      throw new AppError(
        'VALIDATION',
        'audit actor must be system, user:<id>, token:<id>, webhook:<channelId>, cli:<verb> or job:<queue>',
      );
    }
    if (!ACTION.test(input.action)) throw new AppError('VALIDATION', 'audit action must be a dotted lower-case verb');
    checkDetails(input.details ?? {});
    for (const [name, v] of [
      ['targetType', input.targetType],
      ['targetId', input.targetId],
    ] as const) {
      if (v !== undefined && (v.length > 128 || /[\s@]/.test(v))) {
        throw new AppError('VALIDATION', `audit ${name} must be an id`);
      }
    }
  }

  #row(input: AuditInput, seq: number, prevHash: string, at: number): AuditRecord {
    const base = {
      seq,
      at,
      actor: input.actor,
      action: input.action,
      target_type: input.targetType ?? null,
      target_id: input.targetId ?? null,
      result: input.result ?? 'ok',
      details: canonicalDetails(input.details ?? {}),
      prev_hash: prevHash,
    };
    const hash = entryHash(base);
    return { ...base, hash, mac: macHex(this.keys.auditMacKey, `entry|${hash}`) };
  }

  #point(name: 'head' | 'anchor', row: AuditRecord): ChainPoint {
    return {
      seq: row.seq,
      hash: row.hash,
      at: row.at,
      mac: macHex(this.keys.auditMacKey, `${name}|${row.seq}|${row.hash}`),
    };
  }

  #pointValid(name: 'head' | 'anchor', p: ChainPoint): boolean {
    if (p.seq === 0) return p.hash === GENESIS_HASH;
    return sameHex(p.mac, macHex(this.keys.auditMacKey, `${name}|${p.seq}|${p.hash}`));
  }

  /**
   * Walks the chain from the anchor (or the genesis) to the head and reports the first broken link: a missing
   * entry, an entry whose content no longer matches its hash, a MAC that does not match, a link to a previous hash
   * that is not the previous entry's, or entries missing before the head; a head behind the key store's witness
   * or behind an exported anchor given in `anchors` (a rollback); an entry that differs from the one witnessed; and
   * entries beyond the head.
   */
  async verify(options: { anchors?: readonly AuditAnchorExport[] } = {}): Promise<AuditVerification> {
    await this.keys.init();
    const macKey = this.keys.auditMacKey;
    const anchor = await this.port.readAnchor();
    const head = await this.port.readHead();
    if (!this.#pointValid('anchor', anchor)) {
      return {
        ok: false,
        checked: 0,
        firstBroken: { seq: anchor.seq, reason: 'the retention anchor was altered (MAC invalid)' },
      };
    }
    if (!this.#pointValid('head', head)) {
      return {
        ok: false,
        checked: 0,
        firstBroken: { seq: head.seq, reason: 'the chain head was altered (MAC invalid)' },
      };
    }
    // Points the chain must pass through: the key store's witness and the exported anchors given.
    const expected = new Map<number, { hash: string; what: string }>();
    const rolledBack = (seq: number, what: string): AuditVerification => ({
      ok: false,
      checked: 0,
      firstBroken: {
        seq: head.seq + 1,
        reason:
          `the chain was rolled back: ${what} holds entry ${seq}, but the database's head is entry ${head.seq} ` +
          '(newest entries deleted and an older head restored, or an older database restored)',
      },
    });
    const rollback = await this.keys.readAuditMeta(ROLLBACK);
    if (rollback !== undefined) {
      let r: { witnessSeq?: number; headSeq?: number; detectedAt?: number } = {};
      try {
        r = JSON.parse(rollback) as typeof r;
      } catch {
        // the record itself is the finding
      }
      return {
        ok: false,
        checked: 0,
        firstBroken: {
          seq: Number(r.headSeq ?? 0) + 1,
          reason:
            `the chain was rolled back before an append on ${new Date(Number(r.detectedAt ?? 0)).toISOString()}: ` +
            `the key store had witnessed entry ${r.witnessSeq}, the database's head was entry ${r.headSeq}`,
        },
      };
    }
    const witness = parseWitness(await this.keys.readAuditMeta(WITNESS));
    if (witness === 'invalid' || (witness && !this.#witnessValid(witness))) {
      return {
        ok: false,
        checked: 0,
        firstBroken: { seq: head.seq, reason: "the key store's witness of the chain head was altered (MAC invalid)" },
      };
    }
    if (witness) {
      if (witness.seq > head.seq) return rolledBack(witness.seq, 'the key store');
      if (witness.seq > anchor.seq) expected.set(witness.seq, { hash: witness.hash, what: 'the key store' });
    }
    for (const a of options.anchors ?? []) {
      const valid = sameHex(a.mac, macHex(macKey, `anchor-export|${a.seq}|${a.hash}|${a.at}`));
      if (!valid) {
        return {
          ok: false,
          checked: 0,
          firstBroken: { seq: a.seq, reason: 'the exported anchor is not valid for this audit log (MAC invalid)' },
        };
      }
      if (a.seq > head.seq) return rolledBack(a.seq, `the anchor exported at ${a.exportedAt}`);
      if (a.seq > anchor.seq) expected.set(a.seq, { hash: a.hash, what: `the anchor exported at ${a.exportedAt}` });
    }
    let expectedSeq = anchor.seq + 1;
    let prevHash = anchor.hash;
    let checked = 0;
    const broken = (seq: number, reason: string): AuditVerification => ({
      ok: false,
      checked,
      firstBroken: { seq, reason },
    });
    for (;;) {
      const rows = await this.port.range(expectedSeq - 1, head.seq, PAGE);
      for (const row of rows) {
        if (row.seq !== expectedSeq) return broken(expectedSeq, `entry ${expectedSeq} is missing (deleted)`);
        if (entryHash(row) !== row.hash)
          return broken(row.seq, 'the entry was altered (its content does not match its hash)');
        if (!sameHex(row.mac, macHex(macKey, `entry|${row.hash}`))) {
          return broken(row.seq, 'the entry MAC does not match (rewritten without the audit key)');
        }
        if (row.prev_hash !== prevHash) {
          return broken(
            row.seq,
            'the entry does not link to the previous entry (an entry was deleted, replaced or reordered)',
          );
        }
        const point = expected.get(row.seq);
        if (point && point.hash !== row.hash) {
          return broken(row.seq, `the entry differs from the one ${point.what} holds (the chain was rewritten)`);
        }
        prevHash = row.hash;
        expectedSeq++;
        checked++;
      }
      if (rows.length < PAGE) break;
    }
    if (expectedSeq - 1 !== head.seq) {
      return broken(expectedSeq, `entries ${expectedSeq} to ${head.seq} are missing (deleted)`);
    }
    if (prevHash !== head.hash) return broken(head.seq, 'the last entry does not match the chain head');
    const beyond = await this.port.countBeyondHead();
    if (beyond > 0) {
      return broken(
        head.seq + 1,
        `${beyond} entries beyond the chain head were written outside sparsam; they are ignored (not listed, set ` +
          'aside by the next append)',
      );
    }
    return { ok: true, checked };
  }

  /** Entries newest first, filtered. */
  list(filter: AuditFilter = {}): Promise<AuditRecord[]> {
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
    return this.port.list({ ...filter, limit, offset: Math.max(filter.offset ?? 0, 0) });
  }

  /**
   * Audit retention: deletes up to `limit` of the oldest entries older than `before` and moves the anchor to the
   * last one deleted, so that {@link verify} keeps working from there. Returns how many entries were pruned.
   */
  async prune(before: number, limit = 10_000): Promise<number> {
    await this.keys.init();
    return this.port.prune(before, limit, (row) => this.#point('anchor', row));
  }
}
