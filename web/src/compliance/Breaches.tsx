import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { get, patch, post } from '../api.ts';
import { useI18n, type MessageKey } from '../i18n/i18n.tsx';
import { useAction } from '../shared/use-action.tsx';

interface Breach {
  id: string;
  description: string;
  risk: 'none' | 'risk' | 'high';
  labels: string[];
  discoveredAt: string;
  deadline: string;
  notifiedAt: string | null;
  remainingMs: number | null;
  overdue: boolean;
}

/** The breach register with the 72-hour deadline of Art. 33. */
export function Breaches() {
  const { t, formatTime, formatDate } = useI18n();
  const [items, setItems] = useState<Breach[]>([]);
  const [, setTick] = useState(0);
  const [form, setForm] = useState({ description: '', risk: 'risk', labels: '', discoveredAt: '' });
  const { run, view } = useAction();
  const load = useCallback(async () => {
    setItems((await get<{ items: Breach[] }>('/compliance/breaches')).items);
  }, []);
  useEffect(() => void run(load), [load, run]);
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), 60_000);
    return () => clearInterval(timer);
  }, []);

  const record = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await post('/compliance/breaches', {
        description: form.description,
        risk: form.risk,
        labels: form.labels
          .split(',')
          .map((l) => l.trim())
          .filter(Boolean),
        discoveredAt: new Date(form.discoveredAt || Date.now()).toISOString(),
      });
      setForm({ description: '', risk: 'risk', labels: '', discoveredAt: '' });
      await load();
      return t('saved');
    });
  };
  const markNotified = (id: string) =>
    run(async () => {
      await patch(`/compliance/breaches/${id}`, { notifiedAt: new Date().toISOString() });
      await load();
      return t('saved');
    });
  const riskKey: Record<Breach['risk'], MessageKey> = {
    none: 'compliance.riskNone',
    risk: 'compliance.riskRisk',
    high: 'compliance.riskHigh',
  };

  return (
    <div className="stack">
      <h1>{t('compliance.breaches')}</h1>
      {view}
      <div className="table-wrap" tabIndex={0} role="region" aria-label={t('compliance.breaches')}>
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t('compliance.discoveredAt')}</th>
              <th scope="col">{t('compliance.description')}</th>
              <th scope="col">{t('compliance.risk')}</th>
              <th scope="col">{t('compliance.deadline')}</th>
              <th scope="col">{t('compliance.notifiedAt')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((b) => {
              const left = new Date(b.deadline).getTime() - Date.now();
              return (
                <tr key={b.id} className={!b.notifiedAt && left < 0 ? 'error' : undefined}>
                  <td>{formatTime(b.discoveredAt)}</td>
                  <td>
                    {b.description}
                    {b.labels.length > 0 ? <div className="small muted">{b.labels.join(', ')}</div> : null}
                  </td>
                  <td>{t(riskKey[b.risk])}</td>
                  <td>
                    {formatTime(b.deadline)}
                    <div className="small">
                      {b.notifiedAt
                        ? t('compliance.notified', { d: formatDate(b.notifiedAt) })
                        : left < 0
                          ? t('compliance.overdue')
                          : t('compliance.remaining', { h: Math.floor(left / 3_600_000) })}
                    </div>
                  </td>
                  <td>
                    {b.notifiedAt ? (
                      formatDate(b.notifiedAt)
                    ) : (
                      <button type="button" className="btn btn-small" onClick={() => void markNotified(b.id)}>
                        {t('compliance.markNotified')}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <form className="form card" onSubmit={record}>
        <h2>{t('compliance.breachNew')}</h2>
        <label className="form-row">
          <span>{t('compliance.description')}</span>
          <textarea
            value={form.description}
            required
            minLength={3}
            onChange={(e) => setForm({ ...form, description: e.target.value })}
          />
        </label>
        <label className="form-row">
          <span>{t('compliance.risk')}</span>
          <select value={form.risk} onChange={(e) => setForm({ ...form, risk: e.target.value })}>
            <option value="none">{t('compliance.riskNone')}</option>
            <option value="risk">{t('compliance.riskRisk')}</option>
            <option value="high">{t('compliance.riskHigh')}</option>
          </select>
        </label>
        <label className="form-row">
          <span>{t('compliance.labels')}</span>
          <input value={form.labels} onChange={(e) => setForm({ ...form, labels: e.target.value })} />
        </label>
        <label className="form-row">
          <span>{t('compliance.discoveredAt')}</span>
          <input
            type="datetime-local"
            value={form.discoveredAt}
            onChange={(e) => setForm({ ...form, discoveredAt: e.target.value })}
          />
        </label>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary">
            {t('compliance.record')}
          </button>
        </div>
      </form>
    </div>
  );
}
