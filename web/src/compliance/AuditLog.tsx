import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { get, post, type AuditEntry } from '../api.ts';
import { useI18n, type MessageKey, type Translate } from '../i18n/i18n.tsx';
import { de } from '../i18n/messages.de.ts';
import { useAction, type ActionMessage } from '../shared/use-action.tsx';
import { query } from './compliance-fetch.ts';

/** The categories the filter offers: the part of an action before the dot (consent.grant → consent). */
const CATEGORIES = [
  'consent',
  'conversation',
  'contact',
  'dsar',
  'user',
  'auth',
  'breach',
  'channel',
  'inbox',
  'marketing',
  'media',
  'note',
  'keys',
  'audit',
  'webhook',
] as const;

/** An action in words ("Einwilligung erteilt"); an action this version does not know stays as its code. */
export function actionText(action: string, t: Translate): string {
  const key = `compliance.act.${action}`;
  return key in de ? t(key as MessageKey) : action;
}

/** Who acted: the staff member's name, the customer's channel, sparsam itself, the CLI or an API token. */
function actorText(a: AuditEntry, t: Translate): string {
  if (a.actorName) return a.actorName;
  const [kind, rest = ''] = a.actor.split(':', 2) as [string, string | undefined];
  if (kind === 'webhook') return t('compliance.customer', { channel: rest });
  if (kind === 'system') return t('compliance.system');
  if (kind === 'cli') return t('compliance.cli');
  if (kind === 'token') return t('compliance.apiToken');
  return a.actor;
}

/** The target: a staff member's name, the conversation's pseudonym from the details, else type and short id. */
function targetText(a: AuditEntry): string {
  if (a.targetName) return a.targetName;
  if (typeof a.details.label === 'string') return a.details.label;
  if (!a.targetId) return '–';
  const id = a.targetId.length > 12 ? `${a.targetId.slice(0, 8)}…` : a.targetId;
  return `${a.targetType ?? ''} ${id}`.trim();
}

/** The details as "name: value" lines, without the label already shown as the target. */
function Details({ details }: { details: Record<string, unknown> }) {
  const entries = Object.entries(details).filter(([k]) => k !== 'label');
  if (entries.length === 0) return <>–</>;
  return (
    <dl className="audit-details">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>
            {typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v)}
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** The audit log: filter, verify the hash chain, download as CSV, page through older entries. */
export function AuditLog() {
  const { t, formatDateTime } = useI18n();
  const [filter, setFilter] = useState({ category: '', action: '', actor: '', targetId: '', from: '', to: '' });
  const [applied, setApplied] = useState(filter);
  const [items, setItems] = useState<AuditEntry[]>([]);
  const [done, setDone] = useState(false);
  const { run, view } = useAction();

  const params = useCallback(
    (f: typeof filter) =>
      query({
        // An exact action wins over its category; a category alone matches all its actions.
        action: f.action.trim() || f.category,
        actor: f.actor,
        targetId: f.targetId,
        from: f.from ? new Date(f.from).toISOString() : '',
        to: f.to ? new Date(f.to).toISOString() : '',
      }),
    [],
  );
  const load = useCallback(
    async (f: typeof filter, offset: number) => {
      const res = await get<{ items: AuditEntry[] }>(`/compliance/audit?${params(f)}&limit=100&offset=${offset}`);
      setItems((prev) => (offset === 0 ? res.items : [...prev, ...res.items]));
      setDone(res.items.length < 100);
    },
    [params],
  );
  useEffect(() => void run(() => load(applied, 0)), [applied, load, run]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setApplied(filter);
  };
  const verify = () =>
    run(async () => {
      const r = await post<{ ok: boolean; checked: number; firstBroken?: { seq: number; reason: string } }>(
        '/compliance/audit/verify',
      );
      if (r.ok) return t('compliance.verifyOk', { n: r.checked });
      return {
        kind: 'error',
        text: t('compliance.verifyBroken', {
          seq: String(r.firstBroken?.seq ?? '?'),
          reason: r.firstBroken?.reason ?? '',
        }),
      } satisfies ActionMessage;
    });

  return (
    <div className="stack">
      <h1>{t('compliance.audit')}</h1>
      {view}
      <form className="form audit-filters" onSubmit={submit}>
        <div className="form-grid">
          <label className="form-row">
            <span>{t('compliance.category')}</span>
            <select value={filter.category} onChange={(e) => setFilter({ ...filter, category: e.target.value })}>
              <option value="">{t('compliance.allCategories')}</option>
              {CATEGORIES.map((c) => (
                <option key={c} value={c}>
                  {t(`compliance.cat.${c}`)}
                </option>
              ))}
            </select>
          </label>
          {(['action', 'actor', 'targetId'] as const).map((k) => (
            <label key={k} className="form-row">
              <span>
                {t(
                  k === 'targetId'
                    ? 'compliance.target'
                    : k === 'action'
                      ? 'compliance.exactAction'
                      : `compliance.${k}`,
                )}
              </span>
              <input value={filter[k]} onChange={(e) => setFilter({ ...filter, [k]: e.target.value })} />
            </label>
          ))}
          {(['from', 'to'] as const).map((k) => (
            <label key={k} className="form-row">
              <span>{t(`compliance.${k}`)}</span>
              <input
                type="datetime-local"
                value={filter[k]}
                onChange={(e) => setFilter({ ...filter, [k]: e.target.value })}
              />
            </label>
          ))}
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary">
            {t('compliance.filter')}
          </button>
          <button type="button" className="btn" onClick={() => void verify()}>
            {t('compliance.verify')}
          </button>
          <a className="btn" href={`/api/v1/compliance/audit.csv?${params(applied)}`} download="sparsam-audit.csv">
            {t('compliance.csv')}
          </a>
        </div>
      </form>
      {items.length === 0 ? (
        <p className="muted">{t('compliance.none')}</p>
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label={t('compliance.audit')}>
          <table className="table audit-table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">{t('compliance.time')}</th>
                <th scope="col">{t('compliance.actor')}</th>
                <th scope="col">{t('compliance.action')}</th>
                <th scope="col">{t('compliance.target')}</th>
                <th scope="col">{t('compliance.result')}</th>
                <th scope="col">{t('compliance.details')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((a) => (
                <tr key={a.seq}>
                  <td>{a.seq}</td>
                  <td className="nowrap">{formatDateTime(a.at)}</td>
                  <td title={a.actor}>{actorText(a, t)}</td>
                  <td title={a.action}>{actionText(a.action, t)}</td>
                  <td title={a.targetId ? `${a.targetType ?? ''} ${a.targetId}` : undefined}>{targetText(a)}</td>
                  <td>{a.result}</td>
                  <td className="small">
                    <Details details={a.details} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {!done && items.length > 0 ? (
        <button type="button" className="btn" onClick={() => void run(() => load(applied, items.length))}>
          {t('compliance.more')}
        </button>
      ) : null}
    </div>
  );
}
