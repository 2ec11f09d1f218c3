import { useEffect, useState } from 'react';
import { get } from '../api.ts';
import { ContentReadsTable, type Reveal } from '../compliance/Reveals.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { useAction } from '../shared/use-action.tsx';

const RECENT_DAYS = 30;

/**
 * The admin's notice of content reads: every reveal of a real address and every subject access export (by the data
 * protection officer, or an admin allowed to reveal) with who, when and the stated reason. Shown on the admin start
 * page while there are reads in the last 30 days.
 */
export function ContentReads() {
  const { t } = useI18n();
  const [items, setItems] = useState<Reveal[]>([]);
  const { run, view } = useAction();
  useEffect(
    () => void run(async () => setItems((await get<{ items: Reveal[] }>('/compliance/reveals?limit=20')).items)),
    [run],
  );
  const since = Date.now() - RECENT_DAYS * 86_400_000;
  const recent = items.filter((r) => Date.parse(r.at) >= since);
  if (recent.length === 0) return view;
  return (
    <section className="card stack content-reads" aria-labelledby="content-reads-title" data-testid="content-reads">
      <h2 id="content-reads-title">{t('sec.readsTitle')}</h2>
      <p>{t('sec.readsNotice', { n: recent.length, days: RECENT_DAYS })}</p>
      {view}
      <ContentReadsTable items={recent} />
    </section>
  );
}
