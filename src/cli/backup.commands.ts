import path from 'node:path';
import type { Command } from 'commander';
import { verifyErasureOfCopy } from '../core/privacy/erasure/erasure-verifier.ts';
import { createMainSnapshot, readCopiedSubjects } from '../store/backup/main-snapshot.ts';
import { ErasureStore } from '../store/sql/erasure.store.ts';
import { withPrivacy } from './privacy.commands.ts';

/** `sparsam backup create` and `sparsam backup verify-erasure`. */
export function registerBackupCommands(program: Command): void {
  const backup = program
    .command('backup')
    .description('backups of the main database, and proof that erasure reached them');
  backup
    .command('create')
    .description(
      'write a consistent online snapshot of the main database (never the key store or the epoch key) into an ' +
        'empty directory; the server may keep running',
    )
    .requiredOption('--out <dir>', 'directory to write the snapshot to (created if missing, must not hold one)')
    .action(async (opts: { out: string }) => {
      await withPrivacy(async ({ config, store, keys }) => {
        const out = path.resolve(opts.out);
        const manifest = await createMainSnapshot(store, config, out, keys.epoch, new Date());
        console.log(
          `snapshot of the main database written to ${path.join(out, manifest.file)} (key epoch ${manifest.epoch})`,
        );
        console.log(
          'it holds no key material: the key store (' +
            (config.keystoreUrl
              ? 'the sparsam_keys schema / key-store database'
              : path.join(config.dataDir, 'keys.db')) +
            `) and the epoch key (${config.epochKeyFile}) are NOT in it. Back those up apart from this, to a ` +
            'short-lived place (e.g. a separate volume) and delete each such copy within one key epoch ' +
            `(${config.keyEpochHours} h): an older copy of the epoch key file would undo erasures.`,
        );
      });
    });
  backup
    .command('verify-erasure')
    .description(
      "check an old copy of the main database with today's secrets only (today's key store and epoch, never the " +
        "copy's key store): counts subjects erased since the copy and whether any of them can still be opened or " +
        're-identified; exits 1 when one can',
    )
    .argument('<dir>', 'a `sparsam backup create` directory, or a directory holding sparsam.db (+ -wal) or sparsam.sql')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      await withPrivacy(async ({ store, keys, contacts }) => {
        const copy = readCopiedSubjects(path.resolve(dir));
        const erasure = new ErasureStore(store.db, () => store.scrub());
        const result = await verifyErasureOfCopy(copy, {
          keys,
          contacts,
          conversationExists: async (id) => (await erasure.findConversation(id)) !== undefined,
          channelKind: (channelId) => contacts.channelKind(channelId),
        });
        const report = { copy: path.resolve(dir), checkedAt: new Date().toISOString(), ...result };
        if (opts.json) console.log(JSON.stringify(report));
        else {
          console.log(
            `${result.erased} subjects in the copy are erased today (${result.erasedConversations} conversations, ` +
              `${result.erasedContacts} contacts); ${result.live} still exist`,
          );
          console.log(`erased but still openable with today's secrets: ${result.erasedButOpenable}`);
          console.log(`erased but still re-identifiable with today's secrets: ${result.erasedButReidentifiable}`);
          if (result.copyPepperLive) {
            console.log(
              'the copy is younger than one key epoch: run `sparsam keys rotate` (or wait for the next epoch)',
            );
          }
        }
        if (result.erasedButOpenable > 0 || result.erasedButReidentifiable > 0) process.exitCode = 1;
      });
    });
}
