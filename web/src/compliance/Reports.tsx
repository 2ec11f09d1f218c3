import { useEffect, useMemo, useRef, useState } from 'react';
import { get, type TeamReport } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { useAction } from '../shared/use-action.tsx';
import { ReportChart } from './ReportChart.tsx';

const IN_COLOR = '#2f6fb0';
const OUT_COLOR = '#3a9a6a';
const CSAT_COLOR = '#c98a14';

/** The day `days` after `day` (both YYYY-MM-DD; calendar days, no time zone involved). */
function addDays(day: string, days: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** Today in the organisation's time zone (the report's days are local to it, not to this browser). */
function todayIn(timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(),
  );
}

type Csat = TeamReport['totals']['csat'];

/**
 * Content-free team report: volume by day, hour and channel, response and resolution times and satisfaction per
 * agent, team and inbox.
 */
export function Reports() {
  const { t, lang, formatNumber: count, formatDuration } = useI18n();
  const csat = (c: Csat) =>
    c.average === null
      ? '–'
      : `${c.average.toLocaleString(lang === 'de' ? 'de-DE' : 'en-GB', { minimumFractionDigits: 1 })} (${count(c.count)})`;
  // Empty until the first report arrives: the server's default period ends today in the organisation's time zone,
  // which a browser elsewhere (or just past midnight in another zone) would get wrong.
  const [to, setTo] = useState('');
  const [from, setFrom] = useState('');
  const [report, setReport] = useState<TeamReport | null>(null);
  const { run, view } = useAction();
  const query = from && to ? new URLSearchParams({ from, to }).toString() : '';
  // The period the shown report was fetched for: taking over the default period fetches nothing again.
  const shown = useRef<string | null>(null);
  useEffect(() => {
    // Without a period only at the first load (the server's default); a field emptied later asks for nothing.
    if (query ? shown.current === query || from > to : shown.current !== null) return;
    void run(async () => {
      const next = await get<TeamReport>(query ? `/reports?${query}` : '/reports');
      setReport(next);
      if (query) {
        shown.current = query;
        return;
      }
      shown.current = new URLSearchParams({ from: next.from, to: next.to }).toString();
      setFrom(next.from);
      setTo(next.to);
    });
  }, [query, from, to, run]);

  const preset = (days: number) => {
    if (!report) return;
    const today = todayIn(report.timeZone);
    setTo(today);
    setFrom(addDays(today, 1 - days));
  };
  const seconds = (s: number | null) => (s === null ? '–' : formatDuration(s * 1000));
  const show: Show = { t, count, seconds, csat };
  const volume = (r: TeamReport, rows: { messagesIn: number; messagesOut: number }[]) => [
    { label: t('reports.in'), values: rows.map((x) => x.messagesIn), color: IN_COLOR },
    { label: t('reports.out'), values: rows.map((x) => x.messagesOut), color: OUT_COLOR },
  ];
  const charts = useMemo(() => {
    if (!report) return null;
    return {
      days: { labels: report.byDay.map((d) => d.day.slice(5)), series: volume(report, report.byDay) },
      hours: {
        labels: report.byHour.map((h) => String(h.hour).padStart(2, '0')),
        series: volume(report, report.byHour),
      },
      channels: { labels: report.byChannel.map((c) => c.channelKind), series: volume(report, report.byChannel) },
      scores: {
        labels: ['1', '2', '3', '4', '5'],
        series: [{ label: t('reports.answers'), values: report.totals.csat.scores, color: CSAT_COLOR }],
      },
    };
  }, [report]);

  return (
    <div className="stack reports">
      <h1>{t('reports.title')}</h1>
      <p className="muted">{t('reports.intro')}</p>
      <div className="report-period">
        <label className="form-row">
          <span>{t('reports.from')}</span>
          <input type="date" value={from} max={to} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label className="form-row">
          <span>{t('reports.to')}</span>
          <input type="date" value={to} min={from} onChange={(e) => setTo(e.target.value)} />
        </label>
        <div className="report-presets">
          {[7, 30, 90].map((n) => (
            <button key={n} type="button" className="btn" onClick={() => preset(n)}>
              {t('compliance.statsPeriod', { n })}
            </button>
          ))}
          <a className="btn" href={`/api/v1/reports.csv?${query}`} download>
            {t('reports.csv')}
          </a>
        </div>
      </div>
      {view}
      {report && charts && (
        <>
          <p className="muted small">{t('reports.timeZone', { zone: report.timeZone })}</p>
          <dl className="facts">
            <dt>{t('reports.in')}</dt>
            <dd>{count(report.totals.messagesIn)}</dd>
            <dt>{t('reports.out')}</dt>
            <dd>{count(report.totals.messagesOut)}</dd>
            <dt>{t('reports.firstResponse')}</dt>
            <dd>
              {seconds(report.totals.firstResponse.medianSeconds)} ({count(report.totals.firstResponse.count)})
            </dd>
            <dt>{t('reports.resolution')}</dt>
            <dd>
              {seconds(report.totals.resolution.medianSeconds)} ({count(report.totals.resolution.count)})
            </dd>
            <dt>{t('reports.csat')}</dt>
            <dd data-testid="report-csat">{csat(report.totals.csat)}</dd>
          </dl>
          <div className="report-charts">
            <ReportChart title={t('reports.byDay')} {...charts.days} />
            <ReportChart title={t('reports.byHour')} {...charts.hours} />
            <ReportChart title={t('reports.byChannel')} {...charts.channels} />
            {report.totals.csat.count > 0 && <ReportChart title={t('reports.byScore')} {...charts.scores} />}
          </div>
          <h2>{t('reports.agents')}</h2>
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th>{t('reports.agent')}</th>
                  <th>{t('reports.out')}</th>
                  <th>{t('reports.firstResponse')}</th>
                  <th>{t('reports.resolution')}</th>
                  <th>{t('reports.csat')}</th>
                </tr>
              </thead>
              <tbody>
                {report.byAgent.map((a) => (
                  <tr key={a.agentId}>
                    <td>{a.name ?? t('reports.formerAgent')}</td>
                    <td>{count(a.messagesOut)}</td>
                    <td>{seconds(a.firstResponse.medianSeconds)}</td>
                    <td>
                      {seconds(a.resolution.medianSeconds)} ({count(a.resolution.count)})
                    </td>
                    <td>{csat(a.csat)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <GroupTable
            title={t('reports.teams')}
            testId="report-teams"
            heads={[t('reports.team'), t('reports.inboxes')]}
            rows={report.byTeam.map((g) => ({ key: g.team, cells: [g.team, g.inboxIds.join(', ')], group: g }))}
            show={show}
          />
          <GroupTable
            title={t('reports.inboxes')}
            heads={[t('reports.inbox'), t('reports.team')]}
            rows={report.byInbox.map((i) => ({ key: i.inboxId, cells: [i.inboxId, i.team], group: i }))}
            show={show}
          />
          <p className="muted small">{t('reports.note')}</p>
        </>
      )}
    </div>
  );
}

type Group = TeamReport['byInbox'][number];

/** How the report's figures are written (numbers, durations, satisfaction), shared by its tables. */
interface Show {
  t: ReturnType<typeof useI18n>['t'];
  count(n: number): string;
  seconds(s: number | null): string;
  csat(c: Csat): string;
}

/** One table of groups (teams, inboxes): two naming columns, then volume, times and satisfaction. */
function GroupTable(props: {
  title: string;
  testId?: string;
  heads: [string, string];
  rows: {
    key: string;
    cells: [string, string];
    group: Pick<Group, 'messagesIn' | 'messagesOut' | 'firstResponse' | 'resolution' | 'csat'>;
  }[];
  show: Show;
}) {
  const { t, count, seconds, csat } = props.show;
  return (
    <>
      <h2>{props.title}</h2>
      <div className="table-wrap">
        <table className="table" data-testid={props.testId}>
          <thead>
            <tr>
              <th>{props.heads[0]}</th>
              <th>{props.heads[1]}</th>
              <th>{t('reports.in')}</th>
              <th>{t('reports.out')}</th>
              <th>{t('reports.firstResponse')}</th>
              <th>{t('reports.resolution')}</th>
              <th>{t('reports.csat')}</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map(({ key, cells, group: g }) => (
              <tr key={key}>
                <td>{cells[0]}</td>
                <td>{cells[1]}</td>
                <td>{count(g.messagesIn)}</td>
                <td>{count(g.messagesOut)}</td>
                <td>{seconds(g.firstResponse.medianSeconds)}</td>
                <td>
                  {seconds(g.resolution.medianSeconds)} ({count(g.resolution.count)})
                </td>
                <td>{csat(g.csat)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
