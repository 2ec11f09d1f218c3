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
    .action(async (opts: { email: string; name?: string; role: Role }) => {
      const password = await readSecretLine('Password (at least 12 characters): ');
      await withSparsam(async (s) => {
        const user = await s.accounts.createUser({
          email: opts.email,
          password,
          role: opts.role,
          ...(opts.name ? { displayName: opts.name } : {}),
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

  const token = program.command('token').description('manage API tokens');
  token
    .command('create')
    .description('create an API token and print it once')
    .requiredOption('--name <name>', 'what the token is for')
    .requiredOption('--role <role>', `role (${ROLES.join(', ')})`, parseRole)
    .action(async (opts: { name: string; role: Role }) => {
      await withSparsam(async (s) => {
        const created = await s.accounts.createApiToken(opts.name, opts.role);
        console.log(created.token);
        console.error(`token ${created.id} created; it is shown only this once`);
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
