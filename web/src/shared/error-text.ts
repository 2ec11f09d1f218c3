import type { AppErrorCode } from '../../../src/shared/app-error.ts';
import type { ListErrorReason } from '../../../src/core/inbox/interactive-list.ts';
import { ApiError } from '../api.ts';
import type { MessageKey } from '../i18n/messages.de.ts';

/** The inbox's translate function (i18n.tsx's `t`), named here so that this module stays free of React. */
type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

/**
 * The text a person reads when sparsam refuses a request, in the interface's language. The API answers with a stable
 * code (src/shared/app-error.ts) and content-free details (field, limit, retry time); the English `message` beside
 * them is for logs and API clients and never reaches the screen. Every code has a German and an English text
 * (test/web/error-text.test.ts fails when one is missing); a few details make the text more precise.
 */
export const ERROR_TEXT: Record<AppErrorCode, MessageKey> = {
  VALIDATION: 'error.VALIDATION',
  NOT_FOUND: 'error.NOT_FOUND',
  UNAUTHENTICATED: 'error.UNAUTHENTICATED',
  FORBIDDEN: 'error.FORBIDDEN',
  CONFLICT: 'error.CONFLICT',
  PAYLOAD_TOO_LARGE: 'error.PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA: 'error.UNSUPPORTED_MEDIA',
  RATE_LIMITED: 'error.RATE_LIMITED',
  SIGNATURE_INVALID: 'error.SIGNATURE_INVALID',
  CONSENT_REQUIRED: 'error.CONSENT_REQUIRED',
  WINDOW_CLOSED: 'error.WINDOW_CLOSED',
  TEXT_TOO_LONG: 'error.TEXT_TOO_LONG',
  CHANNEL_DISABLED: 'error.CHANNEL_DISABLED',
  CONFIG: 'error.CONFIG',
  STORE_UNAVAILABLE: 'error.STORE_UNAVAILABLE',
  PROVIDER_REFUSED: 'error.PROVIDER_REFUSED',
  INTERNAL: 'error.INTERNAL',
};

/** Texts for a refused interactive list, by `details.reason` (every reason the inbox gives has one). */
export const LIST_ERROR_TEXT: Record<ListErrorReason, MessageKey> = {
  list_unsupported: 'error.list.list_unsupported',
  list_text_too_long: 'error.list.list_text_too_long',
  list_button: 'error.list.list_button',
  list_sections: 'error.list.list_sections',
  list_rows: 'error.list.list_rows',
  list_empty_section: 'error.list.list_empty_section',
  list_section_title: 'error.list.list_section_title',
  list_row_title: 'error.list.list_row_title',
  list_row_description: 'error.list.list_row_description',
  list_row_id: 'error.list.list_row_id',
  list_row_duplicate: 'error.list.list_row_duplicate',
  list_with_buttons: 'error.list.list_with_buttons',
  list_with_quote: 'error.list.list_with_quote',
};

/** Texts for a VALIDATION error that names the field at fault. */
const FIELD_TEXT: Partial<Record<string, MessageKey>> = {
  currentPassword: 'error.field.currentPassword',
  password: 'error.field.password',
  code: 'error.field.code',
  shortcut: 'error.field.shortcut',
  email: 'error.field.email',
  displayName: 'error.field.displayName',
  text: 'error.field.text',
  address: 'error.field.address',
  role: 'error.field.role',
  language: 'error.field.language',
  url: 'error.field.url',
  events: 'error.field.events',
  legalBasis: 'error.field.legalBasis',
  legalBasisNote: 'error.field.legalBasis',
  inboxId: 'error.field.inboxId',
};

/**
 * Where the error happened, for codes whose meaning depends on the step: UNAUTHENTICATED on the password step means
 * "e-mail or password wrong", on the code step "code wrong or expired".
 */
export type ErrorContext = 'login' | 'totp' | 'recovery';

export function errorText(error: unknown, t: Translate, context?: ErrorContext): string {
  if (!(error instanceof ApiError)) return t('error.network');
  const details = error.details ?? {};
  const field = typeof details.field === 'string' ? details.field : undefined;
  switch (error.code) {
    case 'UNAUTHENTICATED':
      if (context === 'login') return t('error.login.password');
      if (context === 'totp') return t('error.login.code');
      if (context === 'recovery') return t('error.login.recovery');
      break;
    case 'RATE_LIMITED':
      if (typeof details.retryAfterSeconds === 'number') {
        return t('error.RATE_LIMITED.minutes', { n: Math.max(1, Math.ceil(details.retryAfterSeconds / 60)) });
      }
      break;
    case 'TEXT_TOO_LONG':
      if (typeof details.limit === 'number') {
        return t('error.TEXT_TOO_LONG.limit', {
          limit: details.limit,
          length: typeof details.length === 'number' ? details.length : details.limit + 1,
        });
      }
      break;
    case 'NOT_FOUND':
      if (field === 'address') return t('error.NOT_FOUND.address');
      break;
    case 'CONFLICT':
      if (details.reason === 'view_name_taken') return t('error.field.viewNameTaken');
      break;
    case 'FORBIDDEN':
      if (details.reason === 'csrf') return t('error.FORBIDDEN.csrf');
      break;
    case 'PROVIDER_REFUSED':
      if (typeof details.reason === 'string') return t('error.PROVIDER_REFUSED.reason', { reason: details.reason });
      break;
    case 'VALIDATION': {
      if (details.reason === 'label_not_in_list') return t('error.field.labelNotInList');
      if (details.reason === 'until_in_past') return t('error.field.untilPast');
      if (details.reason === 'until_too_far') return t('error.field.untilFar');
      if (details.reason === 'view_name_length') return t('error.field.viewName');
      if (details.reason === 'too_many_views' && typeof details.limit === 'number') {
        return t('error.field.tooManyViews', { n: details.limit });
      }
      if (field === 'labels' || field === 'label') return t('error.field.label');
      if (field === 'list' && typeof details.reason === 'string' && details.reason in LIST_ERROR_TEXT) {
        return t(LIST_ERROR_TEXT[details.reason as ListErrorReason], {
          limit: typeof details.limit === 'number' ? details.limit : '',
        });
      }
      if (field === 'voice') return t('error.field.voice');
      const key = field ? FIELD_TEXT[field] : undefined;
      if (key) return t(key);
      break;
    }
  }
  const key = ERROR_TEXT[error.code as AppErrorCode] as MessageKey | undefined;
  return t(key ?? 'error.unknown', { status: error.status });
}
