import { useEffect, useState } from 'react';
import { get } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { useAction } from '../shared/use-action.tsx';
import { query } from './compliance-fetch.ts';

interface Stats {
  conversations: { started: number; waitingForConsent: number; open: number; closed: number };
  messages: { inbound: number; staffReplies: number; automatic: number; notes: number };
  firstResponseMinutes: { conversations: number; median: number | null; p90: number | null };
  consent: { serviceGranted: number; serviceWithdrawn: number };
  erasures: { conversations: number; contacts: number };
  days: { day: string; conversations: number; inbound: number }[];
}

/** Content-free counts of a period: conversations, messages, first response, consent, erasures. */
export function Statistics() {
  const { t, formatNumber: count } = useI18n();
  const [days, setDays] = useState(30);
  const [stats, setStats] = useState<Stats | null>(null);
  const { run, view } = useAction();
  useEffect(
    () =>
      void run(async () => {
        const to = new Date();
        const from = new Date(to.getTime() - days * 86_400_000);
        setStats(await get<Stats>(`/statistics?${query({ from: from.toISOString(), to: to.toISOString() })}`));
      }),
    [days, run],
  );
  const minutes = (m: number | null) => (m === null ? '–' : t('compliance.statsMinutes', { m }));
  const max = Math.max(1, ...(stats?.days.map((d) => d.inbound) ?? [1]));
  return (
    <div className="stack">
      <h1>{t('compliance.statistics')}</h1>
      <p className="muted">{t('compliance.statsIntro')}</p>
      <p className="muted small">{t('compliance.statsCountersNote')}</p>
      {view}
      <label className="form-row">
        <span>{t('compliance.statsPeriodLabel')}</span>
        <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
          {[7, 30, 90, 365].map((n) => (
            <option key={n} value={n}>
              {t('compliance.statsPeriod', { n })}
            </option>
          ))}
        </select>
      </label>
      {stats ? (
        <>
          <dl className="facts">
            <dt>{t('compliance.statsStarted')}</dt>
            <dd>
              {count(stats.conversations.started)} ({t('compliance.statsOpen')} {count(stats.conversations.open)},{' '}
              {t('compliance.statsWaiting')} {count(stats.conversations.waitingForConsent)})
            </dd>
            <dt>{t('compliance.statsInbound')}</dt>
            <dd>{count(stats.messages.inbound)}</dd>
            <dt>{t('compliance.statsReplies')}</dt>
            <dd>{count(stats.messages.staffReplies)}</dd>
            <dt>{t('compliance.statsOther')}</dt>
            <dd>{count(stats.messages.automatic)}</dd>
            <dt>{t('compliance.statsFirstResponse')}</dt>
            <dd>
              {minutes(stats.firstResponseMinutes.median)} / {minutes(stats.firstResponseMinutes.p90)}
            </dd>
            <dt>{t('compliance.statsConsent')}</dt>
            <dd>
              {count(stats.consent.serviceGranted)} / {count(stats.consent.serviceWithdrawn)}
            </dd>
            <dt>{t('compliance.statsErased')}</dt>
            <dd>{count(stats.erasures.conversations)}</dd>
          </dl>
          <div className="table-wrap" tabIndex={0} role="region" aria-label={t('compliance.statistics')}>
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">{t('compliance.statsDay')}</th>
                  <th scope="col">{t('compliance.statsStarted')}</th>
                  <th scope="col">{t('compliance.statsInbound')}</th>
                </tr>
              </thead>
              <tbody>
                {stats.days
                  .filter((d) => d.inbound > 0 || d.conversations > 0)
                  .map((d) => (
                    <tr key={d.day}>
                      <td>{d.day}</td>
                      <td>{count(d.conversations)}</td>
                      <td>
                        <span
                          aria-hidden="true"
                          style={{
                            display: 'inline-block',
                            width: `${Math.round((d.inbound / max) * 120)}px`,
                            height: '0.7em',
                            background: 'currentColor',
                            opacity: 0.35,
                            marginRight: '0.5em',
                          }}
                        />
                        {count(d.inbound)}
                      </td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </div>
  );
}
