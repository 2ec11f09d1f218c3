import type { ChannelKindFactsLookup, Processor } from '../channel/channel-kind-facts.ts';
import { controllerPlaceholders } from './controller-placeholder.ts';
import type { ComplianceDocument, DocBlock } from './document.ts';

/** One inbox as configured now (config file plus the admin's overrides). */
export interface RopaInbox {
  id: string;
  labelPrefix: string;
  language: string;
  retention: {
    consentTimeoutHours: number;
    autoCloseAfterDays: number;
    eraseAfterCloseDays: number;
    auditRetentionDays: number;
  };
  media: string;
  stopKeywords: string[];
}

export interface RopaChannel {
  id: string;
  kind: string;
  inboxId: string;
  enabled: boolean;
}

/** The live configuration the record of processing activities and the privacy notice are generated from. */
export interface ProcessingContext {
  organisation: { name: string; contact: string; address?: string | undefined; dpo?: string | undefined };
  inboxes: RopaInbox[];
  channels: RopaChannel[];
  measures: {
    /** Every staff member must use TOTP (admins always must). */
    require2fa: boolean;
    /** Where the wrapped data keys live: a separate database, or a separate SQLite file beside the main one. */
    keyStore: 'separate-database' | 'separate-file';
    /** The master key comes from the environment or from the key file (mode 0600). */
    masterKey: 'environment' | 'file';
  };
  generatedAt: Date;
  /** Outgoing webhook endpoints: further recipients chosen by the controller (docs/webhooks.md). */
  webhooks?: RopaWebhook[] | undefined;
}

/** An outgoing webhook endpoint as the record lists it: where events go, which, and whether message text goes too. */
export interface RopaWebhook {
  /** Scheme, host and port of the target (never the path). */
  target: string;
  inboxId: string | null;
  events: readonly string[];
  includeContent: boolean;
  legalBasis: string | null;
  paused: boolean;
}

function webhookRows(hooks: readonly RopaWebhook[], lang: 'de' | 'en'): string[][] {
  const de = lang === 'de';
  return hooks.map((h) => [
    `${h.target}${h.paused ? (de ? ' (pausiert)' : ' (paused)') : ''}`,
    h.inboxId ?? (de ? 'alle' : 'all'),
    h.events.join(', '),
    h.includeContent
      ? `${de ? 'mit Nachrichtentext, Rechtsgrundlage' : 'with message text, legal basis'} ${h.legalBasis ?? '?'}`
      : de
        ? 'ohne Inhalte (IDs, Pseudonym, Zeiten)'
        : 'content-free (ids, pseudonym, times)',
  ]);
}

export type { Processor } from '../channel/channel-kind-facts.ts';

/** The processors of a kind; a kind without facts gets a placeholder for the DPO to complete. */
export function processorsOf(kinds: ChannelKindFactsLookup, kind: string): readonly Processor[] {
  return (
    kinds(kind)?.processors ?? [
      {
        name: `(${kind})`,
        role: { de: 'Anbieter des Kanals – bitte ergänzen', en: 'channel provider – please complete' },
        transfer: null,
      },
    ]
  );
}

/** How the documents name a kind ("WhatsApp (Cloud API)"); the kind itself when it has no facts. */
export const kindName = (kinds: ChannelKindFactsLookup, kind: string) => kinds(kind)?.displayName ?? kind;

function retentionText(inbox: RopaInbox, lang: 'de' | 'en'): string {
  const r = inbox.retention;
  const afterClose =
    r.eraseAfterCloseDays === 0
      ? lang === 'de'
        ? 'sofort beim Schließen'
        : 'immediately when closed'
      : lang === 'de'
        ? `${r.eraseAfterCloseDays} Tage nach dem Schließen`
        : `${r.eraseAfterCloseDays} days after closing`;
  return lang === 'de'
    ? `ohne Einwilligung nach ${r.consentTimeoutHours} Stunden gelöscht; nach ${r.autoCloseAfterDays} Tagen ohne Aktivität geschlossen; gelöscht ${afterClose}; Prüfprotokoll ${r.auditRetentionDays} Tage`
    : `erased after ${r.consentTimeoutHours} hours without consent; closed after ${r.autoCloseAfterDays} days without activity; erased ${afterClose}; audit log ${r.auditRetentionDays} days`;
}

function mediaText(policy: string, lang: 'de' | 'en'): string {
  const de: Record<string, string> = {
    strip: 'Dateien werden angenommen; Bilder neu kodiert, Metadaten (GPS, EXIF, XMP) entfernt',
    reject: 'nur Text; Dateien werden abgelehnt und nicht gespeichert',
    allow: 'Dateien werden unverändert angenommen (nur erlaubte Typen)',
  };
  const en: Record<string, string> = {
    strip: 'files accepted; images re-encoded, metadata (GPS, EXIF, XMP) removed',
    reject: 'text only; files are refused and not stored',
    allow: 'files accepted unchanged (allowed types only)',
  };
  return (lang === 'de' ? de : en)[policy] ?? policy;
}

/** The technical and organisational measures actually in force (Art. 32), from the live configuration. */
function measures(ctx: ProcessingContext, lang: 'de' | 'en'): string[] {
  const m = ctx.measures;
  const de = [
    'Verschlüsselung: Nachrichteninhalte, Dateien und Notizen mit AES-256-GCM unter einem eigenen Schlüssel je Unterhaltung; Adresse und Profilname je Kontakt eigens verschlüsselt',
    `Schlüsseltrennung: die Datenschlüssel liegen verpackt unter dem Hauptschlüssel in einem ${m.keyStore === 'separate-database' ? 'getrennten Schlüsselspeicher (eigene Datenbank)' : 'getrennten Schlüsselspeicher (eigene Datei)'}; der Hauptschlüssel kommt ${m.masterKey === 'environment' ? 'aus der Umgebung' : 'aus einer Schlüsseldatei (Rechte 0600)'}`,
    'Pseudonymisierung: Mitarbeitende sehen Bezeichnungen wie „Anfrage 42“ statt Telefonnummern; Kontakte werden nur über einen HMAC-SHA-256-Wert gefunden',
    'Löschung durch Vernichtung der Schlüssel (Crypto-Shredding) und der Zeilen, nach den Fristen je Posteingang und auf Antrag; Sicherungskopien werden dadurch unlesbar',
    'Manipulationssicheres Prüfprotokoll: Hash-Kette mit HMAC, prüfbar mit „sparsam audit verify“; inhaltsfrei',
    m.require2fa
      ? 'Zwei-Faktor-Anmeldung (TOTP) für alle Mitarbeitenden'
      : 'Zwei-Faktor-Anmeldung (TOTP) für Administratoren; für übrige Mitarbeitende freiwillig',
    'Rollen (Agent, Admin, Datenschutzbeauftragte:r); Offenlegung einer echten Adresse nur mit Begründung und protokolliert',
    'Webhooks nur mit gültiger Signatur des Anbieters; Sitzungen als Hash gespeichert, CSRF-Schutz, Sperre nach Fehlversuchen',
    'Protokolldateien ohne Telefonnummern, Texte und Geheimnisse (Schwärzung)',
    'Notabschaltung je Kanal (Kill-Switch): eingehende Nachrichten werden dann nicht gespeichert, ausgehende nicht gesendet',
  ];
  const en = [
    'Encryption: message contents, files and notes with AES-256-GCM under a key of their own per conversation; address and profile name sealed per contact',
    `Key separation: data keys are stored wrapped under the master key in a ${m.keyStore === 'separate-database' ? 'separate key store (its own database)' : 'separate key store (its own file)'}; the master key comes ${m.masterKey === 'environment' ? 'from the environment' : 'from a key file (mode 0600)'}`,
    'Pseudonymisation: staff see references such as "Request 42" instead of phone numbers; contacts are found only by an HMAC-SHA-256 value',
    'Erasure by destroying the keys (crypto-shredding) and the rows, after the periods of each inbox and on request; backups become unreadable',
    'Tamper-evident audit log: hash chain with HMAC, checked with "sparsam audit verify"; content-free',
    m.require2fa
      ? 'Two-factor login (TOTP) for all staff'
      : 'Two-factor login (TOTP) for administrators; optional for other staff',
    'Roles (agent, admin, data protection officer); revealing a real address only with a reason, and logged',
    'Webhooks only with a valid provider signature; sessions stored as hashes, CSRF protection, lock-out after failed logins',
    'Log files without phone numbers, texts or secrets (redaction)',
    'Emergency stop per channel (kill switch): inbound messages are then not stored, outbound not sent',
  ];
  return lang === 'de' ? de : en;
}

function channelRows(ctx: ProcessingContext, lang: 'de' | 'en', kinds: ChannelKindFactsLookup): string[][] {
  const rows: string[][] = [];
  for (const c of ctx.channels) {
    for (const p of processorsOf(kinds, c.kind)) {
      rows.push([
        `${kindName(kinds, c.kind)} (${c.id}${c.enabled ? '' : lang === 'de' ? ', abgeschaltet' : ', switched off'})`,
        p.name,
        p.role[lang],
        p.transfer ? p.transfer[lang] : lang === 'de' ? 'keine (EU/EWR)' : 'none (EU/EEA)',
      ]);
    }
  }
  return rows;
}

function inboxRows(ctx: ProcessingContext, lang: 'de' | 'en'): string[][] {
  return ctx.inboxes.map((i) => [
    i.id,
    ctx.channels
      .filter((c) => c.inboxId === i.id)
      .map((c) => c.id)
      .join(', ') || '–',
    retentionText(i, lang),
    mediaText(i.media, lang),
  ]);
}

const dateOf = (d: Date, lang: 'de' | 'en') =>
  d.toLocaleDateString(lang === 'de' ? 'de-DE' : 'en-GB', {
    timeZone: 'UTC',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
  });

/**
 * A visible warning while the controller is still the placeholder of a fresh install ("sparsam",
 * datenschutz@example.org): such a document must not be handed out. None once organisation.name and .contact are set.
 */
function placeholderWarning(ctx: ProcessingContext, lang: 'de' | 'en'): DocBlock[] {
  const fields = controllerPlaceholders(ctx.organisation);
  if (fields.length === 0) return [];
  const de = lang === 'de';
  const what = fields
    .map((f) => (f === 'name' ? (de ? 'Name' : 'name') : de ? 'Kontakt' : 'contact'))
    .join(de ? ' und ' : ' and ');
  return [
    {
      type: 'warning',
      text: de
        ? `Entwurf – nicht verwenden: Der Verantwortliche (${what}: „${ctx.organisation.name}, ${ctx.organisation.contact}“) ist noch ein Platzhalter. Tragen Sie organisation.name und organisation.contact in die Konfigurationsdatei ein (sparsam doctor zeigt es an).`
        : `Draft – do not use: the controller (${what}: "${ctx.organisation.name}, ${ctx.organisation.contact}") is still a placeholder. Set organisation.name and organisation.contact in the configuration file (sparsam doctor shows it).`,
    },
  ];
}

/** The record of processing activities (Art. 30(1) GDPR) of this installation, generated from its configuration. */
export function recordOfProcessing(
  ctx: ProcessingContext,
  lang: 'de' | 'en',
  kinds: ChannelKindFactsLookup,
): ComplianceDocument {
  const o = ctx.organisation;
  const de = lang === 'de';
  const blocks: DocBlock[] = [
    {
      type: 'h1',
      text: de
        ? 'Verzeichnis von Verarbeitungstätigkeiten (Art. 30 Abs. 1 DSGVO)'
        : 'Record of processing activities (Art. 30(1) GDPR)',
    },
    ...placeholderWarning(ctx, lang),
    {
      type: 'p',
      text: de
        ? `Erzeugt von sparsam am ${dateOf(ctx.generatedAt, lang)} aus der laufenden Konfiguration. Angaben zu Anbietern bitte mit den abgeschlossenen Verträgen abgleichen.`
        : `Generated by sparsam on ${dateOf(ctx.generatedAt, lang)} from the running configuration. Check the provider details against the contracts signed.`,
    },
    { type: 'h2', text: de ? '1. Verantwortlicher' : '1. Controller' },
    {
      type: 'ul',
      items: [
        `${de ? 'Name' : 'Name'}: ${o.name}`,
        ...(o.address ? [`${de ? 'Anschrift' : 'Address'}: ${o.address}`] : []),
        `${de ? 'Kontakt' : 'Contact'}: ${o.contact}`,
        `${de ? 'Datenschutzbeauftragte:r' : 'Data protection officer'}: ${o.dpo ?? (de ? 'nicht angegeben' : 'not stated')}`,
      ],
    },
    {
      type: 'h2',
      text: de
        ? '2. Verarbeitungstätigkeit: Kundenkommunikation über Messenger'
        : '2. Processing activity: customer communication via messengers',
    },
    { type: 'h3', text: de ? 'Zwecke und Rechtsgrundlagen' : 'Purposes and legal bases' },
    {
      type: 'table',
      head: de ? ['Zweck', 'Rechtsgrundlage'] : ['Purpose', 'Legal basis'],
      rows: de
        ? [
            [
              'Beantwortung von Anfragen, Terminabsprachen, Vertragsanbahnung und -durchführung',
              'Art. 6 Abs. 1 lit. b DSGVO (Vertrag/vorvertragliche Maßnahmen) bzw. lit. f (berechtigtes Interesse an der Beantwortung); vor jeder Bearbeitung wird mit dem Datenschutzhinweis die Einwilligung eingeholt (Art. 6 Abs. 1 lit. a, Art. 7)',
            ],
            [
              'Werbliche Nachrichten',
              'Art. 6 Abs. 1 lit. a DSGVO (gesonderte Einwilligung „marketing“, jederzeit widerruflich)',
            ],
            [
              'Nachweis von Einwilligungen und Löschungen, Prüfprotokoll',
              'Art. 6 Abs. 1 lit. c i. V. m. Art. 5 Abs. 2, Art. 7 Abs. 1 DSGVO',
            ],
          ]
        : [
            [
              'Answering requests, appointments, preparing and performing contracts',
              'Art. 6(1)(b) GDPR (contract / pre-contractual steps) or (f) (legitimate interest in answering); consent is asked with the privacy notice before any processing by staff (Art. 6(1)(a), Art. 7)',
            ],
            ['Marketing messages', 'Art. 6(1)(a) GDPR (separate "marketing" consent, withdrawable at any time)'],
            ['Proof of consent and erasure, audit log', 'Art. 6(1)(c) with Art. 5(2) and Art. 7(1) GDPR'],
          ],
    },
    { type: 'h3', text: de ? 'Betroffene und Datenkategorien' : 'Data subjects and categories of data' },
    {
      type: 'ul',
      items: de
        ? [
            'Betroffene: Kundinnen und Kunden sowie Interessenten, die über einen Kanal schreiben; Mitarbeitende (Konten)',
            'Daten: Telefonnummer bzw. Chat-ID, Profilname, Nachrichteninhalte, Dateien, Zeitpunkte und Zustellstatus, Einwilligungen und Widerrufe; bei Mitarbeitenden Name, E-Mail, Passwort-Hash, TOTP-Geheimnis',
            'Keine besonderen Kategorien (Art. 9) beabsichtigt; Kundinnen und Kunden werden gebeten, keine Gesundheitsdaten zu senden',
          ]
        : [
            'Data subjects: customers and prospects writing via a channel; staff (accounts)',
            'Data: phone number or chat id, profile name, message contents, files, times and delivery statuses, consents and withdrawals; for staff name, e-mail, password hash, TOTP secret',
            'No special categories (Art. 9) intended; customers are asked not to send health data',
          ],
    },
    { type: 'h3', text: de ? 'Empfänger und Auftragsverarbeiter je Kanal' : 'Recipients and processors per channel' },
    {
      type: 'p',
      text: de
        ? 'Interne Empfänger: Mitarbeitende mit den Rollen Agent und Admin (nur Pseudonyme), Datenschutzbeauftragte:r (Auskunft, Löschung). sparsam selbst läuft auf dem eigenen Server des Verantwortlichen.'
        : "Internal recipients: staff with the roles agent and admin (pseudonyms only), the data protection officer (access, erasure). sparsam itself runs on the controller's own server.",
    },
    ctx.channels.length > 0
      ? {
          type: 'table',
          head: de
            ? ['Kanal', 'Auftragsverarbeiter', 'Leistung', 'Drittlandübermittlung und Garantien']
            : ['Channel', 'Processor', 'Service', 'Third-country transfer and safeguards'],
          rows: channelRows(ctx, lang, kinds),
        }
      : { type: 'p', text: de ? 'Keine Kanäle eingerichtet.' : 'No channels configured.' },
    ...(ctx.webhooks && ctx.webhooks.length > 0
      ? ([
          {
            type: 'h3',
            text: de ? 'Weitere Empfänger: ausgehende Webhooks' : 'Further recipients: outgoing webhooks',
          },
          {
            type: 'table',
            head: de ? ['Ziel', 'Posteingang', 'Ereignisse', 'Inhalt'] : ['Target', 'Inbox', 'Events', 'Content'],
            rows: webhookRows(ctx.webhooks, lang),
          },
        ] satisfies DocBlock[])
      : []),
    { type: 'h3', text: de ? 'Löschfristen je Posteingang' : 'Erasure periods per inbox' },
    ctx.inboxes.length > 0
      ? {
          type: 'table',
          head: de ? ['Posteingang', 'Kanäle', 'Fristen', 'Dateien'] : ['Inbox', 'Channels', 'Periods', 'Files'],
          rows: inboxRows(ctx, lang),
        }
      : { type: 'p', text: de ? 'Keine Posteingänge eingerichtet.' : 'No inboxes configured.' },
    {
      type: 'h2',
      text: de
        ? '3. Technische und organisatorische Maßnahmen (Art. 32 DSGVO)'
        : '3. Technical and organisational measures (Art. 32 GDPR)',
    },
    { type: 'ul', items: measures(ctx, lang) },
  ];
  return {
    title: de ? 'Verzeichnis von Verarbeitungstätigkeiten' : 'Record of processing activities',
    language: lang,
    blocks,
  };
}

/** The privacy notice (Art. 13 GDPR) for customers who write to this installation's channels. */
export function privacyNotice(
  ctx: ProcessingContext,
  lang: 'de' | 'en',
  kinds: ChannelKindFactsLookup,
): ComplianceDocument {
  const o = ctx.organisation;
  const de = lang === 'de';
  const stop = [...new Set(ctx.inboxes.flatMap((i) => i.stopKeywords))];
  const processors = new Map<string, Processor>();
  for (const c of ctx.channels) for (const p of processorsOf(kinds, c.kind)) processors.set(p.name, p);
  const blocks: DocBlock[] = [
    {
      type: 'h1',
      text: de
        ? 'Datenschutzhinweise für die Kommunikation über Messenger'
        : 'Privacy notice for communication via messengers',
    },
    ...placeholderWarning(ctx, lang),
    { type: 'h2', text: de ? 'Verantwortlicher' : 'Controller' },
    {
      type: 'p',
      text:
        [o.name, o.address, o.contact].filter(Boolean).join(', ') +
        (o.dpo ? (de ? `. Datenschutzbeauftragte:r: ${o.dpo}` : `. Data protection officer: ${o.dpo}`) : ''),
    },
    { type: 'h2', text: de ? 'Zwecke und Rechtsgrundlagen' : 'Purposes and legal bases' },
    {
      type: 'p',
      text: de
        ? 'Wir verarbeiten Ihre Telefonnummer bzw. Chat-ID, Ihren Profilnamen und den Inhalt Ihrer Nachrichten, um Ihre Anfrage zu beantworten (Art. 6 Abs. 1 lit. b DSGVO, bei allgemeinen Anfragen lit. f). Bevor jemand Ihre Nachricht liest, bitten wir Sie um Ihre Einwilligung (Art. 6 Abs. 1 lit. a DSGVO). Werbung senden wir nur mit Ihrer gesonderten Einwilligung (Art. 6 Abs. 1 lit. a DSGVO).'
        : 'We process your phone number or chat id, your profile name and the content of your messages to answer your request (Art. 6(1)(b) GDPR, for general requests (f)). Before anyone reads your message we ask for your consent (Art. 6(1)(a) GDPR). We send marketing only with your separate consent (Art. 6(1)(a) GDPR).',
    },
    { type: 'h2', text: de ? 'Empfänger' : 'Recipients' },
    {
      type: 'ul',
      items: [
        de
          ? 'Unsere Mitarbeitenden, die Ihre Anfrage bearbeiten (sie sehen Ihre Telefonnummer nicht, nur ein Pseudonym), und unser:e Datenschutzbeauftragte:r für Auskunft und Löschung'
          : 'Our staff who handle your request (they see a pseudonym, not your phone number) and our data protection officer for access and erasure requests',
        ...[...processors.values()].map(
          (p) => `${p.name}: ${p.role[lang]} (${de ? 'Auftragsverarbeiter' : 'processor'})`,
        ),
        ...(processors.size === 0
          ? [
              de
                ? 'Anbieter der Messenger-Kanäle: noch kein Kanal eingerichtet; sie werden hier genannt, sobald einer eingerichtet ist'
                : 'Providers of the messenger channels: no channel is set up yet; they are named here once one is',
            ]
          : []),
      ],
    },
    { type: 'h2', text: de ? 'Übermittlung in Drittländer' : 'Transfers to third countries' },
    {
      type: 'ul',
      items: (() => {
        const items = [...processors.values()].filter((p) => p.transfer).map((p) => `${p.name}: ${p.transfer![lang]}`);
        return items.length > 0 ? items : [de ? 'Keine.' : 'None.'];
      })(),
    },
    { type: 'h2', text: de ? 'Speicherdauer' : 'Storage period' },
    { type: 'ul', items: ctx.inboxes.map((i) => `${i.labelPrefix} (${i.id}): ${retentionText(i, lang)}`) },
    { type: 'h2', text: de ? 'Ihre Rechte' : 'Your rights' },
    {
      type: 'p',
      text: de
        ? `Sie haben das Recht auf Auskunft (Art. 15), Berichtigung (Art. 16), Löschung (Art. 17), Einschränkung (Art. 18), Datenübertragbarkeit (Art. 20) und Widerspruch (Art. 21 DSGVO). Ihre Einwilligung können Sie jederzeit widerrufen (Art. 7 Abs. 3 DSGVO), indem Sie ${stop.map((s) => `„${s}“`).join(', ') || '„STOP“'} senden oder uns unter ${o.contact} schreiben; die bis dahin erfolgte Verarbeitung bleibt rechtmäßig. Sie können sich bei einer Datenschutz-Aufsichtsbehörde beschweren (Art. 77 DSGVO).`
        : `You have the right of access (Art. 15), rectification (Art. 16), erasure (Art. 17), restriction (Art. 18), portability (Art. 20) and to object (Art. 21 GDPR). You may withdraw your consent at any time (Art. 7(3) GDPR) by sending ${stop.map((s) => `"${s}"`).join(', ') || '"STOP"'} or writing to ${o.contact}; processing before the withdrawal remains lawful. You may lodge a complaint with a supervisory authority (Art. 77 GDPR).`,
    },
    {
      type: 'h2',
      text: de
        ? 'Pflicht zur Bereitstellung, automatisierte Entscheidungen'
        : 'Obligation to provide data, automated decisions',
    },
    {
      type: 'p',
      text: de
        ? `Die Nutzung des Messengers ist freiwillig; Sie erreichen uns auch unter ${o.contact}. Eine automatisierte Entscheidungsfindung einschließlich Profiling findet nicht statt.`
        : `Using the messenger is voluntary; you can also reach us at ${o.contact}. There is no automated decision-making, including profiling.`,
    },
  ];
  return { title: de ? 'Datenschutzhinweise' : 'Privacy notice', language: lang, blocks };
}
