import { AppError } from '../../shared/app-error.ts';
import type { ReportFact, ReportFactPort } from '../ports/report.port.ts';

const DAY_MS = 86_400_000;
/** Longest period one report covers. */
export const MAX_REPORT_DAYS = 366;

export interface ReportDeps {
  facts: ReportFactPort;
  /** The display name of a staff member, undefined when the account is gone. */
  nameOf: (userId: string) => Promise<string | undefined>;
  timeZone: string;
}

export interface DurationFigures {
  count: number;
  /** Median and mean in seconds; null without any. */
  medianSeconds: number | null;
  averageSeconds: number | null;
}

export interface TeamReport {
  timeZone: string;
  from: string;
  to: string;
  totals: { messagesIn: number; messagesOut: number; firstResponse: DurationFigures; resolution: DurationFigures };
  byDay: { day: string; messagesIn: number; messagesOut: number }[];
  byHour: { hour: number; messagesIn: number; messagesOut: number }[];
  byChannel: { channelKind: string; messagesIn: number; messagesOut: number }[];
  byAgent: {
    agentId: string;
    name: string | null;
    messagesOut: number;
    firstResponse: DurationFigures;
    resolution: DurationFigures;
  }[];
  byInbox: {
    inboxId: string;
    messagesIn: number;
    messagesOut: number;
    firstResponse: DurationFigures;
    resolution: DurationFigures;
  }[];
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
 * leaves them): volume by day, hour of day and channel kind, first-response and resolution times per agent and
 * inbox, in the organisation's time zone.
 */
export class ReportService {
  constructor(private readonly deps: ReportDeps) {}

  async report(period: { from: string; to: string; inboxId?: string }): Promise<TeamReport> {
    const zone = new ZoneClock(this.deps.timeZone);
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
    type Group = { messagesIn: number; messagesOut: number; first: number[]; resolution: number[] };
    const agents = new Map<string, Group>();
    const inboxes = new Map<string, Group>();
    const all: Group = { messagesIn: 0, messagesOut: 0, first: [], resolution: [] };
    const group = (map: Map<string, Group>, key: string): Group => {
      let g = map.get(key);
      if (!g) map.set(key, (g = { messagesIn: 0, messagesOut: 0, first: [], resolution: [] }));
      return g;
    };
    for (const f of facts) {
      const targets = [all, group(inboxes, f.inboxId), ...(f.agentId ? [group(agents, f.agentId)] : [])];
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
      });
    }
    byAgent.sort((a, b) => b.messagesOut - a.messagesOut || a.agentId.localeCompare(b.agentId));
    return {
      timeZone: this.deps.timeZone,
      from: period.from,
      to: period.to,
      totals: {
        messagesIn: all.messagesIn,
        messagesOut: all.messagesOut,
        firstResponse: durations(all.first),
        resolution: durations(all.resolution),
      },
      byDay: [...days].map(([day, v]) => ({ day, ...v })),
      byHour: hours,
      byChannel: [...channels]
        .map(([channelKind, v]) => ({ channelKind, ...v }))
        .sort((a, b) => a.channelKind.localeCompare(b.channelKind)),
      byAgent,
      byInbox: [...inboxes]
        .map(([inboxId, g]) => ({
          inboxId,
          messagesIn: g.messagesIn,
          messagesOut: g.messagesOut,
          firstResponse: durations(g.first),
          resolution: durations(g.resolution),
        }))
        .sort((a, b) => a.inboxId.localeCompare(b.inboxId)),
    };
  }
}

function count(
  f: ReportFact,
  groups: { messagesIn: number; messagesOut: number; first: number[]; resolution: number[] }[],
) {
  for (const g of groups) {
    if (f.kind === 'message_in') g.messagesIn += 1;
    else if (f.kind === 'message_out') g.messagesOut += 1;
    else if (f.kind === 'first_response' && f.durationMs !== null) g.first.push(f.durationMs);
    else if (f.kind === 'resolution' && f.durationMs !== null) g.resolution.push(f.durationMs);
  }
}

function nextDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

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
  ];
  const rows: (string | number | null)[][] = [head];
  const none = [null, null, null, null, null, null];
  const times = (first: DurationFigures, resolution: DurationFigures) => [
    first.count,
    first.medianSeconds,
    first.averageSeconds,
    resolution.count,
    resolution.medianSeconds,
    resolution.averageSeconds,
  ];
  rows.push([
    'total',
    `${r.from}..${r.to}`,
    r.timeZone,
    r.totals.messagesIn,
    r.totals.messagesOut,
    ...times(r.totals.firstResponse, r.totals.resolution),
  ]);
  for (const d of r.byDay) rows.push(['day', d.day, null, d.messagesIn, d.messagesOut, ...none]);
  for (const h of r.byHour)
    rows.push(['hour', String(h.hour).padStart(2, '0'), null, h.messagesIn, h.messagesOut, ...none]);
  for (const c of r.byChannel) rows.push(['channel', c.channelKind, null, c.messagesIn, c.messagesOut, ...none]);
  for (const a of r.byAgent)
    rows.push(['agent', a.agentId, a.name, null, a.messagesOut, ...times(a.firstResponse, a.resolution)]);
  for (const i of r.byInbox)
    rows.push(['inbox', i.inboxId, null, i.messagesIn, i.messagesOut, ...times(i.firstResponse, i.resolution)]);
  return rows.map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}
