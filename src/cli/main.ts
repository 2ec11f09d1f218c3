import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, type AppConfig } from '../config/config.ts';
import { ROLES } from '../core/accounts/account.service.ts';
import { createSparsam, startSparsam, type Sparsam } from '../main.ts';
import { AppError, isAppError } from '../shared/app-error.ts';
import { createLogger } from '../shared/logger.ts';
import type { Role } from '../core/ports/model.ts';
import { registerChannelCommands } from './channel.commands.ts';
import { registerComplianceCommands } from './compliance.commands.ts';
import { registerDemoCommand } from './demo.command.ts';
import { runDoctor } from './doctor.ts';
import { readSecretLine } from './read-secret.ts';
import { registerBackupCommands } from './backup.commands.ts';
import { registerPrivacyCommands } from './privacy.commands.ts';

/** Exit codes: 0 ok, 1 the command failed, 2 the configuration is wrong. */
export const EXIT_FAILED = 1;
export const EXIT_CONFIG = 2;

function config(): AppConfig {
  return loadConfig();
}

/** Collects a repeatable option's values. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parseRole(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) throw new InvalidArgumentError(`one of ${ROLES.join(', ')}`);
  return value as Role;
}

/** Opens sparsam without listening, runs `fn`, closes. For one-shot commands. */
async function withSparsam<T>(fn: (s: Sparsam) => Promise<T>): Promise<T> {
  const sparsam = await createSparsam(config(), { logger: createLogger({ level: 'warn' }) });
  try {
    return await fn(sparsam);
  } finally {
    await sparsam.close();
  }
}

export function buildCli(): Command {
  const program = new Command('sparsam')
    .description('Self-hosted, privacy-first messaging gateway and team inbox')
    .showHelpAfterError();

  program
    .command('start')
    .description('start the server (SQLite in ./data unless SPARSAM_DATABASE_URL is set)')
    .action(async () => {
      const settings = config();
      // A person at a terminal reads lines; a service manager or a pipe gets JSON for the log collector.
      const logger = createLogger({ level: settings.logLevel, pretty: process.stdout.isTTY === true });
      const { sparsam, address } = await startSparsam(settings, { logger });
      sparsam.logger.info({ listen: address, store: sparsam.store.dialect }, 'sparsam is listening');
      const users = await sparsam.users.countAdmins();
      if (users === 0) {
        sparsam.logger.warn('no admin account yet: create one with: npx sparsam admin create --email you@example.org');
      }
      const stop = async (signal: string) => {
        sparsam.logger.info({ signal }, 'shutting down');
        await sparsam.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });

  program
    .command('doctor')
    .description('check configuration, stores and ports, and say what is wrong')
    .action(async () => {
      const findings = await runDoctor(config());
      for (const f of findings) {
        console.log(`${!f.ok ? 'FAIL' : f.warn ? 'WARN' : 'ok  '} ${f.what}${f.detail ? `: ${f.detail}` : ''}`);
      }
      if (findings.some((f) => !f.ok)) process.exitCode = EXIT_FAILED;
    });

  const admin = program.command('admin').description('manage staff accounts');
  admin
    .command('create')
    .description('create an admin account; the password is read from standard input')
    .requiredOption('--email <email>', 'e-mail address used to log in')
    .option('--name <name>', 'display name')
    .option('--role <role>', `role (${ROLES.join(', ')})`, parseRole, 'admin' as Role)
    .option(
      '--inbox <id>',
      'an inbox the account works in (repeatable; an agent without it joins every inbox)',
      collect,
    )
    .action(async (opts: { email: string; name?: string; role: Role; inbox?: string[] }) => {
      const password = await readSecretLine('Password (at least 12 characters): ');
      await withSparsam(async (s) => {
        const user = await s.accounts.createUser({
          email: opts.email,
          password,
          role: opts.role,
          ...(opts.name ? { displayName: opts.name } : {}),
          ...(opts.inbox ? { inboxIds: opts.inbox } : {}),
        });
        await s.audit.append({
          actor: 'cli:admin-create',
          action: 'user.created',
          targetType: 'user',
          targetId: user.id,
          details: { role: user.role },
        });
        console.log(`created ${user.role} ${user.email} (id ${user.id})`);
      });
    });

  admin
    .command('unlock')
    .description('lift the lock-out after repeated failed logins (recorded in the audit log)')
    .requiredOption('--email <email>', 'e-mail address of the account')
    .action(async (opts: { email: string }) => {
      await withSparsam(async (s) => {
        const user = await s.users.findUserByEmail(opts.email.trim().toLowerCase());
        if (!user) throw new AppError('NOT_FOUND', `no account with the e-mail address ${opts.email}`);
        const { wasLocked } = await s.accounts.unlock(user.id);
        await s.audit.append({
          actor: 'cli:admin-unlock',
          action: 'user.unlocked',
          targetType: 'user',
          targetId: user.id,
          details: { wasLocked },
        });
        console.log(wasLocked ? `unlocked ${user.email}` : `${user.email} was not locked; failed attempts reset`);
      });
    });

  const user = program.command('user').description("staff members' inboxes");
  user
    .command('inboxes')
    .description("show a staff member's inboxes, or replace them with --inbox (repeatable) or --none")
    .requiredOption('--email <email>', 'e-mail address of the account')
    .option('--inbox <id>', 'an inbox the account works in (repeatable)', collect)
    .option('--none', 'remove the account from every inbox')
    .action(async (opts: { email: string; inbox?: string[]; none?: boolean }) => {
      await withSparsam(async (s) => {
        const found = await s.users.findUserByEmail(opts.email.trim().toLowerCase());
        if (!found) throw new AppError('NOT_FOUND', `no account with the e-mail address ${opts.email}`);
        const change = opts.none ? [] : opts.inbox;
        const inboxes = change
          ? await s.teams.setUserInboxes('cli:user-inboxes', found.id, change)
          : await s.teams.inboxIdsOfUser(found.id);
        const note = found.role === 'agent' ? '' : ` (a ${found.role} sees every inbox regardless)`;
        console.log(`${found.email}: ${inboxes.length > 0 ? inboxes.join(', ') : 'no inbox'}${note}`);
      });
    });

  const token = program.command('token').description('manage API tokens');
  token
    .command('create')
    .description('create an API token and print it once')
    .requiredOption('--name <name>', 'what the token is for')
    .requiredOption('--role <role>', `role (${ROLES.join(', ')})`, parseRole)
    .option('--expires-in <duration>', 'let the token stop working after this time: 30d, 12h, 90m (default: never)')
    .option('--inbox <id>', 'limit an agent token to this inbox (repeatable; without: every inbox)', collect)
    .action(async (opts: { name: string; role: Role; expiresIn?: string; inbox?: string[] }) => {
      await withSparsam(async (s) => {
        const now = Date.now();
        const expiresAt = opts.expiresIn === undefined ? undefined : now + parseDuration(opts.expiresIn);
        const created = await s.accounts.createApiToken(opts.name, opts.role, {
          expiresAt,
          inboxIds: opts.inbox ?? [],
        });
        await s.audit.append({
          actor: 'cli:token-create',
          action: 'token.created',
          targetType: 'token',
          targetId: created.id,
          details: {
            role: opts.role,
            expiresAt: expiresAt === undefined ? null : new Date(expiresAt).toISOString(),
            inboxes: (opts.inbox ?? []).join(',') || null,
          },
        });
        console.log(created.token);
        console.error(
          `token ${created.id} created` +
            (expiresAt ? `, valid until ${new Date(expiresAt).toISOString()}` : '') +
            '; it is shown only this once',
        );
      });
    });
  token
    .command('list')
    .description('list the API tokens: id, name, role, created, last used, expiry, revoked (never the tokens)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withSparsam(async (s) => {
        const now = Date.now();
        const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());
        const items = (await s.accounts.listApiTokens()).map((t) => ({
          id: t.id,
          name: t.name,
          role: t.role,
          createdAt: iso(t.created_at),
          lastUsedAt: iso(t.last_used_at),
          expiresAt: iso(t.expires_at),
          revokedAt: iso(t.revoked_at),
          active: t.revoked_at === null && (t.expires_at == null || t.expires_at > now),
        }));
        if (opts.json) {
          console.log(JSON.stringify({ items }, null, 2));
          return;
        }
        if (items.length === 0) console.log('no API tokens');
        for (const t of items) {
          const state = t.revokedAt ? `revoked ${t.revokedAt}` : t.active ? 'active' : `expired ${t.expiresAt}`;
          console.log(
            `${t.id}  ${t.name}  ${t.role}  created ${t.createdAt}  last used ${t.lastUsedAt ?? 'never'}  ` +
              `expires ${t.expiresAt ?? 'never'}  ${state}`,
          );
        }
      });
    });
  token
    .command('revoke')
    .description('revoke an API token at once (audited as token.revoked)')
    .argument('<id>', 'the token id from `sparsam token list`')
    .action(async (id: string) => {
      await withSparsam(async (s) => {
        const revoked = await s.accounts.revokeApiToken(id);
        if (revoked) {
          await s.audit.append({
            actor: 'cli:token-revoke',
            action: 'token.revoked',
            targetType: 'token',
            targetId: id,
          });
        }
        console.log(revoked ? `token ${id} revoked` : `token ${id} was already revoked`);
      });
    });

  registerPrivacyCommands(program);
  registerBackupCommands(program);
  registerChannelCommands(program, config, withSparsam);
  registerComplianceCommands(program);
  registerDemoCommand(program);

  return program;
}

/** A failed listen (port taken, or below 1024 without the right), said in plain words as doctor says it; else undefined. */
export function describeListenError(error: unknown): string | undefined {
  const e = error as { code?: unknown; port?: unknown; syscall?: unknown } | null;
  if (!e || typeof e !== 'object' || e.syscall !== 'listen') return undefined;
  const port = typeof e.port === 'number' ? `port ${e.port}` : 'the port';
  if (e.code === 'EADDRINUSE') {
    return `${port} is already in use: stop the other program or set SPARSAM_PORT (example: 8081)`;
  }
  if (e.code === 'EACCES') {
    return `${port} needs privileges this user does not have: use a port above 1023 (SPARSAM_PORT, example: 8080) behind a reverse proxy`;
  }
  if (e.code === 'EADDRNOTAVAIL') {
    return `this machine has no address SPARSAM_HOST names: set SPARSAM_HOST (example: 0.0.0.0 or 127.0.0.1)`;
  }
  return undefined;
}

/** Runs the CLI and turns known errors into a clear message and an exit code, never a stack trace. */
export async function runCli(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(EXIT_CONFIG);
    }
    if (isAppError(error)) {
      console.error(`sparsam: ${error.message}`);
      process.exit(EXIT_FAILED);
    }
    const listen = describeListenError(error);
    if (listen) {
      console.error(`sparsam: ${listen}`);
      process.exit(EXIT_FAILED);
    }
    console.error('sparsam: unexpected error:', error instanceof Error ? error.message : error);
    process.exit(EXIT_FAILED);
  }
}

/** A duration like 30d, 12h or 90m, in milliseconds (at most ten years). */
function parseDuration(value: string): number {
  const m = /^(\d{1,6})([dhm])$/.exec(value.trim());
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const;
  const ms = m ? Number(m[1]) * unit[m[2] as keyof typeof unit] : 0;
  if (!m || ms <= 0 || ms > 3650 * 86_400_000) {
    throw new AppError('VALIDATION', `--expires-in must be a duration like 30d, 12h or 90m, not "${value}"`);
  }
  return ms;
}
