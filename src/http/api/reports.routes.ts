import type { FastifyInstance, FastifyReply } from 'fastify';
import { reportCsv, type ReportService, type TeamReport } from '../../core/reports/report.service.ts';
import type { RouteModule } from '../app.ts';
import type { Authenticator } from '../auth/principal.ts';
import { reportsApi as api } from '../contract/reports.contract.ts';
import { parseNamed, registerRoute } from './contract-route.ts';
import type { OpenApiRegistry } from './openapi.ts';

function sendCsv(reply: FastifyReply, report: TeamReport): FastifyReply {
  return reply
    .type('text/csv; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-disposition', `attachment; filename="sparsam-report-${report.from}-${report.to}.csv"`)
    .send(reportCsv(report));
}

/** GET /api/v1/reports (JSON, or CSV with ?format=csv) and GET /api/v1/reports.csv. */
export function reportRoutes(deps: {
  reports: ReportService;
  authenticate: Authenticator;
  docs?: OpenApiRegistry;
}): RouteModule {
  deps.docs?.addAll(api);
  return (app: FastifyInstance) => {
    const options = { authenticate: deps.authenticate, parse: parseNamed };
    registerRoute(app, api.report, options, async ({ query }, _request, reply) => {
      const report = await deps.reports.report({ from: query.from, to: query.to, inboxId: query.inbox });
      return query.format === 'csv' ? sendCsv(reply, report) : report;
    });
    registerRoute(app, api.reportCsv, options, async ({ query }, _request, reply) =>
      sendCsv(reply, await deps.reports.report({ from: query.from, to: query.to, inboxId: query.inbox })),
    );
  };
}
