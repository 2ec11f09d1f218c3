import { IntlMessageFormat } from 'intl-messageformat';
import { describe, expect, it } from 'vitest';
import { appErrorStatus, type AppErrorCode } from '../../src/shared/app-error.ts';
import { ApiError } from '../../web/src/api.ts';
import { de, type MessageKey } from '../../web/src/i18n/messages.de.ts';
import { en } from '../../web/src/i18n/messages.en.ts';
import { ERROR_TEXT, LIST_ERROR_TEXT, errorText } from '../../web/src/shared/error-text.ts';
import { LIST_ERROR_REASONS, LIST_LIMITS } from '../../src/core/inbox/interactive-list.ts';

/**
 * The inbox shows a refused request in the interface's language: every error code the API can answer with has a
 * German and an English text, and the server's English message never reaches the screen.
 */
const translate =
  (locale: string, messages: Record<string, string>) => (key: MessageKey, values?: Record<string, string | number>) =>
    String(new IntlMessageFormat(messages[key]!, locale).format(values));
const german = translate('de-DE', de);
const english = translate('en-GB', en);
const codes = Object.keys(appErrorStatus) as AppErrorCode[];

describe('error texts', () => {
  it('has a German and an English text for every error code of the API', () => {
    const missing = codes.flatMap((code) => {
      const key = ERROR_TEXT[code] as string | undefined;
      const out: string[] = [];
      if (!key || !(de as Record<string, string>)[key]?.trim()) out.push(`de:${code}`);
      if (!key || !(en as Record<string, string>)[key]?.trim()) out.push(`en:${code}`);
      if (key && (de as Record<string, string>)[key] === (en as Record<string, string>)[key]) out.push(`same:${code}`);
      return out;
    });
    expect(missing).toEqual([]);
  });

  it('names the rule a refused list broke, for every reason the inbox gives, in German and English', () => {
    for (const reason of LIST_ERROR_REASONS) {
      const key = LIST_ERROR_TEXT[reason] as string | undefined;
      expect(key && (de as Record<string, string>)[key]?.trim(), `de:${reason}`).toBeTruthy();
      expect(key && (en as Record<string, string>)[key]?.trim(), `en:${reason}`).toBeTruthy();
    }
    const rows = new ApiError(400, 'VALIDATION', 'a list has at most 10 rows', {
      field: 'list',
      reason: 'list_rows',
      limit: LIST_LIMITS.rows,
    });
    expect(errorText(rows, german)).toBe('Eine Liste hat höchstens 10 Zeilen.');
    expect(errorText(rows, english)).toBe('A list has at most 10 rows.');
  });

  it('never shows the server message, in either language', () => {
    for (const code of codes) {
      const error = new ApiError(appErrorStatus[code], code, 'SERVER-MESSAGE in English', {});
      expect(errorText(error, german)).not.toContain('SERVER-MESSAGE');
      expect(errorText(error, english)).not.toContain('SERVER-MESSAGE');
    }
    expect(errorText(new ApiError(502, 'HTTP', 'HTTP 502'), german)).toBe(
      'Unerwartete Antwort des Servers (HTTP 502).',
    );
    expect(errorText(new TypeError('Failed to fetch'), english)).toBe(
      'The server cannot be reached. Please check the connection.',
    );
  });

  it('says what went wrong at login, in the lock and for a too long reply', () => {
    const wrong = new ApiError(401, 'UNAUTHENTICATED', 'e-mail address or password is wrong');
    expect(errorText(wrong, german, 'login')).toBe('E-Mail-Adresse oder Passwort ist falsch.');
    expect(errorText(wrong, english, 'totp')).toBe('The code is wrong or expired.');
    const locked = new ApiError(429, 'RATE_LIMITED', 'too many failed attempts', { retryAfterSeconds: 900 });
    expect(errorText(locked, german)).toContain('noch 15 Minuten gesperrt');
    expect(errorText(locked, english)).toContain('locked for 15 more minutes');
    const long = new ApiError(422, 'TEXT_TOO_LONG', 'too long', { field: 'text', limit: 4096, length: 10000 });
    expect(errorText(long, german)).toContain('10.000 Zeichen, dieser Kanal nimmt höchstens 4.096');
    const password = new ApiError(400, 'VALIDATION', 'the current password is wrong', { field: 'currentPassword' });
    expect(errorText(password, german)).toBe('Das aktuelle Passwort ist falsch.');
    const shortcut = new ApiError(400, 'VALIDATION', 'the shortcut has …', { field: 'shortcut' });
    expect(errorText(shortcut, german)).toMatch(/^Das Kürzel hat 1 bis 32 Zeichen/);
    const nothing = new ApiError(404, 'NOT_FOUND', 'sparsam holds no data', { field: 'address' });
    expect(errorText(nothing, german)).toBe('sparsam hat zu dieser Adresse auf diesem Kanal keine Daten.');
  });
});
