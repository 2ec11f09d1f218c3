import type { MessageKey } from '../i18n/messages.de.ts';

type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

const REASON_TEXT: Record<string, MessageKey> = {
  quality_low: 'wa.reason.quality_low',
  flagged: 'wa.reason.flagged',
  restricted: 'wa.reason.restricted',
  banned: 'wa.reason.banned',
  violation: 'wa.reason.violation',
};

/** The words for a WhatsApp account-health reason (the API's content-free key). */
export function reasonText(reason: string, t: Translate): string {
  const key = REASON_TEXT[reason];
  return key ? t(key) : reason;
}
