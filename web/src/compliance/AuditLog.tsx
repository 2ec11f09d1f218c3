import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { get, post } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { useAction, type ActionMessage } from '../shared/use-action.tsx';
import { query } from './compliance-fetch.ts';

interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  result: string;
  details: Record<string, unknown>;
}

/** The audit log: filter, verify the hash chain, download as CSV, page through older entries. */
export function AuditLog() {
  const { t, formatTime } = useI18n();
  const [filter, setFilter] = useState({ action: '', actor: '', targetId: '', from: '', to: '' });
  const [applied, setApplied] = useState(filter);
  const [items, setItems] = useState<AuditEntry[]>([]);
  const [done, setDone] = useState(false);
  const { run, view } = useAction();

  const params = useCallback(
    (f: typeof filter) =>
      query({
        action: f.action,
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
      <form className="form filters" onSubmit={submit}>
        <div className="form-grid">
          {(['action', 'actor', 'targetId'] as const).map((k) => (
            <label key={k} className="form-row">
              <span>{t(k === 'targetId' ? 'compliance.target' : `compliance.${k}`)}</span>
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
        <div className="table-wrap">
          <table className="table">
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
                  <td>{formatTime(a.at)}</td>
                  <td>{a.actor}</td>
                  <td>{a.action}</td>
                  <td>{a.targetId ? `${a.targetType ?? ''} ${a.targetId}` : '–'}</td>
                  <td>{a.result}</td>
                  <td className="small">{JSON.stringify(a.details)}</td>
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
