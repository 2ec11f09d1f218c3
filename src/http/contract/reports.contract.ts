import { z } from 'zod';
import { defineRoute } from './api-route.ts';

/** Team leads (admins) and the data protection officer (read only: the figures are content-free). */
export const REPORT_ROLES = ['admin', 'dpo'] as const;

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');

export const ReportQuerySchema = z
  .object({
    from: Day.optional().describe('first day, in the organisation time zone; default: 29 days before `to`'),
    to: Day.optional().describe('last day (included); default: today in the organisation time zone'),
    inbox: z.string().max(100).optional().describe('only this inbox'),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict();

const Durations = z.object({
  count: z.number().int(),
  medianSeconds: z.number().nullable(),
  averageSeconds: z.number().nullable(),
});
const Volume = { messagesIn: z.number().int(), messagesOut: z.number().int() };
const Csat = z
  .object({
    count: z.number().int(),
    average: z.number().nullable(),
    scores: z.array(z.number().int()).length(5).describe('answers with score 1, 2, 3, 4, 5'),
  })
  .describe('satisfaction answers (1-5) to the question after close: how many, their mean');
const Group = { ...Volume, firstResponse: Durations, resolution: Durations, csat: Csat };

export const TeamReportSchema = z.object({
  timeZone: z.string().describe('organisation.timeZone: days and hours are local to it'),
  from: z.string().describe('the first day reported (as asked, or the default period)'),
  to: z.string().describe('the last day reported'),
  totals: z.object(Group),
  byDay: z.array(z.object({ day: z.string(), ...Volume })),
  byHour: z.array(z.object({ hour: z.number().int(), ...Volume })),
  byChannel: z.array(z.object({ channelKind: z.string(), ...Volume })),
  byAgent: z.array(
    z.object({
      agentId: z.string(),
      name: z.string().nullable(),
      messagesOut: z.number().int(),
      firstResponse: Durations,
      resolution: Durations,
      csat: Csat,
    }),
  ),
  byTeam: z
    .array(z.object({ team: z.string(), inboxIds: z.array(z.string()), ...Group }))
    .describe('per team: the inboxes with the same `team` setting (an inbox without one is a team of its own)'),
  byInbox: z.array(z.object({ inboxId: z.string(), team: z.string(), ...Group })),
});

const tags = ['reports'];

export const reportsApi = {
  report: defineRoute({
    method: 'GET',
    url: '/api/v1/reports',
    summary:
      'Content-free team report for a period: volume by day, hour and channel, first-response and resolution times per ' +
      'agent, team and inbox, satisfaction scores, in the organisation time zone; ?format=csv for CSV (RFC 4180)',
    tags,
    roles: REPORT_ROLES,
    query: ReportQuerySchema,
    response: { description: 'the report', schema: TeamReportSchema },
  }),
  reportCsv: defineRoute({
    method: 'GET',
    url: '/api/v1/reports.csv',
    summary: 'The team report as CSV (RFC 4180)',
    tags,
    roles: REPORT_ROLES,
    query: ReportQuerySchema,
    response: { description: 'CSV', contentType: 'text/csv' },
  }),
};
