import { useEffect, useState } from 'react';
import { get } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { useAction } from '../shared/use-action.tsx';

export interface Reveal {
  kind: 'reveal' | 'export';
  seq: number;
  at: string;
  actor: string;
  actorName: string | null;
  label: string | null;
  reason: string | null;
}

/** Who read personal content outside the inbox (revealed an address, exported a person's data), when and why. */
export function Reveals() {
  const { t } = useI18n();
  const [items, setItems] = useState<Reveal[]>([]);
  const { run, view } = useAction();
  useEffect(() => void run(async () => setItems((await get<{ items: Reveal[] }>('/compliance/reveals')).items)), [run]);
  return (
    <div className="stack">
      <h1>{t('compliance.reveals')}</h1>
      <p className="muted">{t('sec.readsIntro')}</p>
      {view}
      <ContentReadsTable items={items} />
    </div>
  );
}

/** The table of content reads (reveals and exports), shared by the DPO's list and the admin's notice. */
export function ContentReadsTable({ items }: { items: Reveal[] }) {
  const { t, formatDateTime } = useI18n();
  return (
    <>
      {items.length === 0 ? (
        <p className="muted">{t('compliance.none')}</p>
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label={t('compliance.reveals')}>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{t('compliance.time')}</th>
                <th scope="col">{t('compliance.actor')}</th>
                <th scope="col">{t('sec.readKind')}</th>
                <th scope="col">{t('compliance.target')}</th>
                <th scope="col">{t('compliance.reasonCol')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.seq}>
                  <td>{formatDateTime(r.at)}</td>
                  <td>{r.actorName ?? r.actor}</td>
                  <td>{r.kind === 'export' ? t('sec.readExport') : t('sec.readReveal')}</td>
                  <td>{r.label ?? '–'}</td>
                  <td>{r.reason ?? '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
