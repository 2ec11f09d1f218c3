import type { AuditRecord } from '../privacy/audit/audit-log.ts';

export const AUDIT_CSV_HEADER = ['seq', 'at', 'actor', 'action', 'target_type', 'target_id', 'result', 'details'];

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A leading =, +, - or @ is prefixed with
 * an apostrophe so that a spreadsheet does not run it as a formula.
 */
export function csvField(value: string | number | null): string {
  let s = value === null ? '' : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function auditCsvLine(row: AuditRecord): string {
  return [
    row.seq,
    new Date(row.at).toISOString(),
    row.actor,
    row.action,
    row.target_type,
    row.target_id,
    row.result,
    row.details,
  ]
    .map(csvField)
    .join(',');
}

/** The audit entries as CSV with a header line, CRLF line ends (RFC 4180). */
export function auditCsv(rows: readonly AuditRecord[]): string {
  return [AUDIT_CSV_HEADER.join(','), ...rows.map(auditCsvLine)].join('\r\n') + '\r\n';
}
