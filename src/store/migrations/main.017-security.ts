import type { SparsamMigration } from './migration.ts';

/**
 * Hardening of accountability and erasure.
 *
 * `audit_set_aside`: audit entries found beyond the chain head (written into the database by something other than
 * sparsam, or left over from a rolled-back head) are moved here by the next append, so that they neither block the
 * append at their sequence number nor show up in the audit screen; `sparsam audit verify` reports them.
 *
 * `consent_events.proof_until`: when a contact is erased because nothing needs it any more, its consent entries stay
 * as content-free proof (notice hash, purpose, action, channel, time, method; the evidence is removed) until this
 * time, then the retention sweep deletes them. Null for the entries of a live contact.
 */
export const security: SparsamMigration = {
  name: '017-security',
  async up(db, t) {
    await db.schema
      .createTable('audit_set_aside')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('seq', t.millis, (c) => c.notNull())
      .addColumn('at', t.millis, (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target_type', 'text')
      .addColumn('target_id', 'text')
      .addColumn('result', 'text', (c) => c.notNull())
      .addColumn('details', 'text', (c) => c.notNull())
      .addColumn('prev_hash', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('mac', 'text', (c) => c.notNull())
      .addColumn('set_aside_at', t.millis, (c) => c.notNull())
      .execute();
    // Consent proof of an erased contact: content-free (no evidence, no reference to a message), kept until then.
    await db.schema.alterTable('consent_events').addColumn('proof_until', t.millis).execute();
    await db.schema.createIndex('consent_events_proof_until').on('consent_events').column('proof_until').execute();
    // API tokens can expire (`sparsam token create --expires-in 30d`); null: no expiry.
    await db.schema.alterTable('api_tokens').addColumn('expires_at', t.millis).execute();
  },
};
