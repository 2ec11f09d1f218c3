import { Secret, TOTP } from 'otpauth';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../../src/config/config.ts';
import { createSparsam, type Sparsam } from '../../src/main.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { createLogger } from '../../src/shared/logger.ts';
import type { Role } from '../../src/store/database.ts';
import type { SqlDialectName } from '../../src/store/store.ts';
import { openTestStore, type TestStore } from '../support/stores.ts';

export const PASSWORD = 'correct horse battery staple';

/** A started sparsam on a fresh store with a manual clock. */
export async function startWebApp(
  dialect: SqlDialectName,
  extraEnv: Record<string, string> = {},
): Promise<{ t: TestStore; sparsam: Sparsam; clock: ManualClock; close(): Promise<void> }> {
  const t = await openTestStore(dialect);
  await t.store.close();
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 9, 0, 0));
  const config = loadConfig({ env: { ...t.env, SPARSAM_BASE_URL: 'http://inbox.test', ...extraEnv } });
  const sparsam = await createSparsam(config, { clock, logger: createLogger({ level: 'silent' }) });
  await sparsam.http.ready();
  return {
    t,
    sparsam,
    clock,
    async close() {
      await sparsam.close();
      await t.cleanup();
    },
  };
}

let ipCounter = 1;
/** A distinct client address per browser, so the per-address login limit does not couple the tests. */
export function nextIp(): string {
  ipCounter += 1;
  return `10.0.${Math.floor(ipCounter / 250)}.${ipCounter % 250}`;
}

/** A tiny browser: keeps the session cookie and the CSRF token, sends them like the web inbox does. */
export class Browser {
  cookie: string | undefined;
  /** The device cookie of an earlier sign-in (sent back like a browser does; only the login routes read it). */
  device: string | undefined;
  csrf: string | undefined;
  readonly ip = nextIp();
  constructor(private readonly sparsam: Sparsam) {}

  async request(
    method: InjectOptions['method'],
    url: string,
    body?: unknown,
    opts: { csrf?: boolean; headers?: Record<string, string> } = {},
  ): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const cookies = [
      ...(this.cookie ? [`sparsam_session=${this.cookie}`] : []),
      ...(this.device ? [`sparsam_device=${this.device}`] : []),
    ];
    if (cookies.length > 0) headers.cookie = cookies.join('; ');
    if (opts.csrf !== false && this.csrf) headers['x-csrf-token'] = this.csrf;
    const res = await this.sparsam.http.inject({
      method,
      url,
      headers,
      remoteAddress: this.ip,
      ...(body !== undefined ? { payload: body as object } : {}),
    });
    const setCookie = res.headers['set-cookie'];
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      if (line.startsWith('sparsam_session='))
        this.cookie = line.slice('sparsam_session='.length).split(';')[0] || undefined;
      if (line.startsWith('sparsam_device='))
        this.device = line.slice('sparsam_device='.length).split(';')[0] || undefined;
    }
    const json = String(res.headers['content-type'] ?? '').includes('json')
      ? (res.json() as { csrfToken?: string })
      : undefined;
    if (json?.csrfToken) this.csrf = json.csrfToken;
    return res;
  }
  get(url: string) {
    return this.request('GET', url);
  }
  post(url: string, body: unknown = {}, opts?: { csrf?: boolean; headers?: Record<string, string> }) {
    return this.request('POST', url, body, opts);
  }
  login(email: string, password = PASSWORD) {
    return this.post('/api/v1/auth/login', { email, password });
  }
}

export async function createUser(sparsam: Sparsam, email: string, role: Role) {
  return sparsam.accounts.createUser({ email, password: PASSWORD, role, displayName: email.split('@')[0] });
}

/** The current TOTP code for a base32 secret at the manual clock's time, as an authenticator app shows it. */
export function totpCode(secret: string, clock: ManualClock): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({
    timestamp: clock.now().getTime(),
  });
}

/** Logs in an admin through enrolment; returns the browser, the TOTP secret and the recovery codes. */
export async function loginEnrolledAdmin(sparsam: Sparsam, clock: ManualClock, email: string) {
  const b = new Browser(sparsam);
  const login = await b.login(email);
  if (login.json().step !== 'enrol') throw new Error(`expected enrolment, got ${login.body}`);
  const start = await b.post('/api/v1/auth/enrol/start');
  const secret = start.json().secret as string;
  const confirm = await b.post('/api/v1/auth/enrol/confirm', { code: totpCode(secret, clock) });
  if (confirm.statusCode !== 200) throw new Error(`enrolment failed: ${confirm.body}`);
  return { browser: b, secret, recoveryCodes: confirm.json().recoveryCodes as string[] };
}
