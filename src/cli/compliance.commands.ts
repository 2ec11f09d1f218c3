import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig, type AppConfig } from '../config/config.ts';
import { ComplianceTools, type DocumentFormat, type DocumentKind } from '../core/compliance/compliance.ts';
import { renderDsarHtml } from '../core/compliance/dsar-summary.ts';
import { AuditLog } from '../core/privacy/audit/audit-log.ts';
import { ConsentService } from '../core/privacy/consent/consent.service.ts';
import { ErasureService } from '../core/privacy/erasure/erasure.service.ts';
import { KeyService } from '../core/privacy/keys/key.service.ts';
import { FileEpochSecretStore } from '../core/privacy/keys/epoch-secrets.ts';
import { loadOrCreateMasterKey } from '../core/privacy/keys/master-key.ts';
import { channelKindFacts } from '../channels/registry.ts';
import { ContactDirectory } from '../core/privacy/pseudonym/contact-directory.ts';
import { AppError } from '../shared/app-error.ts';
import { systemClock } from '../shared/clock.ts';
import { createLogger } from '../shared/logger.ts';
import { PgCacheSignals } from '../store/postgres/pg-cache-signals.ts';
import { WebStore } from '../store/sql/web.store.ts';
import { effectiveInboxSettings } from '../core/inbox/team-settings.service.ts';
import { openStore } from '../store/open-store.ts';
import { AuditStore } from '../store/sql/audit.store.ts';
import { ComplianceStore } from '../store/sql/compliance.store.ts';
import { ConsentStore } from '../store/sql/consent.store.ts';
import { ContactStore } from '../store/sql/contact.store.ts';
import { ErasureStore } from '../store/sql/erasure.store.ts';
import { InboxStore } from '../store/sql/inbox.store.ts';
import { KeyStore } from '../store/sql/key.store.ts';
import { SubjectRightsStore } from '../store/sql/subject-rights.store.ts';

/**
 * Opens only what the compliance commands need (store, keys, privacy services): no HTTP server and no job workers,
 * so that a subject access export or an erasure run from the shell sends nothing. The configured inboxes and
 * channels are mirrored first, as `sparsam start` does. On PostgreSQL an erasure from the shell announces the
 * destroyed keys to the running instances (cache signals), so that none of them keeps one in memory.
 */
async function withCompliance<T>(fn: (tools: ComplianceTools, config: AppConfig) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const store = await openStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    keystoreUrl: config.keystoreUrl,
  });
  // Publish only: this short-lived process caches nothing worth keeping in step (not live, so it reads through).
  const signals = config.databaseUrl
    ? new PgCacheSignals(config.databaseUrl, createLogger({ level: config.logLevel }))
    : undefined;
  try {
    const clock = systemClock;
    // Admin changes to inbox settings stay in force (the running instances read them while this command runs).
    const effective = await effectiveInboxSettings(new WebStore(store.db), config.inboxes);
    await new InboxStore(store.db).syncConfigured(config.inboxes, config.channels, clock.now().getTime(), effective);
    const master = await loadOrCreateMasterKey({ masterKey: config.masterKey, dataDir: config.dataDir });
    const keys = new KeyService(new KeyStore(store.keys), master, clock, {
      ...(signals ? { signals } : {}),
      epochs: new FileEpochSecretStore(config.epochKeyFile, master),
    });
    await keys.init();
    const audit = new AuditLog(new AuditStore(store.db), keys, clock);
    const tools = new ComplianceTools({
      port: new ComplianceStore(store.db),
      subjectRightsPort: new SubjectRightsStore(store.db),
      contacts: new ContactDirectory(new ContactStore(store.db), keys, clock, channelKindFacts),
      consent: new ConsentService(new ConsentStore(store.db), keys, clock),
      audit,
      erasure: new ErasureService(new ErasureStore(store.db, () => store.scrub()), keys, audit, clock),
      keys,
      clock,
      organisation: config.organisation,
      keyStoreUrl: config.keystoreUrl,
      masterKeyFromEnv: Boolean(config.masterKey),
      channelKinds: channelKindFacts,
    });
    return await fn(tools, config);
  } finally {
    await signals?.close();
    await store.close();
  }
}

function parseLang(value: string): 'de' | 'en' {
  if (value !== 'de' && value !== 'en') throw new InvalidArgumentError('de or en');
  return value;
}

function parseFormat(value: string): DocumentFormat {
  if (value !== 'md' && value !== 'html' && value !== 'pdf') throw new InvalidArgumentError('md, html or pdf');
  return value;
}

/** Writes a file only its owner can read (it may hold personal data). */
function writePrivate(file: string, data: string | Buffer): void {
  writeFileSync(file, data, { mode: 0o600 });
}

function documentCommand(program: Command, name: string, kind: DocumentKind, description: string): void {
  program
    .command(name)
    .description(description)
    .option('--lang <lang>', 'de or en', parseLang, 'de' as const)
    .option('--format <format>', 'md, html or pdf (A4)', parseFormat, 'md' as DocumentFormat)
    .option('--out <file>', 'write to this file instead of standard output (required for pdf)')
    .action(async (opts: { lang: 'de' | 'en'; format: DocumentFormat; out?: string }) => {
      if (opts.format === 'pdf' && !opts.out) {
        throw new AppError('VALIDATION', 'a PDF goes to a file: add --out <file.pdf>');
      }
      await withCompliance(async (tools) => {
        const doc = await tools.renderDocument(kind, opts.lang, opts.format);
        if (opts.out) {
          writeFileSync(opts.out, doc.body);
          console.error(`written to ${opts.out}`);
        } else {
          process.stdout.write(doc.body);
        }
      });
    });
}

/**
 * `sparsam dsar export|erase`, `sparsam channel disable|enable`, `sparsam ropa`, `sparsam privacy-notice`. Must be
 * registered after the channel commands (it adds to `sparsam channel`).
 */
export function registerComplianceCommands(program: Command): void {
  const dsar = program.command('dsar').description('data subject requests (Art. 15, 17, 20 GDPR)');
  dsar
    .command('export')
    .description(
      'everything sparsam holds about one person, as a JSON bundle (decrypted texts, files in base64, consent, audit ' +
        'entries) and optionally a readable HTML summary; audited as dsar.export',
    )
    .requiredOption('--channel <id>', 'the channel the person wrote on')
    .requiredOption('--address <address>', 'their phone number or chat id on that channel')
    .option('--out <file>', 'write the JSON bundle to this file (mode 0600) instead of standard output')
    .option('--html <file>', 'also write the readable summary to this file (mode 0600)')
    .option('--lang <lang>', 'language of the summary: de or en', parseLang, 'de' as const)
    .option(
      '--reason <reason>',
      'the request this export answers, for the audit log (e.g. "Art. 15 request by letter, ticket 17")',
      'subject access export on the command line',
    )
    .action(
      async (opts: {
        channel: string;
        address: string;
        out?: string;
        html?: string;
        lang: 'de' | 'en';
        reason: string;
      }) => {
        await withCompliance(async (tools) => {
          const bundle = await tools.subjectRights.export(
            { channelId: opts.channel, address: opts.address },
            { actor: 'cli:dsar-export', role: 'cli' },
            opts.reason,
          );
          const json = `${JSON.stringify(bundle, null, 2)}\n`;
          if (opts.out) writePrivate(opts.out, json);
          else process.stdout.write(json);
          if (opts.html) writePrivate(opts.html, renderDsarHtml(bundle, opts.lang));
          const messages = bundle.conversations.reduce((n, c) => n + c.messages.length, 0);
          console.error(
            `exported ${bundle.subject.label}: ${bundle.conversations.length} conversations, ${messages} messages, ` +
              `${bundle.consent.length} consent entries, ${bundle.audit.length} audit entries` +
              (opts.out ? ` to ${opts.out}` : '') +
              (opts.html ? `; summary in ${opts.html}` : ''),
          );
        });
      },
    );
  dsar
    .command('erase')
    .description(
      'erase one person (all conversations, messages, files, consent entries and their keys) and print the receipt; ' +
        'audited as dsar.erase',
    )
    .requiredOption('--channel <id>', 'the channel the person wrote on')
    .requiredOption('--address <address>', 'their phone number or chat id on that channel')
    .requiredOption('--reason <reason>', 'why, for the audit log (e.g. "Art. 17 request by letter, ticket 17")')
    .action(async (opts: { channel: string; address: string; reason: string }) => {
      await withCompliance(async (tools) => {
        const receipt = await tools.subjectRights.erase(
          { channelId: opts.channel, address: opts.address },
          { actor: 'cli:dsar-erase', role: 'cli' },
          opts.reason,
        );
        const c = receipt.counts;
        console.log(`erased ${receipt.label ?? receipt.targetId} (contact ${receipt.targetId})`);
        console.log(
          `  conversations ${c.conversations}, messages ${c.messages}, files ${c.media}, consent entries ` +
            `${c.consentEvents}, keys destroyed ${c.keysDestroyed}`,
        );
        console.log(`  receipt: audit entry ${receipt.auditSeq} at ${new Date(receipt.at).toISOString()}`);
      });
    });

  const channel =
    program.commands.find((c) => c.name() === 'channel') ??
    program.command('channel').description('messenger channels');
  for (const [verb, enabled] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
    channel
      .command(verb)
      .description(
        enabled
          ? 'switch a channel on again after a kill switch (audited)'
          : 'kill switch: customers who write get the alternative contact and nothing is stored; nothing is sent (audited)',
      )
      .argument('<channelId>', 'the channel id')
      .requiredOption('--reason <reason>', 'why, for the audit log')
      .action(async (channelId: string, opts: { reason: string }) => {
        await withCompliance(async (tools) => {
          const state = await tools.killSwitch.set(channelId, enabled, { actor: `cli:channel-${verb}` }, opts.reason);
          console.log(
            `${state.channelId} is ${state.enabled ? 'enabled' : 'disabled'}` +
              `${state.changed ? '' : ' (it already was)'}; audit entry ${state.auditSeq}`,
          );
        });
      });
  }

  documentCommand(
    program,
    'ropa',
    'ropa',
    'print the record of processing activities (Art. 30 GDPR) of this installation',
  );
  documentCommand(program, 'privacy-notice', 'notice', 'print the privacy notice (Art. 13 GDPR) for customers');
}
