import { escapeHtml } from './dsar-summary.ts';

/** A block of a generated compliance document; rendered to Markdown or HTML. */
export type DocBlock =
  | { type: 'h1' | 'h2' | 'h3'; text: string }
  | { type: 'p'; text: string }
  /** Something the reader must fix before the document is used (a placeholder controller): shown framed, in red. */
  | { type: 'warning'; text: string }
  | { type: 'ul'; items: string[] }
  | { type: 'table'; head: string[]; rows: string[][] };

export interface ComplianceDocument {
  title: string;
  language: 'de' | 'en';
  blocks: DocBlock[];
}

const mdCell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Markdown (CommonMark with GFM tables). */
export function renderMarkdown(doc: ComplianceDocument): string {
  const out: string[] = [];
  for (const b of doc.blocks) {
    switch (b.type) {
      case 'h1':
        out.push(`# ${b.text}`);
        break;
      case 'h2':
        out.push(`## ${b.text}`);
        break;
      case 'h3':
        out.push(`### ${b.text}`);
        break;
      case 'p':
        out.push(b.text);
        break;
      case 'warning':
        out.push(`> **${b.text}**`);
        break;
      case 'ul':
        out.push(b.items.map((i) => `- ${i}`).join('\n'));
        break;
      case 'table':
        out.push(
          [
            `| ${b.head.map(mdCell).join(' | ')} |`,
            `| ${b.head.map(() => '---').join(' | ')} |`,
            ...b.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`),
          ].join('\n'),
        );
        break;
    }
  }
  return `${out.join('\n\n')}\n`;
}

/** A self-contained HTML page (printable on A4). */
export function renderHtml(doc: ComplianceDocument): string {
  const e = escapeHtml;
  const body = doc.blocks.map((b) => {
    switch (b.type) {
      case 'h1':
      case 'h2':
      case 'h3':
        return `<${b.type}>${e(b.text)}</${b.type}>`;
      case 'p':
        return `<p>${e(b.text)}</p>`;
      case 'warning':
        return `<p class="warning" role="note"><strong>${e(b.text)}</strong></p>`;
      case 'ul':
        return `<ul>${b.items.map((i) => `<li>${e(i)}</li>`).join('')}</ul>`;
      case 'table':
        return (
          `<table><thead><tr>${b.head.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>` +
          b.rows.map((r) => `<tr>${r.map((c) => `<td>${e(c)}</td>`).join('')}</tr>`).join('') +
          '</tbody></table>'
        );
    }
  });
  return (
    `<!doctype html><html lang="${doc.language}"><head><meta charset="utf-8"><title>${e(doc.title)}</title>` +
    '<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;' +
    'line-height:1.45}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;' +
    'padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f3f3f3}.warning{border:2px solid #b00020;' +
    'color:#b00020;padding:.6rem .8rem}@media print{body{margin:0}@page{size:A4}}</style>' +
    `</head><body>\n${body.join('\n')}\n</body></html>\n`
  );
}
