/**
 * Every text sparsam sends to a customer on its own: the privacy notice with its agree/decline buttons, and the
 * replies to a decline, a consent timeout, a STOP/WIDERRUF, a refused attachment and a paused channel. German and
 * English; the inbox's language decides. The notice can be replaced per inbox (`inboxes[].notice.de|en` in the
 * configuration); its exact text is hashed into the consent record, so whatever was sent is what is proven.
 */

export type NoticeLanguage = 'de' | 'en';

/** Button ids of the consent notice. Stable: a tap arrives as this id, in any language. */
export const CONSENT_AGREE_ID = 'sparsam-consent-agree';
export const CONSENT_DECLINE_ID = 'sparsam-consent-decline';

/** Keyword answers to the notice on channels without buttons (whole message, case-insensitive). */
export const AGREE_KEYWORDS: readonly string[] = ['JA', 'YES'];
export const DECLINE_KEYWORDS: readonly string[] = ['NEIN', 'NO'];

export interface NoticeOrganisation {
  name: string;
  contact: string;
  /**
   * Where the full privacy notice (Art. 13 GDPR) is published: `organisation.privacyNoticeUrl`, else sparsam's own
   * page `<baseUrl>/privacy-notice`. The consent message links to it (with `?lang=` on sparsam's page).
   */
  noticeUrl?: string | undefined;
}

/** The full notice's address in the notice's language (sparsam's own page takes ?lang=). */
function noticeLink(org: NoticeOrganisation, language: NoticeLanguage): string | undefined {
  if (!org.noticeUrl) return undefined;
  return org.noticeUrl.endsWith('/privacy-notice') ? `${org.noticeUrl}?lang=${language}` : org.noticeUrl;
}

export interface NoticeInbox {
  language: NoticeLanguage;
  retention: { consentTimeoutHours: number; eraseAfterCloseDays: number };
  notice?: { de?: string | undefined; en?: string | undefined } | undefined;
  stopKeywords: readonly string[];
}

export interface PrivacyNotice {
  /** The exact text sent (its SHA-256 is the notice version recorded with the consent). */
  text: string;
  /** Agree and decline buttons (titles at most 20 characters); undefined on channels without buttons. */
  buttons: { id: string; title: string }[] | undefined;
}

const BUTTON_TITLES: Record<NoticeLanguage, { agree: string; decline: string }> = {
  de: { agree: 'Zustimmen', decline: 'Ablehnen' },
  en: { agree: 'I agree', decline: 'Decline' },
};

function retentionSentence(language: NoticeLanguage, days: number): string {
  if (language === 'de') {
    if (days <= 0) return 'Sobald Ihre Anfrage erledigt ist, löschen wir den gesamten Verlauf.';
    if (days === 1) return 'Einen Tag nach Abschluss Ihrer Anfrage löschen wir den gesamten Verlauf.';
    return `${days} Tage nach Abschluss Ihrer Anfrage löschen wir den gesamten Verlauf.`;
  }
  if (days <= 0) return 'As soon as your request is settled, we delete the whole conversation.';
  if (days === 1) return 'One day after your request is settled, we delete the whole conversation.';
  return `${days} days after your request is settled, we delete the whole conversation.`;
}

function timeoutSentence(language: NoticeLanguage, hours: number): string {
  if (language === 'de') {
    const span = hours === 1 ? 'einer Stunde' : `${hours} Stunden`;
    return `Ohne Ihre Zustimmung löschen wir Ihre Nachricht nach ${span}.`;
  }
  const span = hours === 1 ? 'one hour' : `${hours} hours`;
  return `Without your consent we delete your message after ${span}.`;
}

/** sparsam's own notice text for an inbox (what is sent while the inbox has no text of its own). */
export function defaultNotice(inbox: Omit<NoticeInbox, 'notice'>, org: NoticeOrganisation): string {
  const stop = inbox.stopKeywords[0] ?? 'STOP';
  const days = inbox.retention.eraseAfterCloseDays;
  const hours = inbox.retention.consentTimeoutHours;
  if (inbox.language === 'de') {
    return [
      `Guten Tag! Sie schreiben an ${org.name}. Bevor wir Ihre Nachricht lesen, bitten wir Sie um Ihre Einwilligung:`,
      '',
      '• Wir verarbeiten Ihre Nachrichten nur, um Ihre Anfrage zu beantworten.',
      '• Alles wird verschlüsselt gespeichert; unsere Mitarbeiterinnen und Mitarbeiter sehen Ihre Telefonnummer nicht.',
      `• ${retentionSentence('de', days)}`,
      `• Sie können Ihre Einwilligung jederzeit widerrufen: Schreiben Sie einfach ${stop}. Dann löschen wir alles.`,
      '',
      `${timeoutSentence('de', hours)} Fragen zum Datenschutz: ${org.contact}`,
      ...(noticeLink(org, 'de') ? [`Vollständige Datenschutzhinweise: ${noticeLink(org, 'de')}`] : []),
    ].join('\n');
  }
  return [
    `Hello! You are writing to ${org.name}. Before we read your message, we ask for your consent:`,
    '',
    '• We process your messages only to answer your request.',
    '• Everything is stored encrypted; our staff do not see your phone number.',
    `• ${retentionSentence('en', days)}`,
    `• You can withdraw your consent at any time: just write ${stop}. We then delete everything.`,
    '',
    `${timeoutSentence('en', hours)} Questions about privacy: ${org.contact}`,
    ...(noticeLink(org, 'en') ? [`Full privacy notice: ${noticeLink(org, 'en')}`] : []),
  ].join('\n');
}

/**
 * The privacy notice for a new conversation: the inbox's own text when configured, else sparsam's default. With
 * buttons (WhatsApp) the customer taps agree or decline; without, the text ends with the keywords to answer.
 */
export function privacyNotice(inbox: NoticeInbox, org: NoticeOrganisation, withButtons: boolean): PrivacyNotice {
  const language = inbox.language;
  const body = inbox.notice?.[language] ?? defaultNotice(inbox, org);
  if (withButtons) {
    const titles = BUTTON_TITLES[language];
    return {
      text: body,
      buttons: [
        { id: CONSENT_AGREE_ID, title: titles.agree },
        { id: CONSENT_DECLINE_ID, title: titles.decline },
      ],
    };
  }
  const keywords =
    language === 'de'
      ? 'Antworten Sie mit JA, um zuzustimmen, oder mit NEIN, um abzulehnen.'
      : 'Reply YES to agree or NO to decline.';
  return { text: `${body}\n\n${keywords}`, buttons: undefined };
}

/** The reply to a declined notice: nothing was kept, and how else to reach the organisation. */
export function declineReply(language: NoticeLanguage, org: NoticeOrganisation): string {
  return language === 'de'
    ? `Schade. Wir haben Ihre Nachricht gelöscht und nichts gespeichert. Sie erreichen ${org.name} auch auf anderem Weg: ${org.contact}`
    : `Understood. We have deleted your message and kept nothing. You can reach ${org.name} in other ways: ${org.contact}`;
}

/** The reply when the notice went unanswered past the consent timeout. */
export function consentTimeoutReply(language: NoticeLanguage, org: NoticeOrganisation): string {
  return language === 'de'
    ? `Da wir keine Einwilligung von Ihnen erhalten haben, haben wir Ihre Nachricht gelöscht. Sie erreichen ${org.name} auch auf anderem Weg: ${org.contact}`
    : `As we did not receive your consent, we have deleted your message. You can reach ${org.name} in other ways: ${org.contact}`;
}

/** The confirmation after the customer agreed: the message arrived, the answer comes here, how to withdraw. */
export function consentConfirmation(
  inbox: Pick<NoticeInbox, 'language' | 'stopKeywords'>,
  org: NoticeOrganisation,
): string {
  const stop = inbox.stopKeywords[0] ?? 'STOP';
  return inbox.language === 'de'
    ? `Danke für Ihre Zustimmung! Ihre Nachricht ist bei ${org.name} angekommen, wir antworten Ihnen hier. Widerrufen können Sie jederzeit mit ${stop}.`
    : `Thank you for your consent! Your message has reached ${org.name}; we will answer you here. You can withdraw at any time by writing ${stop}.`;
}

/** The confirmation of a STOP / WIDERRUF. */
export function stopConfirmation(language: NoticeLanguage, org: NoticeOrganisation): string {
  return language === 'de'
    ? `Ihr Widerruf ist bei uns angekommen. Wir haben Ihre Einwilligung beendet und Ihre Nachrichten gelöscht. Wenn Sie uns wieder schreiben, fragen wir Sie zuerst erneut um Erlaubnis. Kontakt: ${org.contact}`
    : `We have received your withdrawal. Your consent has ended and your messages have been deleted. If you write to us again, we will first ask for your consent again. Contact: ${org.contact}`;
}

/** The reply to an attachment when the inbox accepts text only (media policy 'reject'). */
export function mediaRejectedReply(language: NoticeLanguage): string {
  return language === 'de'
    ? 'Bitte schreiben Sie uns nur Text. Aus Datenschutzgründen nehmen wir hier keine Bilder, Dateien oder Sprachnachrichten an; Ihre Datei haben wir nicht gespeichert.'
    : 'Please send us text only. To protect your privacy we do not accept pictures, files or voice messages here; we have not stored your file.';
}

/**
 * The reply while an admin has paused the channel (kill switch): nothing is stored. `chatUrl`: the website chat's
 * own page, when a website chat is configured, offered as the other way to write.
 */
export function channelPausedReply(language: NoticeLanguage, org: NoticeOrganisation, chatUrl?: string): string {
  if (chatUrl) {
    return language === 'de'
      ? `Dieser Kanal ist zurzeit nicht erreichbar, Ihre Nachricht wurde nicht gespeichert. Schreiben Sie uns gern im Website-Chat: ${chatUrl} – oder wenden Sie sich an ${org.name}: ${org.contact}`
      : `This channel is not available at the moment; your message has not been stored. You are welcome to write to us in our website chat: ${chatUrl} – or contact ${org.name}: ${org.contact}`;
  }
  return language === 'de'
    ? `Dieser Kanal ist zurzeit nicht erreichbar, Ihre Nachricht wurde nicht gespeichert. Bitte wenden Sie sich an ${org.name}: ${org.contact}`
    : `This channel is not available at the moment; your message has not been stored. Please contact ${org.name}: ${org.contact}`;
}

/**
 * The privacy notice of the website chat, shown in the chat window and accepted before the visitor's first message
 * is sent (nothing is stored before). The language is the visitor's (the page's), not the inbox's. An inbox's own
 * notice text (`inboxes[].notice`) replaces the default here too.
 */
export function websiteChatNotice(inbox: NoticeInbox, org: NoticeOrganisation, language: NoticeLanguage): string {
  const own = inbox.notice?.[language];
  if (own) return own;
  const days = inbox.retention.eraseAfterCloseDays;
  if (language === 'de') {
    return [
      `Sie schreiben an ${org.name}. Bevor Sie uns schreiben, bitten wir Sie um Ihre Einwilligung:`,
      '• Wir verarbeiten Ihre Nachrichten und Dateien nur, um Ihre Anfrage zu beantworten.',
      '• Alles wird verschlüsselt gespeichert; unsere Mitarbeiterinnen und Mitarbeiter sehen nur ein Pseudonym.',
      '• Dieser Chat setzt keine Cookies und lädt nichts von Dritten. Ihr Browser speichert nur einen zufälligen Gesprächsschlüssel.',
      `• ${retentionSentence('de', days)}`,
      '• Mit „Gespräch vergessen“ widerrufen Sie Ihre Einwilligung jederzeit; dann löschen wir alles.',
      `Fragen zum Datenschutz: ${org.contact}`,
    ].join('\n');
  }
  return [
    `You are writing to ${org.name}. Before you write to us, we ask for your consent:`,
    '• We process your messages and files only to answer your request.',
    '• Everything is stored encrypted; our staff see only a pseudonym.',
    '• This chat sets no cookies and loads nothing from third parties. Your browser keeps only a random chat key.',
    `• ${retentionSentence('en', days)}`,
    '• With "Forget this chat" you withdraw your consent at any time; we then delete everything.',
    `Questions about privacy: ${org.contact}`,
  ].join('\n');
}

/** Normalises a whole message for keyword matching: trimmed, upper case, trailing punctuation dropped. */
export function keywordOf(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const k = text
    .trim()
    .replace(/[.!?]+$/u, '')
    .trim()
    .toLocaleUpperCase('de-DE');
  return k.length > 0 && k.length <= 40 ? k : undefined;
}

/** True when the whole message is one of `keywords` (case-insensitive). */
export function isKeyword(text: string | undefined, keywords: readonly string[]): boolean {
  const k = keywordOf(text);
  return k !== undefined && keywords.some((w) => w.toLocaleUpperCase('de-DE') === k);
}
