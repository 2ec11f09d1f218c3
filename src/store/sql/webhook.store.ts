import type { Kysely } from 'kysely';
import type {
  LegalBasis,
  WebhookDeliveryRecord,
  WebhookEndpointRecord,
  WebhookEventType,
  WebhookPort,
} from '../../core/ports/webhook.port.ts';
import type { Database, WebhookDeliveryRow, WebhookEndpointRow } from '../database.ts';

type EndpointPatch = Partial<Omit<WebhookEndpointRecord, 'id' | 'created_at'>>;

function toEndpoint(row: WebhookEndpointRow): WebhookEndpointRecord {
  let events: WebhookEventType[] = [];
  try {
    events = JSON.parse(row.events) as WebhookEventType[];
  } catch {
    // Written by fromPatch only: JSON by construction.
  }
  return {
    ...row,
    events,
    allow_private_target: row.allow_private_target === 1,
    include_content: row.include_content === 1,
    legal_basis: row.legal_basis as LegalBasis | null,
    secret_enc: new Uint8Array(row.secret_enc),
    previous_secret_enc: row.previous_secret_enc ? new Uint8Array(row.previous_secret_enc) : null,
    paused_at: row.paused_at === null ? null : Number(row.paused_at),
    previous_secret_until: row.previous_secret_until === null ? null : Number(row.previous_secret_until),
    failing_since: row.failing_since === null ? null : Number(row.failing_since),
    last_success_at: row.last_success_at === null ? null : Number(row.last_success_at),
    consecutive_failures: Number(row.consecutive_failures),
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  };
}

function fromPatch(patch: EndpointPatch): Partial<WebhookEndpointRow> {
  const { events, allow_private_target, include_content, ...rest } = patch;
  return {
    ...rest,
    ...(events !== undefined ? { events: JSON.stringify(events) } : {}),
    ...(allow_private_target !== undefined ? { allow_private_target: allow_private_target ? 1 : 0 } : {}),
    ...(include_content !== undefined ? { include_content: include_content ? 1 : 0 } : {}),
  };
}

function toDelivery(row: WebhookDeliveryRow): WebhookDeliveryRecord {
  return {
    ...row,
    attempts: Number(row.attempts),
    status_code: row.status_code === null ? null : Number(row.status_code),
    duration_ms: row.duration_ms === null ? null : Number(row.duration_ms),
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  };
}

/** Outgoing webhook endpoints and their delivery log (migration 016). */
export class WebhookStore implements WebhookPort {
  constructor(private readonly db: Kysely<Database>) {}

  async list(): Promise<WebhookEndpointRecord[]> {
    const rows = await this.db.selectFrom('webhook_endpoints').selectAll().orderBy('created_at').execute();
    return rows.map(toEndpoint);
  }

  async get(id: string): Promise<WebhookEndpointRecord | undefined> {
    const row = await this.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toEndpoint(row);
  }

  async insert(row: WebhookEndpointRecord): Promise<void> {
    await this.db
      .insertInto('webhook_endpoints')
      .values({ ...row, ...fromPatch(row) } as WebhookEndpointRow)
      .execute();
  }

  async update(id: string, patch: EndpointPatch): Promise<void> {
    await this.db.updateTable('webhook_endpoints').set(fromPatch(patch)).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
      const r = await tx.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  async recordFailure(id: string, now: number): Promise<WebhookEndpointRecord | undefined> {
    await this.db
      .updateTable('webhook_endpoints')
      .set((eb) => ({
        consecutive_failures: eb('consecutive_failures', '+', 1),
        failing_since: eb.fn.coalesce('failing_since', eb.val(now)),
      }))
      .where('id', '=', id)
      .execute();
    return this.get(id);
  }

  async recordSuccess(id: string, now: number): Promise<void> {
    await this.db
      .updateTable('webhook_endpoints')
      .set({ consecutive_failures: 0, failing_since: null, last_success_at: now })
      .where('id', '=', id)
      .execute();
  }

  async openDelivery(row: WebhookDeliveryRecord): Promise<WebhookDeliveryRecord> {
    await this.db
      .insertInto('webhook_deliveries')
      .values(row)
      .onConflict((oc) => oc.columns(['endpoint_id', 'event_id']).doNothing())
      .execute();
    const found = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('endpoint_id', '=', row.endpoint_id)
      .where('event_id', '=', row.event_id)
      .executeTakeFirstOrThrow();
    return toDelivery(found);
  }

  async updateDelivery(id: string, patch: Partial<Omit<WebhookDeliveryRecord, 'id' | 'endpoint_id'>>): Promise<void> {
    await this.db.updateTable('webhook_deliveries').set(patch).where('id', '=', id).execute();
  }

  async deliveries(endpointId: string, limit: number): Promise<WebhookDeliveryRecord[]> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('endpoint_id', '=', endpointId)
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toDelivery);
  }

  async pruneDeliveries(before: number): Promise<number> {
    const r = await this.db.deleteFrom('webhook_deliveries').where('updated_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
