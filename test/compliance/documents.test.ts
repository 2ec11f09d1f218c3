import { describe, expect, it } from 'vitest';
import { controllerPlaceholders } from '../../src/core/compliance/controller-placeholder.ts';
import { renderHtml, renderMarkdown } from '../../src/core/compliance/document.ts';
import { renderPdf } from '../../src/core/compliance/pdf.ts';
import { privacyNotice, recordOfProcessing, type ProcessingContext } from '../../src/core/compliance/ropa.ts';
import { pdfPageSizes, pdfText } from '../support/pdf-text.ts';
import { channelKindFacts } from '../../src/channels/registry.ts';

function context(organisation: ProcessingContext['organisation'], channels: ProcessingContext['channels'] = []) {
  return {
    organisation,
    inboxes: [
      {
        id: 'service',
        labelPrefix: 'Anfrage',
        language: 'de',
        retention: {
          consentTimeoutHours: 24,
          autoCloseAfterDays: 14,
          eraseAfterCloseDays: 0,
          auditRetentionDays: 1095,
        },
        media: 'strip',
        stopKeywords: ['STOP'],
      },
    ],
    channels,
    measures: { require2fa: true, keyStore: 'separate-file', masterKey: 'file' },
    generatedAt: new Date('2026-12-01T10:00:00Z'),
  } satisfies ProcessingContext;
}

const FRESH = { name: 'sparsam', contact: 'datenschutz@example.org' };
const REAL = { name: 'Autohaus Müller GmbH', contact: 'datenschutz@autohaus-mueller.de' };

describe('generated documents on a fresh install', () => {
  it('recognises the placeholder controller and nothing else', () => {
    expect(controllerPlaceholders(FRESH)).toEqual(['name', 'contact']);
    expect(controllerPlaceholders({ name: 'sparsam Demo', contact: 'info@example.com' })).toEqual(['contact']);
    expect(controllerPlaceholders(REAL)).toEqual([]);
    expect(controllerPlaceholders({ name: 'Sparsamkeit e. V.', contact: 'kontakt@sparsam-verein.de' })).toEqual([]);
  });

  it('shows a visible warning in both documents, every format, until the controller is set', async () => {
    for (const make of [recordOfProcessing, privacyNotice]) {
      const draft = make(context(FRESH), 'de', channelKindFacts);
      expect(renderMarkdown(draft)).toContain('> **Entwurf – nicht verwenden: Der Verantwortliche (Name und Kontakt');
      expect(renderHtml(draft)).toContain('<p class="warning" role="note"><strong>Entwurf – nicht verwenden');
      expect(pdfText(await renderPdf(draft)).replace(/\s+/g, ' ')).toContain('Entwurf – nicht verwenden');
      expect(renderMarkdown(make(context(FRESH), 'en', channelKindFacts))).toContain('Draft – do not use');
      const real = make(context(REAL), 'de', channelKindFacts);
      expect(renderMarkdown(real)).not.toContain('Entwurf');
      expect(pdfText(await renderPdf(real))).not.toContain('Entwurf');
    }
  });

  it('fills the notice’s Empfänger section: staff and the DPO always, the providers of the channels', () => {
    const none = renderMarkdown(privacyNotice(context(REAL), 'de', channelKindFacts));
    const recipients = none.slice(none.indexOf('## Empfänger'), none.indexOf('## Übermittlung'));
    expect(recipients).toContain('Unsere Mitarbeitenden');
    expect(recipients).toContain('noch kein Kanal eingerichtet');
    const withChannels = renderMarkdown(
      privacyNotice(
        context(REAL, [
          { id: 'wa', kind: 'whatsapp-cloud', inboxId: 'service', enabled: true },
          { id: 'sms', kind: 'sms', inboxId: 'service', enabled: true },
        ]),
        'de',
        channelKindFacts,
      ),
    );
    const section = withChannels.slice(withChannels.indexOf('## Empfänger'), withChannels.indexOf('## Übermittlung'));
    expect(section).toContain('Meta Platforms Ireland Limited');
    expect(section).toContain('Twilio Ireland Limited');
    expect(section).not.toContain('noch kein Kanal');
  });

  it('typesets A4 pages, long tables across pages, and prints characters outside the PDF fonts as "?"', async () => {
    const channels = Array.from({ length: 40 }, (_, i) => ({
      id: `kanal-${i}`,
      kind: i % 2 ? 'telegram' : 'dialog360',
      inboxId: 'service',
      enabled: true,
    }));
    const pdf = await renderPdf(
      recordOfProcessing(context({ ...REAL, name: 'Autohaus 🚗 Müller' }, channels), 'de', channelKindFacts),
    );
    const pages = pdfPageSizes(pdf);
    expect(pages.length).toBeGreaterThan(2);
    expect(pages.every((p) => Math.abs(p.width - 595.28) < 0.1 && Math.abs(p.height - 841.89) < 0.1)).toBe(true);
    const text = pdfText(pdf).replace(/\s+/g, ' ');
    expect(text).toContain('Autohaus ? Müller');
    expect(text).toContain('kanal-39');
    expect(text).toContain(`Seite ${pages.length} von ${pages.length}`);
  });
});
