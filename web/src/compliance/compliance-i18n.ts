import { useCallback } from 'react';
import type { Lang } from '../api.ts';
import { useI18n } from '../i18n.ts';

/** Texts of the data protection officer's screens, German and English (same approach as ../i18n.ts). */
const de = {
  nav: 'Datenschutz',
  subnav: 'Datenschutz-Bereiche',
  audit: 'Prüfprotokoll',
  dsar: 'Auskunft & Löschung',
  documents: 'Verzeichnis & Hinweise',
  breaches: 'Datenpannen',
  reveals: 'Offenlegungen',
  action: 'Aktion',
  actor: 'Wer',
  target: 'Ziel',
  from: 'Von',
  to: 'Bis',
  filter: 'Filtern',
  verify: 'Kette prüfen',
  verifyOk: 'Prüfprotokoll unversehrt: {n} Einträge geprüft.',
  verifyBroken: 'Prüfprotokoll VERÄNDERT bei Eintrag {seq}: {reason}',
  csv: 'CSV herunterladen',
  time: 'Zeit',
  result: 'Ergebnis',
  details: 'Details',
  more: 'Ältere laden',
  none: 'Keine Einträge.',
  channel: 'Kanal',
  address: 'Telefonnummer bzw. Chat-ID',
  summaryLang: 'Sprache der Zusammenfassung',
  exportJson: 'Export (JSON) herunterladen',
  exportHtml: 'Zusammenfassung (HTML) öffnen',
  erase: 'Alle Daten dieser Person löschen',
  reason: 'Begründung (für das Prüfprotokoll, ohne Telefonnummern)',
  eraseConfirm: 'Wirklich alle Daten dieser Person endgültig löschen? Das kann nicht rückgängig gemacht werden.',
  erased: 'Gelöscht: {label} – {c} Unterhaltungen, {m} Nachrichten, {f} Dateien; Beleg: Protokolleintrag {seq}.',
  dsarIntro:
    'Auskunft (Art. 15), Datenübertragbarkeit (Art. 20) und Löschung (Art. 17) für eine Person, gefunden über ihren Kanal und ihre Adresse. Jede Nutzung wird protokolliert.',
  ropa: 'Verzeichnis von Verarbeitungstätigkeiten (Art. 30)',
  notice: 'Datenschutzhinweise (Art. 13)',
  download: 'Herunterladen',
  docLang: 'Sprache',
  format: 'Format',
  breachNew: 'Datenpanne erfassen',
  description: 'Beschreibung (intern)',
  risk: 'Risiko',
  riskNone: 'kein Risiko',
  riskRisk: 'Risiko',
  riskHigh: 'hohes Risiko (Betroffene benachrichtigen, Art. 34)',
  labels: 'Betroffene Pseudonyme (durch Komma getrennt)',
  discoveredAt: 'Bekannt geworden am',
  deadline: 'Meldefrist (72 h, Art. 33)',
  notifiedAt: 'Behörde benachrichtigt',
  markNotified: 'Als gemeldet markieren',
  remaining: 'noch {h} Std.',
  overdue: 'Frist überschritten',
  notified: 'gemeldet am {d}',
  record: 'Erfassen',
  saved: 'Gespeichert.',
  failed: 'Das hat nicht geklappt: {m}',
  reasonCol: 'Begründung',
};
export type ComplianceKey = keyof typeof de;
type Dictionary = Record<ComplianceKey, string>;

const en: Dictionary = {
  nav: 'Data protection',
  subnav: 'Data protection sections',
  audit: 'Audit log',
  dsar: 'Access & erasure',
  documents: 'Records & notice',
  breaches: 'Breaches',
  reveals: 'Reveals',
  action: 'Action',
  actor: 'Who',
  target: 'Target',
  from: 'From',
  to: 'To',
  filter: 'Filter',
  verify: 'Verify chain',
  verifyOk: 'Audit log intact: {n} entries checked.',
  verifyBroken: 'Audit log ALTERED at entry {seq}: {reason}',
  csv: 'Download CSV',
  time: 'Time',
  result: 'Result',
  details: 'Details',
  more: 'Load older',
  none: 'No entries.',
  channel: 'Channel',
  address: 'Phone number or chat id',
  summaryLang: 'Language of the summary',
  exportJson: 'Download export (JSON)',
  exportHtml: 'Open summary (HTML)',
  erase: "Erase all of this person's data",
  reason: 'Reason (for the audit log, no phone numbers)',
  eraseConfirm: "Really erase all of this person's data for good? This cannot be undone.",
  erased: 'Erased: {label} – {c} conversations, {m} messages, {f} files; receipt: audit entry {seq}.',
  dsarIntro:
    'Access (Art. 15), portability (Art. 20) and erasure (Art. 17) for one person, found by their channel and address. Every use is logged.',
  ropa: 'Record of processing activities (Art. 30)',
  notice: 'Privacy notice (Art. 13)',
  download: 'Download',
  docLang: 'Language',
  format: 'Format',
  breachNew: 'Record a breach',
  description: 'Description (internal)',
  risk: 'Risk',
  riskNone: 'no risk',
  riskRisk: 'risk',
  riskHigh: 'high risk (tell the people affected, Art. 34)',
  labels: 'Affected pseudonyms (comma separated)',
  discoveredAt: 'Became aware on',
  deadline: 'Deadline (72 h, Art. 33)',
  notifiedAt: 'Authority notified',
  markNotified: 'Mark as notified',
  remaining: '{h} h left',
  overdue: 'deadline passed',
  notified: 'notified on {d}',
  record: 'Record',
  saved: 'Saved.',
  failed: 'That did not work: {m}',
  reasonCol: 'Reason',
};

const dictionaries: Record<Lang, Dictionary> = { de, en };

/** The translate function of the current language; stable while the language stays (safe in effect deps). */
export function useComplianceText() {
  const { lang } = useI18n();
  return useCallback(
    (key: ComplianceKey, vars?: Record<string, string | number>) => {
      let s = (dictionaries[lang] ?? de)[key];
      if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
      return s;
    },
    [lang],
  );
}

/** The navigation label, for the shell's top bar. */
export function complianceNavLabel(lang: Lang): string {
  return dictionaries[lang].nav;
}
