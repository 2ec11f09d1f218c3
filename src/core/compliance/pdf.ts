import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { AppError } from '../../shared/app-error.ts';

const run = promisify(execFile);

/** Debian's chromium; PDF output is offered only where it is installed. */
export const CHROMIUM = process.env.SPARSAM_CHROMIUM ?? '/usr/bin/chromium';

export function pdfAvailable(): boolean {
  return existsSync(CHROMIUM);
}

/**
 * Prints an HTML document to PDF with headless Chromium (`--print-to-pdf`) in a private temporary directory that is
 * removed afterwards. The documents printed here (record of processing, privacy notice) hold no personal data.
 */
export async function htmlToPdf(html: string): Promise<Buffer> {
  if (!pdfAvailable()) {
    throw new AppError(
      'UNSUPPORTED_MEDIA',
      `PDF needs Chromium at ${CHROMIUM} (apt-get install chromium); use format html or md`,
    );
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'sparsam-pdf-'));
  try {
    const input = path.join(dir, 'doc.html');
    const output = path.join(dir, 'doc.pdf');
    await writeFile(input, html, { mode: 0o600 });
    await run(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-pdf-header-footer',
        `--user-data-dir=${path.join(dir, 'profile')}`,
        `--print-to-pdf=${output}`,
        `file://${input}`,
      ],
      { timeout: 60_000 },
    );
    return await readFile(output);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
