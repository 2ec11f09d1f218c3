import PDFDocument from 'pdfkit';
import type { ComplianceDocument, DocBlock } from './document.ts';

/** A4 in PDF points (1/72 inch): 210 × 297 mm. */
export const A4 = { width: 595.28, height: 841.89 } as const;
const MARGIN = 56; // 2 cm
const CONTENT_WIDTH = A4.width - 2 * MARGIN;
const FONT = 'Helvetica';
const BOLD = 'Helvetica-Bold';
const WARNING_RED = '#b00020';

/**
 * The characters the PDF standard fonts can show (WinAnsiEncoding: Latin-1 plus „“‚‘”’–—…€•™ and a few more). The
 * documents are German or English text from sparsam and the configuration, which stays inside this set; anything else
 * (an emoji in an organisation's name) is printed as "?" rather than as a wrong glyph.
 */
const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
function printable(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFC')) {
    const code = ch.codePointAt(0)!;
    if (ch === '\n' || (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRA.has(ch)) {
      out += ch;
    } else if (ch === '→') out += '->';
    else if (ch === '\u2011' || ch === '\u2010') out += '-';
    else if (ch === '\u202f' || ch === '\u2009') out += ' ';
    else out += '?';
  }
  return out;
}

/**
 * Typesets a compliance document (record of processing, privacy notice) as an A4 PDF with PDFKit: headings,
 * paragraphs, lists, tables with repeated borders across pages, and warnings in a red frame. Pure JavaScript, no
 * browser at run time. The documents hold no personal data; nothing is written to disk.
 */
export function renderPdf(doc: ComplianceDocument): Promise<Buffer> {
  const pdf = new PDFDocument({
    size: 'A4',
    margins: { top: MARGIN, bottom: MARGIN, left: MARGIN, right: MARGIN },
    lang: doc.language === 'de' ? 'de-DE' : 'en-GB',
    displayTitle: true,
    info: { Title: printable(doc.title), Creator: 'sparsam', Producer: 'sparsam' },
    bufferPages: true,
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  for (const block of doc.blocks) drawBlock(pdf, block);
  pageNumbers(pdf, doc.language);
  pdf.end();
  return done;
}

type Pdf = InstanceType<typeof PDFDocument>;

function bottom(pdf: Pdf): number {
  return pdf.page.height - pdf.page.margins.bottom;
}

/** Starts a new page when less than `height` points are left on this one. */
function keepRoom(pdf: Pdf, height: number): void {
  if (pdf.y + height > bottom(pdf)) pdf.addPage();
}

function drawBlock(pdf: Pdf, block: DocBlock): void {
  const x = MARGIN;
  switch (block.type) {
    case 'h1':
      pdf.font(BOLD).fontSize(17);
      keepRoom(pdf, 60);
      pdf.text(printable(block.text), x, pdf.y, { width: CONTENT_WIDTH });
      pdf.moveDown(0.6);
      return;
    case 'h2':
    case 'h3': {
      const size = block.type === 'h2' ? 13.5 : 11.5;
      pdf.moveDown(block.type === 'h2' ? 0.7 : 0.4);
      pdf.font(BOLD).fontSize(size);
      // A heading never ends a page alone: keep room for it and two lines after it.
      keepRoom(pdf, pdf.heightOfString(printable(block.text), { width: CONTENT_WIDTH }) + 30);
      pdf.text(printable(block.text), x, pdf.y, { width: CONTENT_WIDTH });
      pdf.moveDown(0.3);
      return;
    }
    case 'p':
      pdf.font(FONT).fontSize(10);
      pdf.text(printable(block.text), x, pdf.y, { width: CONTENT_WIDTH, lineGap: 1.5 });
      pdf.moveDown(0.5);
      return;
    case 'ul':
      pdf.font(FONT).fontSize(10);
      for (const item of block.items) {
        keepRoom(pdf, 14);
        const top = pdf.y;
        pdf.text('•', x + 4, top, { width: 10 });
        pdf.text(printable(item), x + 16, top, { width: CONTENT_WIDTH - 16, lineGap: 1.5 });
        pdf.moveDown(0.2);
      }
      pdf.moveDown(0.4);
      return;
    case 'warning': {
      pdf.font(BOLD).fontSize(10);
      const text = printable(block.text);
      const height = pdf.heightOfString(text, { width: CONTENT_WIDTH - 20, lineGap: 1.5 }) + 16;
      keepRoom(pdf, height);
      const top = pdf.y;
      pdf.save().lineWidth(1.5).strokeColor(WARNING_RED).rect(x, top, CONTENT_WIDTH, height).stroke().restore();
      pdf.fillColor(WARNING_RED).text(text, x + 10, top + 8, { width: CONTENT_WIDTH - 20, lineGap: 1.5 });
      pdf.fillColor('black');
      pdf.y = top + height;
      pdf.moveDown(0.6);
      return;
    }
    case 'table':
      drawTable(pdf, block.head, block.rows);
      return;
  }
}

/**
 * Column widths: each column at least as wide as its longest word (so no word breaks inside), the rest of the width
 * shared by how much text each column holds.
 */
function columnWidths(pdf: Pdf, head: string[], rows: string[][], pad: number): number[] {
  const longestWord = (texts: string[], font: string) => {
    pdf.font(font).fontSize(9);
    const words = texts.flatMap((t) => printable(t).split(/\s+/));
    return Math.max(0, ...words.map((w) => pdf.widthOfString(w))) + 2 * pad + 1;
  };
  const cap = (CONTENT_WIDTH / head.length) * 1.5;
  const min = head.map((h, i) =>
    Math.min(
      cap,
      Math.max(
        longestWord([h], BOLD),
        longestWord(
          rows.map((r) => r[i] ?? ''),
          FONT,
        ),
      ),
    ),
  );
  const weight = head.map((h, i) =>
    Math.sqrt(Math.max(h.length, ...rows.map((r) => Math.min((r[i] ?? '').length, 400)), 1)),
  );
  const spare = Math.max(0, CONTENT_WIDTH - min.reduce((a, b) => a + b, 0));
  const total = weight.reduce((a, b) => a + b, 0);
  const widths = min.map((m, i) => m + (spare * weight[i]!) / total);
  const scale = CONTENT_WIDTH / widths.reduce((a, b) => a + b, 0);
  return widths.map((w) => w * scale);
}

function drawTable(pdf: Pdf, head: string[], rows: string[][]): void {
  const pad = 4;
  const widths = columnWidths(pdf, head, rows, pad);
  const drawRow = (cells: string[], header: boolean) => {
    pdf.font(header ? BOLD : FONT).fontSize(9);
    const texts = widths.map((_, i) => printable(cells[i] ?? ''));
    const height =
      Math.max(...texts.map((t, i) => pdf.heightOfString(t, { width: widths[i]! - 2 * pad, lineGap: 1 }))) + 2 * pad;
    if (pdf.y + height > bottom(pdf)) {
      pdf.addPage();
      if (!header) drawRow(head, true);
      pdf.font(FONT).fontSize(9);
    }
    const top = pdf.y;
    let left = MARGIN;
    texts.forEach((text, i) => {
      const w = widths[i]!;
      if (header) pdf.save().rect(left, top, w, height).fill('#efefef').restore();
      pdf.save().lineWidth(0.5).strokeColor('#999999').rect(left, top, w, height).stroke().restore();
      pdf.fillColor('black').text(text, left + pad, top + pad, { width: w - 2 * pad, lineGap: 1 });
      left += w;
    });
    pdf.y = top + height;
  };
  keepRoom(pdf, 40);
  drawRow(head, true);
  for (const row of rows) drawRow(row, false);
  pdf.x = MARGIN;
  pdf.moveDown(0.8);
}

function pageNumbers(pdf: Pdf, lang: 'de' | 'en'): void {
  const range = pdf.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i += 1) {
    pdf.switchToPage(i);
    const label = lang === 'de' ? `Seite ${i + 1} von ${range.count}` : `Page ${i + 1} of ${range.count}`;
    // Written inside the bottom margin: lift the margin for this one line so that PDFKit does not add a page.
    const margin = pdf.page.margins.bottom;
    pdf.page.margins.bottom = 0;
    pdf.font(FONT).fontSize(8).fillColor('#666666');
    pdf.text(label, MARGIN, pdf.page.height - MARGIN / 2 - 4, {
      width: CONTENT_WIDTH,
      align: 'right',
      lineBreak: false,
    });
    pdf.page.margins.bottom = margin;
  }
  pdf.fillColor('black');
}
