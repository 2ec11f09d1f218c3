import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Sparsam } from '../../src/main.ts';
import type { ManualClock } from '../../src/shared/clock.ts';
import { describeEachStore } from '../support/stores.ts';
import { Browser, createUser, loginEnrolledAdmin, PASSWORD, startWebApp, totpCode } from './web-support.ts';

describeEachStore('staff login and sessions', (dialect) => {
  let app: Awaited<ReturnType<typeof startWebApp>>;
  let sparsam: Sparsam;
  let clock: ManualClock;

  beforeAll(async () => {
    app = await startWebApp(dialect);
    sparsam = app.sparsam;
    clock = app.clock;
    await createUser(sparsam, 'admin@example.org', 'admin');
    await createUser(sparsam, 'agent@example.org', 'agent');
    await createUser(sparsam, 'dpo@example.org', 'dpo');
    await createUser(sparsam, 'lock@example.org', 'agent');
    await createUser(sparsam, 'twice@example.org', 'agent');
  });
  afterAll(async () => app?.close());

  it('logs an agent in with a Strict HttpOnly cookie and stores only the SHA-256 of the session token', async () => {
    const b = new Browser(sparsam);
    const res = await b.login('Agent@Example.org');
    expect(res.statusCode).toBe(200);
    expect(res.json().step).toBe('done');
    expect(res.json().user.email).toBe('agent@example.org');
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).not.toMatch(/Secure/i);
    const rows = await sparsam.store.db.selectFrom('sessions').select('id_hash').execute();
    const expected = createHash('sha256').update(b.cookie!).digest('hex');
    expect(rows.map((r) => r.id_hash)).toContain(expected);
    expect(rows.map((r) => r.id_hash)).not.toContain(b.cookie);
    const me = await b.get('/api/v1/me');
    expect(me.statusCode).toBe(200);
    expect(me.json().user.role).toBe('agent');
  });

  it('believes no X-Forwarded-* header unless a proxy is configured', async () => {
    const b = new Browser(sparsam);
    const res = await b.post(
      '/api/v1/auth/login',
      { email: 'agent@example.org', password: PASSWORD },
      { headers: { 'x-forwarded-proto': 'https' } },
    );
    expect(res.statusCode).toBe(200);
    expect(String(res.headers['set-cookie'])).not.toMatch(/Secure/);
  });

  it('refuses a wrong password with one message for unknown and known users', async () => {
    const b = new Browser(sparsam);
    const wrong = await b.login('agent@example.org', 'not the password at all');
    const unknown = await b.login('nobody@example.org', 'not the password at all');
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json().error.message).toBe(unknown.json().error.message);
    expect(b.cookie).toBeUndefined();
  });

  it('locks one client out after five wrong passwords, even for the right one, while the staff member still gets in', async () => {
    const stranger = new Browser(sparsam);
    for (let i = 0; i < 5; i += 1)
      expect((await stranger.login('lock@example.org', `wrong password ${i}`)).statusCode).toBe(401);
    const locked = await stranger.login('lock@example.org');
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error.message).toMatch(/locked/);
    // The staff member at their own desk is not locked out by the stranger.
    expect((await new Browser(sparsam).login('lock@example.org')).statusCode).toBe(200);
    clock.advance(16 * 60_000);
    expect((await stranger.login('lock@example.org')).statusCode).toBe(200);
  });

  it('answers an unknown address exactly like a real account once a client is locked out', async () => {
    const b = new Browser(sparsam);
    const real: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 6; i += 1) real.push((await b.login('twice@example.org', `wrong password ${i}`)).statusCode);
    for (let i = 0; i < 6; i += 1) unknown.push((await b.login('ghost@example.org', `wrong password ${i}`)).statusCode);
    expect(real).toEqual([401, 401, 401, 401, 401, 429]);
    expect(unknown).toEqual(real);
    const a = (await b.login('twice@example.org')).json().error.message;
    const g = (await b.login('ghost@example.org')).json().error.message;
    expect(g).toBe(a);
    clock.advance(16 * 60_000);
  });

  it('slows an account down after failures from many addresses, but lets in a browser that signed in before', async () => {
    await createUser(sparsam, 'spread@example.org', 'agent');
    const desk = new Browser(sparsam);
    expect((await desk.login('spread@example.org')).statusCode).toBe(200);
    for (let i = 0; i < 10; i += 1) await new Browser(sparsam).login('spread@example.org', `wrong password ${i}`);
    // A fresh client, even with the right password, waits: guessing from many addresses gains nothing.
    const fresh = await new Browser(sparsam).login('spread@example.org');
    expect(fresh.statusCode).toBe(429);
    // The same spread for an address without an account answers the same.
    for (let i = 0; i < 10; i += 1) await new Browser(sparsam).login('nobody-spread@example.org', `wrong ${i}`);
    expect((await new Browser(sparsam).login('nobody-spread@example.org', 'x')).statusCode).toBe(429);
    // The staff member's own browser (its device cookie) still gets in; everyone else after a minute.
    expect((await desk.login('spread@example.org')).statusCode).toBe(200);
    clock.advance(61_000);
    expect((await new Browser(sparsam).login('spread@example.org')).statusCode).toBe(200);
  });

  it('lets an admin unlock a locked account at once, audited, and refuses the same to an agent', async () => {
    const locked = await createUser(sparsam, 'unlock-me@example.org', 'agent');
    await createUser(sparsam, 'unlocking-admin@example.org', 'admin');
    const b = new Browser(sparsam);
    for (let i = 0; i < 5; i += 1) await b.login('unlock-me@example.org', `wrong password ${i}`);
    expect((await b.login('unlock-me@example.org')).statusCode).toBe(429);
    // Five more from elsewhere slow the whole account down (the list shows it locked).
    const elsewhere = new Browser(sparsam);
    for (let i = 0; i < 5; i += 1) await elsewhere.login('unlock-me@example.org', `wrong password ${i}`);
    expect((await new Browser(sparsam).login('unlock-me@example.org')).statusCode).toBe(429);

    const agent = new Browser(sparsam);
    await agent.login('agent@example.org');
    expect((await agent.post(`/api/v1/users/${locked.id}/unlock`)).statusCode).toBe(403);

    const { browser: admin } = await loginEnrolledAdmin(sparsam, clock, 'unlocking-admin@example.org');
    const listed = (await admin.get('/api/v1/users')).json().items as { id: string; locked: boolean }[];
    expect(listed.find((u) => u.id === locked.id)?.locked).toBe(true);
    const unlock = await admin.post(`/api/v1/users/${locked.id}/unlock`);
    expect(unlock.statusCode).toBe(200);
    expect(unlock.json().user.locked).toBe(false);
    expect((await b.login('unlock-me@example.org')).statusCode).toBe(200);
    const audit = await sparsam.store.db
      .selectFrom('audit_log')
      .select(['actor', 'target_id'])
      .where('action', '=', 'user.unlocked')
      .execute();
    expect(audit).toEqual([expect.objectContaining({ target_id: locked.id })]);
    expect(audit[0]!.actor).not.toBe('system');
  });

  it('limits login attempts per client address', async () => {
    const b = new Browser(sparsam);
    const codes: number[] = [];
    for (let i = 0; i < 22; i += 1) codes.push((await b.login(`nobody${i}@example.org`, 'x')).statusCode);
    expect(codes.slice(0, 20).every((c) => c === 401)).toBe(true);
    expect(codes.at(-1)).toBe(429);
  });

  it('makes an admin enrol TOTP with a QR code before anything else, then asks for the code at each login', async () => {
    const b = new Browser(sparsam);
    const login = await b.login('admin@example.org');
    expect(login.json().step).toBe('enrol');
    expect((await b.get('/api/v1/me')).statusCode).toBe(401);
    expect((await b.get('/api/v1/users')).statusCode).toBe(401);
    const start = await b.post('/api/v1/auth/enrol/start');
    expect(start.statusCode).toBe(200);
    expect(start.json().qrDataUrl).toMatch(/^data:image\/png;base64,/);
    expect(start.json().uri).toMatch(/^otpauth:\/\/totp\/sparsam:/);
    const secret = start.json().secret as string;
    const bad = await b.post('/api/v1/auth/enrol/confirm', {
      code: '000000' === totpCode(secret, clock) ? '111111' : '000000',
    });
    expect(bad.statusCode).toBe(400);
    const confirm = await b.post('/api/v1/auth/enrol/confirm', { code: totpCode(secret, clock) });
    expect(confirm.statusCode).toBe(200);
    const codes = confirm.json().recoveryCodes as string[];
    expect(codes).toHaveLength(10);
    expect((await b.get('/api/v1/users')).statusCode).toBe(200);
    // Recovery codes and the TOTP seed are not stored in plain text.
    const row = await sparsam.store.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', 'admin@example.org')
      .executeTakeFirstOrThrow();
    expect(row.recovery_codes).not.toContain(codes[0]);
    expect(Buffer.from(row.totp_secret_enc!).toString('latin1')).not.toContain(secret);

    // Next login: password, then the code.
    const c = new Browser(sparsam);
    expect((await c.login('admin@example.org')).json().step).toBe('totp');
    expect((await c.get('/api/v1/users')).statusCode).toBe(401);
    clock.advance(30_000);
    const wrong = await c.post('/api/v1/auth/totp', {
      code: '123456' === totpCode(secret, clock) ? '654321' : '123456',
    });
    expect(wrong.statusCode).toBe(401);
    const ok = await c.post('/api/v1/auth/totp', { code: totpCode(secret, clock) });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().user.role).toBe('admin');
    expect((await c.get('/api/v1/users')).statusCode).toBe(200);
    // The same code cannot be replayed for another login.
    const d = new Browser(sparsam);
    await d.login('admin@example.org');
    expect((await d.post('/api/v1/auth/totp', { code: totpCode(secret, clock) })).statusCode).toBe(401);

    // A recovery code works once.
    const e = new Browser(sparsam);
    await e.login('admin@example.org');
    const rec = await e.post('/api/v1/auth/recovery', { code: codes[3]!.toUpperCase() });
    expect(rec.statusCode).toBe(200);
    expect(rec.json().remainingRecoveryCodes).toBe(9);
    const f = new Browser(sparsam);
    await f.login('admin@example.org');
    expect((await f.post('/api/v1/auth/recovery', { code: codes[3]! })).statusCode).toBe(401);
  });

  it('refuses cookie-authenticated writes without the CSRF token or from another origin', async () => {
    const { browser: admin } = await loginEnrolledAdmin(sparsam, clock, 'csrf-admin@example.org').catch(async () => {
      await createUser(sparsam, 'csrf-admin@example.org', 'admin');
      return loginEnrolledAdmin(sparsam, clock, 'csrf-admin@example.org');
    });
    const body = { shortcut: 'hours', title: 'Hours', text: 'We are open Monday to Friday, 8 to 17.' };
    const noToken = await admin.post('/api/v1/quick-replies', body, { csrf: false });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.json().error.message).toMatch(/CSRF/);
    const wrongToken = await admin.post('/api/v1/quick-replies', body, {
      csrf: false,
      headers: { 'x-csrf-token': 'x'.repeat(43) },
    });
    expect(wrongToken.statusCode).toBe(403);
    const foreign = await admin.post('/api/v1/quick-replies', body, { headers: { origin: 'https://evil.example' } });
    expect(foreign.statusCode).toBe(403);
    expect((await admin.get('/api/v1/quick-replies')).json().items).toHaveLength(0);
    const ok = await admin.post('/api/v1/quick-replies', body, { headers: { origin: 'http://localhost:80' } });
    expect(ok.statusCode).toBe(201);
    expect((await admin.get('/api/v1/quick-replies')).json().items).toHaveLength(1);
  });

  it('checks roles on the server: agents may not manage users, the DPO may not read conversations', async () => {
    const agent = new Browser(sparsam);
    await agent.login('agent@example.org');
    expect((await agent.get('/api/v1/users')).statusCode).toBe(403);
    expect((await agent.post('/api/v1/users', { email: 'x@example.org', role: 'admin' })).statusCode).toBe(403);
    expect((await agent.get('/api/v1/admin/channels')).statusCode).toBe(403);
    expect((await agent.post('/api/v1/quick-replies', { shortcut: 'a', title: 'a', text: 'a' })).statusCode).toBe(403);
    expect((await agent.get('/api/v1/quick-replies')).statusCode).toBe(200);
    expect(await sparsam.users.findUserByEmail('x@example.org')).toBeUndefined();

    const { browser: dpo } = await loginEnrolledAdmin(sparsam, clock, 'dpo@example.org');
    expect((await dpo.get('/api/v1/events')).statusCode).toBe(403);
    expect((await dpo.post('/api/v1/conversations/c1/notes', { text: 'hello' })).statusCode).toBe(403);
    expect((await dpo.post('/api/v1/conversations/c1/read')).statusCode).toBe(403);
    expect((await dpo.get('/api/v1/team/members')).statusCode).toBe(403);
    expect((await dpo.get('/api/v1/me')).statusCode).toBe(200);
    if (sparsam.http.hasRoute({ method: 'GET', url: '/api/v1/conversations' })) {
      expect((await dpo.get('/api/v1/conversations')).statusCode).toBe(403);
      expect((await agent.get('/api/v1/conversations')).statusCode).toBe(200);
    }
  });

  it('logs out one session, or every session of the user at once', async () => {
    const one = new Browser(sparsam);
    const two = new Browser(sparsam);
    await one.login('twice@example.org');
    await two.login('twice@example.org');
    const three = new Browser(sparsam);
    await three.login('twice@example.org');
    const out = await three.post('/api/v1/auth/logout');
    expect(out.statusCode).toBe(204);
    expect((await three.get('/api/v1/me')).statusCode).toBe(401);
    expect((await one.get('/api/v1/me')).statusCode).toBe(200);
    const all = await one.post('/api/v1/auth/logout-everywhere');
    expect(all.statusCode).toBe(200);
    expect(all.json().ended).toBe(2);
    expect((await one.get('/api/v1/me')).statusCode).toBe(401);
    expect((await two.get('/api/v1/me')).statusCode).toBe(401);
  });

  it('changes the password: the old one stops working, other sessions end, this one stays', async () => {
    await createUser(sparsam, 'pw@example.org', 'agent');
    const a = new Browser(sparsam);
    const b = new Browser(sparsam);
    await a.login('pw@example.org');
    await b.login('pw@example.org');
    const short = await a.post('/api/v1/me/password', { currentPassword: PASSWORD, newPassword: 'short' });
    expect(short.statusCode).toBe(400);
    const wrongCurrent = await a.post('/api/v1/me/password', {
      currentPassword: 'nope nope nope',
      newPassword: 'a brand new passphrase',
    });
    expect(wrongCurrent.statusCode).toBe(400);
    const ok = await a.post('/api/v1/me/password', {
      currentPassword: PASSWORD,
      newPassword: 'a brand new passphrase',
    });
    expect(ok.statusCode).toBe(200);
    expect((await a.get('/api/v1/me')).statusCode).toBe(200);
    expect((await b.get('/api/v1/me')).statusCode).toBe(401);
    expect((await new Browser(sparsam).login('pw@example.org')).statusCode).toBe(401);
    expect((await new Browser(sparsam).login('pw@example.org', 'a brand new passphrase')).statusCode).toBe(200);
  });

  it('invites a user with a one-time link to set the password', async () => {
    const { browser: admin } = await (async () => {
      await createUser(sparsam, 'inviter@example.org', 'admin');
      return loginEnrolledAdmin(sparsam, clock, 'inviter@example.org');
    })();
    const res = await admin.post('/api/v1/users', { email: 'new@example.org', role: 'agent', displayName: 'Neu' });
    expect(res.statusCode).toBe(201);
    const { token, url } = res.json().invitation;
    expect(url).toBe(`http://inbox.test/invite#${token}`);
    const stored = JSON.stringify(await sparsam.store.db.selectFrom('invitations').selectAll().execute());
    expect(stored).not.toContain(token);
    const anon = new Browser(sparsam);
    // The token travels in the body only: a URL (and so every proxy's access log) never carries it.
    expect((await anon.post('/api/v1/auth/invitations/lookup', { token })).json().email).toBe('new@example.org');
    expect((await anon.get(`/api/v1/auth/invitations/${token}`)).statusCode).toBe(404);
    expect((await anon.post('/api/v1/auth/invitations/accept', { token, password: 'short' })).statusCode).toBe(400);
    const accept = await anon.post('/api/v1/auth/invitations/accept', { token, password: 'my own new passphrase' });
    expect(accept.statusCode).toBe(200);
    const again = await anon.post('/api/v1/auth/invitations/accept', { token, password: 'another passphrase!' });
    expect(again.statusCode).toBe(404);
    expect((await anon.login('new@example.org', 'my own new passphrase')).json().step).toBe('done');
    expect((await new Browser(sparsam).login('new@example.org', 'another passphrase!')).statusCode).toBe(401);
    const list = await admin.get('/api/v1/users');
    expect(list.json().items.find((u: { email: string }) => u.email === 'new@example.org').invitationPending).toBe(
      false,
    );
  });

  it('requires 2FA for everyone once the inbox-wide setting is on', async () => {
    await createUser(sparsam, 'setting-admin@example.org', 'admin');
    const { browser: admin } = await loginEnrolledAdmin(sparsam, clock, 'setting-admin@example.org');
    expect((await admin.request('PUT', '/api/v1/admin/security', { require2fa: true })).statusCode).toBe(200);
    await createUser(sparsam, 'agent2@example.org', 'agent');
    const agent = new Browser(sparsam);
    expect((await agent.login('agent2@example.org')).json().step).toBe('enrol');
    expect((await agent.get('/api/v1/quick-replies')).statusCode).toBe(401);
    expect((await admin.request('PUT', '/api/v1/admin/security', { require2fa: false })).statusCode).toBe(200);
    expect((await new Browser(sparsam).login('agent2@example.org')).json().step).toBe('done');
  });
  it('makes the data protection officer enrol a second factor like an admin', async () => {
    await createUser(sparsam, 'dpo-2fa@example.org', 'dpo');
    const b = new Browser(sparsam);
    expect((await b.login('dpo-2fa@example.org')).json().step).toBe('enrol');
    expect((await b.get('/api/v1/compliance/audit')).statusCode).toBe(401);
  });

  it('replaces a working second factor only with the password', async () => {
    await createUser(sparsam, 'renew@example.org', 'admin');
    const { browser } = await loginEnrolledAdmin(sparsam, clock, 'renew@example.org');
    expect((await browser.post('/api/v1/auth/enrol/start')).statusCode).toBe(400);
    expect((await browser.post('/api/v1/auth/enrol/start', { password: 'not the password' })).statusCode).toBe(400);
    const start = await browser.post('/api/v1/auth/enrol/start', { password: PASSWORD });
    expect(start.statusCode).toBe(200);
    clock.advance(60_000);
    const confirm = await browser.post('/api/v1/auth/enrol/confirm', { code: totpCode(start.json().secret, clock) });
    expect(confirm.statusCode).toBe(200);
  });

  it('resets an active user only when confirmed, audits it and ends the user’s sessions', async () => {
    await createUser(sparsam, 'reset-admin@example.org', 'admin');
    const { browser: admin } = await loginEnrolledAdmin(sparsam, clock, 'reset-admin@example.org');
    const victim = await createUser(sparsam, 'reset-agent@example.org', 'agent');
    const session = new Browser(sparsam);
    await session.login('reset-agent@example.org');
    expect((await session.get('/api/v1/me')).statusCode).toBe(200);

    const silent = await admin.post(`/api/v1/users/${victim.id}/invitation`);
    expect(silent.statusCode).toBe(409);
    expect((await session.get('/api/v1/me')).statusCode).toBe(200);

    const confirmed = await admin.post(`/api/v1/users/${victim.id}/invitation`, { confirm: true });
    expect(confirmed.statusCode).toBe(200);
    expect((await session.get('/api/v1/me')).statusCode).toBe(401);
    const audit = await sparsam.store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('target_id', '=', victim.id)
      .where('action', '=', 'user.password-reset')
      .execute();
    expect(audit).toHaveLength(1);

    // The user sets a new password with the link and, at the next sign-in, is told that an admin reset it, until
    // they dismiss the notice.
    const resetAt = clock.now().toISOString();
    const { token } = confirmed.json().invitation;
    const newPassword = 'a fresh passphrase after the reset';
    expect(
      (await new Browser(sparsam).post('/api/v1/auth/invitations/accept', { token, password: newPassword })).statusCode,
    ).toBe(200);
    const next = new Browser(sparsam);
    const login = await next.login('reset-agent@example.org', newPassword);
    expect(login.json().user.passwordResetAt).toBe(resetAt);
    expect((await next.get('/api/v1/me')).json().user.passwordResetAt).toBe(resetAt);
    const seen = await next.post('/api/v1/me/reset-notice/seen');
    expect(seen.json().user.passwordResetAt).toBeNull();
    const later = new Browser(sparsam);
    expect((await later.login('reset-agent@example.org', newPassword)).json().user.passwordResetAt).toBeNull();

    // A new account still waiting for its first link gets a fresh one without ceremony.
    const invited = await admin.post('/api/v1/users', { email: 'waiting@example.org', role: 'dpo' });
    const again = await admin.post(`/api/v1/users/${invited.json().user.id}/invitation`);
    expect(again.statusCode).toBe(200);
  });

  it('refuses an invitation-link reset of one’s own account and of an active data protection officer', async () => {
    const self = await createUser(sparsam, 'self-reset@example.org', 'admin');
    const { browser: admin } = await loginEnrolledAdmin(sparsam, clock, 'self-reset@example.org');
    expect((await admin.post(`/api/v1/users/${self.id}/invitation`, { confirm: true })).statusCode).toBe(409);
    const dpo = await createUser(sparsam, 'dpo-reset@example.org', 'dpo');
    const refused = await admin.post(`/api/v1/users/${dpo.id}/invitation`, { confirm: true });
    expect(refused.statusCode).toBe(403);
    expect((await new Browser(sparsam).login('dpo-reset@example.org')).statusCode).toBe(200);
  });
});

describeEachStore('behind a reverse proxy', (dialect) => {
  let app: Awaited<ReturnType<typeof startWebApp>>;
  beforeAll(async () => {
    app = await startWebApp(dialect, { SPARSAM_TRUST_PROXY: '127.0.0.1' });
    await createUser(app.sparsam, 'proxied@example.org', 'agent');
  });
  afterAll(async () => app?.close());

  const login = (remoteAddress: string, headers: Record<string, string>, password = 'wrong password') =>
    app.sparsam.http.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress,
      headers,
      payload: { email: 'proxied@example.org', password },
    });

  it('marks the cookie Secure when the configured proxy says https', async () => {
    const res = await login('127.0.0.1', { 'x-forwarded-proto': 'https' }, PASSWORD);
    expect(String(res.headers['set-cookie'])).toMatch(/Secure/);
  });

  it('a changing X-Forwarded-For from a client that is not the proxy does not escape the per-address limit', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 22; i += 1) {
      codes.push((await login('192.0.2.7', { 'x-forwarded-for': `198.51.100.${i}` })).statusCode);
    }
    expect(codes.at(-1)).toBe(429);
  });
});
