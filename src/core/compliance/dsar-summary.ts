import type { DsarBundle } from './subject-rights.service.ts';

export type DocLanguage = 'de' | 'en';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const T = {
  de: {
    title: 'Auskunft nach Art. 15 DSGVO',
    intro: (org: string) =>
      `Diese Übersicht zeigt alle Daten, die ${org} in sparsam über Sie gespeichert hat. Die vollständige, maschinenlesbare Fassung (Art. 20 DSGVO) liegt als JSON-Datei bei.`,
    generated: 'Erstellt am',
    subject: 'Ihre Kontaktdaten',
    address: 'Adresse (Telefonnummer bzw. Chat-ID)',
    profile: 'Profilname im Messenger',
    channel: 'Kanal',
    pseudonym: 'Interne Bezeichnung',
    since: 'Gespeichert seit',
    conversations: 'Unterhaltungen',
    none: 'keine',
    state: { pending_consent: 'wartet auf Einwilligung', open: 'offen', closed: 'geschlossen' } as Record<
      string,
      string
    >,
    opened: 'begonnen',
    closed: 'geschlossen',
    eraseAt: 'wird gelöscht am',
    when: 'Zeit',
    direction: 'Richtung',
    dir: { in: 'von Ihnen', out: 'an Sie', note: 'interne Notiz', system: 'System' } as Record<string, string>,
    text: 'Inhalt',
    status: 'Status',
    statusWord: {
      held: 'zurückgehalten bis zur Einwilligung',
      received: 'empfangen',
      queued: 'wird gesendet',
      sending: 'wird gesendet',
      sent: 'gesendet',
      delivered: 'zugestellt',
      read: 'gelesen',
      failed: 'nicht zugestellt',
    } as Record<string, string>,
    file: (mime: string, size: number) => `Datei (${mime}, ${size} Bytes, in der JSON-Datei enthalten)`,
    unreadable: '(nicht mehr lesbar)',
    empty: '(kein Text)',
    consent: 'Einwilligungen',
    purpose: { service: 'Beantwortung Ihrer Anfragen', marketing: 'Werbung' } as Record<string, string>,
    purposeHead: 'Zweck',
    actionHead: 'Vorgang',
    action: { grant: 'erteilt', withdraw: 'widerrufen' } as Record<string, string>,
    method: 'Art',
    methodWord: (method: string) => consentMethod(method, 'de'),
    audit: 'Protokoll (Verarbeitungsvorgänge)',
    auditCount: (n: number) =>
      n === 1
        ? '1 Eintrag im Prüfprotokoll betrifft Sie; die Einzelheiten stehen in der JSON-Datei.'
        : `${n} Einträge im Prüfprotokoll betreffen Sie; die Einzelheiten stehen in der JSON-Datei.`,
    rights: (contact: string) =>
      `Sie können jederzeit Berichtigung (Art. 16), Löschung (Art. 17), Einschränkung (Art. 18) und Datenübertragung (Art. 20) verlangen, Ihre Einwilligung widerrufen (Art. 7 Abs. 3; z. B. mit STOP) und der Verarbeitung widersprechen (Art. 21). Kontakt: ${contact}. Sie haben außerdem das Recht, sich bei einer Datenschutz-Aufsichtsbehörde zu beschweren (Art. 77).`,
  },
  en: {
    title: 'Subject access (Art. 15 GDPR)',
    intro: (org: string) =>
      `This summary shows all data ${org} holds about you in sparsam. The complete machine-readable version (Art. 20 GDPR) is attached as a JSON file.`,
    generated: 'Generated on',
    subject: 'Your contact details',
    address: 'Address (phone number or chat id)',
    profile: 'Profile name in the messenger',
    channel: 'Channel',
    pseudonym: 'Internal reference',
    since: 'Stored since',
    conversations: 'Conversations',
    none: 'none',
    state: { pending_consent: 'waiting for consent', open: 'open', closed: 'closed' } as Record<string, string>,
    opened: 'started',
    closed: 'closed',
    eraseAt: 'erased on',
    when: 'Time',
    direction: 'Direction',
    dir: { in: 'from you', out: 'to you', note: 'internal note', system: 'system' } as Record<string, string>,
    text: 'Content',
    status: 'Status',
    statusWord: {
      held: 'held until consent',
      received: 'received',
      queued: 'being sent',
      sending: 'being sent',
      sent: 'sent',
      delivered: 'delivered',
      read: 'read',
      failed: 'not delivered',
    } as Record<string, string>,
    file: (mime: string, size: number) => `File (${mime}, ${size} bytes, included in the JSON file)`,
    unreadable: '(no longer readable)',
    empty: '(no text)',
    consent: 'Consent',
    purpose: { service: 'answering your requests', marketing: 'marketing' } as Record<string, string>,
    purposeHead: 'Purpose',
    actionHead: 'Event',
    action: { grant: 'given', withdraw: 'withdrawn' } as Record<string, string>,
    method: 'How',
    methodWord: (method: string) => consentMethod(method, 'en'),
    audit: 'Log of processing operations',
    auditCount: (n: number) =>
      n === 1
        ? '1 audit log entry concerns you; the details are in the JSON file.'
        : `${n} audit log entries concern you; the details are in the JSON file.`,
    rights: (contact: string) =>
      `You may at any time ask for rectification (Art. 16), erasure (Art. 17), restriction (Art. 18) and portability (Art. 20), withdraw your consent (Art. 7(3), e.g. by sending STOP) and object to the processing (Art. 21). Contact: ${contact}. You also have the right to lodge a complaint with a supervisory authority (Art. 77).`,
  },
};

/** How consent was given or withdrawn, in words: "button:sparsam-consent-agree" → "Schaltfläche „Zustimmen“". */
function consentMethod(method: string, lang: DocLanguage): string {
  const de = lang === 'de';
  const [kind, value = ''] = method.split(/:(.*)/s) as [string, string?];
  if (kind === 'button') {
    if (value.endsWith('consent-agree')) return de ? 'Schaltfläche „Zustimmen“' : 'button "Agree"';
    if (value.endsWith('consent-decline')) return de ? 'Schaltfläche „Ablehnen“' : 'button "Decline"';
    return de ? 'Schaltfläche' : 'button';
  }
  if (kind === 'keyword')
    return de ? `Nachricht „${value.replace(/-/g, ' ')}“` : `message "${value.replace(/-/g, ' ')}"`;
  if (kind === 'api-import' || kind === 'import')
    return de ? 'Übernahme aus unseren Unterlagen' : 'imported from our records';
  if (kind === 'retention' || kind === 'timeout') return de ? 'Frist abgelaufen' : 'period expired';
  return method;
}

/** Counted nouns with their plural: "1 Unterhaltung", "2 Unterhaltungen". */
function counted(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A time in the organisation's time zone, with the zone's name ("12.3.2026, 14:05:00 MEZ"). */
function whenIn(isoTime: string, lang: DocLanguage, timeZone: string): string {
  return new Date(isoTime).toLocaleString(lang === 'de' ? 'de-DE' : 'en-GB', { timeZone, timeZoneName: 'short' });
}

/** A readable, self-contained HTML summary of a subject access bundle, in German or English. */
export function renderDsarHtml(bundle: DsarBundle, lang: DocLanguage): string {
  const t = T[lang];
  const zone = bundle.organisation.timeZone;
  const when = (isoTime: string, l: DocLanguage) => whenIn(isoTime, l, zone);
  const e = escapeHtml;
  const s = bundle.subject;
  const parts: string[] = [];
  parts.push(`<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>${e(t.title)}</title>`);
  parts.push(
    '<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}' +
      'table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.3rem .5rem;' +
      'text-align:left;vertical-align:top}th{background:#f3f3f3}dt{font-weight:600}dd{margin:0 0 .5rem}</style></head><body>',
  );
  parts.push(`<h1>${e(t.title)}</h1><p>${e(t.intro(bundle.organisation.name))}</p>`);
  parts.push(`<p>${e(t.generated)}: ${e(when(bundle.generatedAt, lang))}</p>`);
  parts.push(`<h2>${e(t.subject)}</h2><dl>`);
  parts.push(`<dt>${e(t.address)}</dt><dd>${e(s.address)}</dd>`);
  if (s.profileName) parts.push(`<dt>${e(t.profile)}</dt><dd>${e(s.profileName)}</dd>`);
  parts.push(`<dt>${e(t.channel)}</dt><dd>${e(s.channelKind)} (${e(s.channelId)})</dd>`);
  parts.push(`<dt>${e(t.pseudonym)}</dt><dd>${e(s.label)}</dd>`);
  parts.push(`<dt>${e(t.since)}</dt><dd>${e(when(s.createdAt, lang))}</dd></dl>`);
  parts.push(
    `<h2>${e(t.conversations)}</h2><p>${e(
      lang === 'de'
        ? counted(bundle.conversations.length, 'Unterhaltung', 'Unterhaltungen')
        : counted(bundle.conversations.length, 'conversation', 'conversations'),
    )}</p>`,
  );
  if (bundle.conversations.length === 0) parts.push(`<p>${e(t.none)}</p>`);
  for (const c of bundle.conversations) {
    const dates = [`${t.opened} ${when(c.createdAt, lang)}`];
    if (c.closedAt) dates.push(`${t.closed} ${when(c.closedAt, lang)}`);
    if (c.eraseAt) dates.push(`${t.eraseAt} ${when(c.eraseAt, lang)}`);
    parts.push(`<h3>${e(c.label)} – ${e(t.state[c.state] ?? c.state)}</h3><p>${e(dates.join(', '))}</p>`);
    parts.push(
      `<table><thead><tr><th>${e(t.when)}</th><th>${e(t.direction)}</th><th>${e(t.text)}</th><th>${e(t.status)}</th></tr></thead><tbody>`,
    );
    for (const m of c.messages) {
      const media = m.mediaId ? c.media.find((x) => x.id === m.mediaId) : undefined;
      const content = [
        m.unreadable
          ? t.unreadable
          : (m.text ?? (m.template ? `[${m.template.name}] ${m.template.parameters.join(', ')}` : '')),
        media ? t.file(media.mimeType, media.size) : '',
      ]
        .filter((x) => x.length > 0)
        .join(' · ');
      parts.push(
        `<tr><td>${e(when(m.createdAt, lang))}</td><td>${e(t.dir[m.direction] ?? m.direction)}</td>` +
          `<td>${e(content || t.empty)}</td><td>${e(t.statusWord[m.status] ?? m.status)}</td></tr>`,
      );
    }
    parts.push('</tbody></table>');
  }
  parts.push(`<h2>${e(t.consent)}</h2>`);
  if (bundle.consent.length === 0) parts.push(`<p>${e(t.none)}</p>`);
  else {
    parts.push(
      `<table><thead><tr><th>${e(t.when)}</th><th>${e(t.purposeHead)}</th><th>${e(t.actionHead)}</th>` +
        `<th>${e(t.method)}</th></tr></thead><tbody>`,
    );
    for (const c of bundle.consent) {
      parts.push(
        `<tr><td>${e(when(c.at, lang))}</td><td>${e(t.purpose[c.purpose] ?? c.purpose)}</td>` +
          `<td>${e(t.action[c.action] ?? c.action)}</td><td>${e(t.methodWord(c.method))}</td></tr>`,
      );
    }
    parts.push('</tbody></table>');
  }
  parts.push(`<h2>${e(t.audit)}</h2><p>${e(t.auditCount(bundle.audit.length))}</p>`);
  parts.push(`<p>${e(t.rights(bundle.organisation.contact))}</p></body></html>`);
  return parts.join('\n');
}
