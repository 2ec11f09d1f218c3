import { AppError } from '../../shared/app-error.ts';
import type { ReportFact, ReportFactPort } from '../ports/report.port.ts';
import type { Clock } from '../../shared/clock.ts';

const DAY_MS = 86_400_000;
/** Longest period one report covers. */
export const MAX_REPORT_DAYS = 366;
/** The period a report covers when none is asked for: this many days, today (in the organisation's zone) the last. */
export const DEFAULT_REPORT_DAYS = 30;

export interface ReportDeps {
  facts: ReportFactPort;
  /** The display name of a staff member, undefined when the account is gone. */
  nameOf: (userId: string) => Promise<string | undefined>;
  /** The team an inbox belongs to now (its `team` setting, else its id): figures follow the inbox. */
  teamOf: (inboxId: string) => Promise<string>;
  timeZone: string;
  /** Now, for the default period (the last {@link DEFAULT_REPORT_DAYS} days up to today in `timeZone`). */
  clock: Clock;
}

export interface DurationFigures {
  count: number;
  /** Median and mean in seconds; null without any. */
  medianSeconds: number | null;
  averageSeconds: number | null;
}

/** Satisfaction scores (1-5): how many answers, their mean (two decimals; null without any) and count per score. */
export interface CsatFigures {
  count: number;
  average: number | null;
  /** Answers with score 1, 2, 3, 4, 5. */
  scores: [number, number, number, number, number];
}

/** Figures of one group of conversations' work (an inbox, a team). */
export interface GroupFigures {
  messagesIn: number;
  messagesOut: number;
  firstResponse: DurationFigures;
  resolution: DurationFigures;
  csat: CsatFigures;
}

export interface TeamReport {
  timeZone: string;
  from: string;
  to: string;
  totals: GroupFigures;
  byDay: { day: string; messagesIn: number; messagesOut: number }[];
  byHour: { hour: number; messagesIn: number; messagesOut: number }[];
  byChannel: { channelKind: string; messagesIn: number; messagesOut: number }[];
  byAgent: {
    agentId: string;
    name: string | null;
    messagesOut: number;
    firstResponse: DurationFigures;
    resolution: DurationFigures;
    csat: CsatFigures;
  }[];
  byTeam: ({ team: string; inboxIds: string[] } & GroupFigures)[];
  byInbox: ({ inboxId: string; team: string } & GroupFigures)[];
}

function csatFigures(scores: number[]): CsatFigures {
  const counts: CsatFigures['scores'] = [0, 0, 0, 0, 0];
  for (const s of scores) if (s >= 1 && s <= 5) counts[s - 1]! += 1;
  const valid = scores.filter((s) => s >= 1 && s <= 5);
  const average = valid.length ? Math.round((valid.reduce((a, b) => a + b, 0) / valid.length) * 100) / 100 : null;
  return { count: valid.length, average, scores: counts };
}

function durations(values: number[]): DurationFigures {
  if (values.length === 0) return { count: 0, medianSeconds: null, averageSeconds: null };
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { count: s.length, medianSeconds: Math.round(median / 1000), averageSeconds: Math.round(mean / 1000) };
}

/** Local calendar date and hour of an instant in a time zone. */
export class ZoneClock {
  readonly #format: Intl.DateTimeFormat;
  readonly #cache = new Map<number, { day: string; hour: number }>();
  constructor(timeZone: string) {
    this.#format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      hourCycle: 'h23',
    });
  }
  /** Zone offsets are whole quarter hours: one formatting per quarter hour is enough. */
  local(at: number): { day: string; hour: number } {
    const slot = Math.floor(at / 900_000);
    let hit = this.#cache.get(slot);
    if (!hit) {
      const parts = Object.fromEntries(
        this.#format.formatToParts(new Date(slot * 900_000)).map((p) => [p.type, p.value]),
      );
      hit = { day: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour) % 24 };
      this.#cache.set(slot, hit);
    }
    return hit;
  }
  /** The instant the local day of `at` began (satisfaction scores are kept to the day). */
  dayStart(at: number): number {
    return this.startOf(this.local(at).day);
  }
  /** The instant the local day `day` (YYYY-MM-DD) begins. */
  startOf(day: string): number {
    const [y, m, d] = day.split('-').map(Number) as [number, number, number];
    let guess = Date.UTC(y, m - 1, d);
    // Move by the zone's offset until local midnight of that day is reached (two steps cover DST changes).
    for (let i = 0; i < 3; i++) {
      const local = this.local(guess);
      const [ly, lm, ld] = local.day.split('-').map(Number) as [number, number, number];
      const localAsUtc = Date.UTC(ly, lm - 1, ld, local.hour) + (guess % 3_600_000);
      guess -= localAsUtc - Date.UTC(y, m - 1, d);
    }
    return guess;
  }
}

/**
 * Reports for team leads from the content-free `report_facts` (never from messages or conversations, so erasure
 * leaves them): volume by day, hour of day and channel kind, first-response and resolution times and satisfaction
 * scores per agent, team and inbox, in the organisation's time zone.
 */
export class ReportService {
  constructor(private readonly deps: ReportDeps) {}

  /**
   * The report of the days `from` to `to` (included, local days of the organisation's time zone); without them the
   * last {@link DEFAULT_REPORT_DAYS} days up to today there, whatever zone the asking browser is in.
   */
  async report(asked: { from?: string; to?: string; inboxId?: string }): Promise<TeamReport> {
    const zone = new ZoneClock(this.deps.timeZone);
    const to = asked.to ?? zone.local(this.deps.clock.now().getTime()).day;
    const period = { from: asked.from ?? addDays(to, 1 - DEFAULT_REPORT_DAYS), to, inboxId: asked.inboxId };
    const start = zone.startOf(period.from);
    const end = zone.startOf(nextDay(period.to));
    if (end <= start) throw new AppError('VALIDATION', 'the period ends before it begins', { field: 'to' });
    if (end - start > (MAX_REPORT_DAYS + 1) * DAY_MS) {
      throw new AppError('VALIDATION', `a report covers at most ${MAX_REPORT_DAYS} days`, { field: 'from' });
    }
    const facts = await this.deps.facts.list(start, end, period.inboxId);
    const days = new Map<string, { messagesIn: number; messagesOut: number }>();
    for (let day = period.from; day <= period.to; day = nextDay(day)) days.set(day, { messagesIn: 0, messagesOut: 0 });
    const hours = Array.from({ length: 24 }, (_, hour) => ({ hour, messagesIn: 0, messagesOut: 0 }));
    const channels = new Map<string, { messagesIn: number; messagesOut: number }>();
    const agents = new Map<string, Group>();
    const inboxes = new Map<string, Group>();
    const teams = new Map<string, Group>();
    const teamOf = new Map<string, string>();
    const all = newGroup();
    const group = (map: Map<string, Group>, key: string): Group => {
      let g = map.get(key);
      if (!g) map.set(key, (g = newGroup()));
      return g;
    };
    for (const f of facts) {
      let team = teamOf.get(f.inboxId);
      if (team === undefined) teamOf.set(f.inboxId, (team = await this.deps.teamOf(f.inboxId)));
      const targets = [
        all,
        group(inboxes, f.inboxId),
        group(teams, team),
        ...(f.agentId ? [group(agents, f.agentId)] : []),
      ];
      count(f, targets);
      if (f.kind !== 'message_in' && f.kind !== 'message_out') continue;
      const { day, hour } = zone.local(f.at);
      const field = f.kind === 'message_in' ? 'messagesIn' : 'messagesOut';
      const d = days.get(day);
      if (d) d[field] += 1;
      hours[hour]![field] += 1;
      const c = channels.get(f.channelKind) ?? { messagesIn: 0, messagesOut: 0 };
      c[field] += 1;
      channels.set(f.channelKind, c);
    }
    const byAgent: TeamReport['byAgent'] = [];
    for (const [agentId, g] of agents) {
      byAgent.push({
        agentId,
        name: (await this.deps.nameOf(agentId)) ?? null,
        messagesOut: g.messagesOut,
        firstResponse: durations(g.first),
        resolution: durations(g.resolution),
        csat: csatFigures(g.scores),
      });
    }
    byAgent.sort((a, b) => b.messagesOut - a.messagesOut || a.agentId.localeCompare(b.agentId));
    return {
      timeZone: this.deps.timeZone,
      from: period.from,
      to: period.to,
      totals: figures(all),
      byDay: [...days].map(([day, v]) => ({ day, ...v })),
      byHour: hours,
      byChannel: [...channels]
        .map(([channelKind, v]) => ({ channelKind, ...v }))
        .sort((a, b) => a.channelKind.localeCompare(b.channelKind)),
      byAgent,
      byTeam: [...teams]
        .map(([team, g]) => ({
          team,
          inboxIds: [...teamOf]
            .filter(([, t]) => t === team)
            .map(([id]) => id)
            .sort(),
          ...figures(g),
        }))
        .sort((a, b) => a.team.localeCompare(b.team)),
      byInbox: [...inboxes]
        .map(([inboxId, g]) => ({ inboxId, team: teamOf.get(inboxId)!, ...figures(g) }))
        .sort((a, b) => a.inboxId.localeCompare(b.inboxId)),
    };
  }
}

type Group = { messagesIn: number; messagesOut: number; first: number[]; resolution: number[]; scores: number[] };

const newGroup = (): Group => ({ messagesIn: 0, messagesOut: 0, first: [], resolution: [], scores: [] });

const figures = (g: Group): GroupFigures => ({
  messagesIn: g.messagesIn,
  messagesOut: g.messagesOut,
  firstResponse: durations(g.first),
  resolution: durations(g.resolution),
  csat: csatFigures(g.scores),
});

function count(f: ReportFact, groups: Group[]) {
  for (const g of groups) {
    if (f.kind === 'message_in') g.messagesIn += 1;
    else if (f.kind === 'message_out') g.messagesOut += 1;
    else if (f.kind === 'first_response' && f.durationMs !== null) g.first.push(f.durationMs);
    else if (f.kind === 'resolution' && f.durationMs !== null) g.resolution.push(f.durationMs);
    else if (f.kind === 'csat' && f.score !== null) g.scores.push(f.score);
  }
}

function addDays(day: string, days: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

const nextDay = (day: string): string => addDays(day, 1);

const cell = (v: string | number | null): string => {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** The report as CSV (RFC 4180): one row per bucket, the section in the first column. */
export function reportCsv(r: TeamReport): string {
  const head = [
    'section',
    'key',
    'name',
    'messages_in',
    'messages_out',
    'first_responses',
    'first_response_median_s',
    'first_response_avg_s',
    'resolved',
    'resolution_median_s',
    'resolution_avg_s',
    'csat_answers',
    'csat_avg',
  ];
  const rows: (string | number | null)[][] = [head];
  const none = [null, null, null, null, null, null, null, null];
  const times = (first: DurationFigures, resolution: DurationFigures, csat: CsatFigures) => [
    first.count,
    first.medianSeconds,
    first.averageSeconds,
    resolution.count,
    resolution.medianSeconds,
    resolution.averageSeconds,
    csat.count,
    csat.average,
  ];
  rows.push([
    'total',
    `${r.from}..${r.to}`,
    r.timeZone,
    r.totals.messagesIn,
    r.totals.messagesOut,
    ...times(r.totals.firstResponse, r.totals.resolution, r.totals.csat),
  ]);
  for (const d of r.byDay) rows.push(['day', d.day, null, d.messagesIn, d.messagesOut, ...none]);
  for (const h of r.byHour)
    rows.push(['hour', String(h.hour).padStart(2, '0'), null, h.messagesIn, h.messagesOut, ...none]);
  for (const c of r.byChannel) rows.push(['channel', c.channelKind, null, c.messagesIn, c.messagesOut, ...none]);
  for (const a of r.byAgent)
    rows.push(['agent', a.agentId, a.name, null, a.messagesOut, ...times(a.firstResponse, a.resolution, a.csat)]);
  for (const t of r.byTeam)
    rows.push(['team', t.team, null, t.messagesIn, t.messagesOut, ...times(t.firstResponse, t.resolution, t.csat)]);
  for (const i of r.byInbox) {
    const { firstResponse, resolution, csat } = i;
    rows.push(['inbox', i.inboxId, i.team, i.messagesIn, i.messagesOut, ...times(firstResponse, resolution, csat)]);
  }
  return rows.map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}
