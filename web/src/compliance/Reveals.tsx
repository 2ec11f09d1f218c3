import { useEffect, useState } from 'react';
import { get } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { useAction } from '../shared/use-action.tsx';

interface Reveal {
  seq: number;
  at: string;
  actor: string;
  label: string | null;
  reason: string | null;
}

/** Who revealed whose address, when and why. */
export function Reveals() {
  const { t, formatTime } = useI18n();
  const [items, setItems] = useState<Reveal[]>([]);
  const { run, view } = useAction();
  useEffect(() => void run(async () => setItems((await get<{ items: Reveal[] }>('/compliance/reveals')).items)), [run]);
  return (
    <div className="stack">
      <h1>{t('compliance.reveals')}</h1>
      {view}
      {items.length === 0 ? (
        <p className="muted">{t('compliance.none')}</p>
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label={t('compliance.reveals')}>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{t('compliance.time')}</th>
                <th scope="col">{t('compliance.actor')}</th>
                <th scope="col">{t('compliance.target')}</th>
                <th scope="col">{t('compliance.reasonCol')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.seq}>
                  <td>{formatTime(r.at)}</td>
                  <td>{r.actor}</td>
                  <td>{r.label ?? '–'}</td>
                  <td>{r.reason ?? '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
