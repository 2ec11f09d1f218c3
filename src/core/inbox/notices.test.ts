import { describe, expect, it } from 'vitest';
import {
  CONSENT_AGREE_ID,
  CONSENT_DECLINE_ID,
  channelPausedReply,
  declineReply,
  isKeyword,
  mediaRejectedReply,
  privacyNotice,
  stopConfirmation,
  type NoticeInbox,
} from './notices.ts';

const org = { name: 'Autohaus Beispiel GmbH', contact: 'datenschutz@example.org' };
const inbox = (over: Partial<NoticeInbox> = {}): NoticeInbox => ({
  language: 'de',
  retention: { consentTimeoutHours: 24, eraseAfterCloseDays: 0 },
  stopKeywords: ['STOP', 'WIDERRUF', 'ABMELDEN'],
  ...over,
});

describe('privacy notice', () => {
  it('fits WhatsApp limits in both languages: body ≤ 1024 characters, button titles ≤ 20', () => {
    for (const language of ['de', 'en'] as const) {
      for (const days of [0, 1, 30]) {
        const n = privacyNotice(
          inbox({ language, retention: { consentTimeoutHours: 24, eraseAfterCloseDays: days } }),
          org,
          true,
        );
        expect(n.text.length).toBeLessThanOrEqual(1024);
        expect(n.buttons).toHaveLength(2);
        for (const b of n.buttons!) expect(b.title.length).toBeLessThanOrEqual(20);
        expect(n.buttons!.map((b) => b.id)).toEqual([CONSENT_AGREE_ID, CONSENT_DECLINE_ID]);
        expect(n.text).toContain(org.contact);
      }
    }
  });

  it('states the retention and the consent timeout the inbox really has', () => {
    const now = privacyNotice(inbox(), org, true).text;
    expect(now).toContain('Sobald Ihre Anfrage erledigt ist, löschen wir den gesamten Verlauf.');
    expect(now).toContain('nach 24 Stunden');
    const later = privacyNotice(
      inbox({ retention: { consentTimeoutHours: 1, eraseAfterCloseDays: 30 } }),
      org,
      true,
    ).text;
    expect(later).toContain('30 Tage nach Abschluss');
    expect(later).toContain('nach einer Stunde');
    const en = privacyNotice(inbox({ language: 'en' }), org, true);
    expect(en.text).toContain('we delete the whole conversation');
    expect(en.buttons!.map((b) => b.title)).toEqual(['I agree', 'Decline']);
  });

  it('uses the inbox text verbatim when configured, and asks for keywords without buttons', () => {
    const custom = privacyNotice(inbox({ notice: { de: 'Unser eigener Hinweis.' } }), org, true);
    expect(custom.text).toBe('Unser eigener Hinweis.');
    const keywords = privacyNotice(inbox(), org, false);
    expect(keywords.buttons).toBeUndefined();
    expect(keywords.text).toMatch(/mit JA, um zuzustimmen, oder mit NEIN, um abzulehnen\.$/);
    expect(privacyNotice(inbox({ language: 'en' }), org, false).text).toMatch(/Reply YES to agree or NO to decline\.$/);
  });

  it('names the other ways to reach the organisation in decline, STOP and pause replies', () => {
    for (const language of ['de', 'en'] as const) {
      expect(declineReply(language, org)).toContain(org.contact);
      expect(stopConfirmation(language, org)).toContain(org.contact);
      expect(channelPausedReply(language, org)).toContain(org.contact);
      expect(mediaRejectedReply(language).length).toBeGreaterThan(20);
    }
  });

  it('matches keywords on the whole message, case-insensitive, ignoring a final punctuation mark', () => {
    expect(isKeyword(' widerruf ', ['STOP', 'WIDERRUF'])).toBe(true);
    expect(isKeyword('Stop!', ['STOP'])).toBe(true);
    expect(isKeyword('bitte nicht stoppen', ['STOP'])).toBe(false);
    expect(isKeyword('STOP das Auto', ['STOP'])).toBe(false);
    expect(isKeyword(undefined, ['STOP'])).toBe(false);
  });
});
