import { afterEach, beforeEach, expect, it } from 'vitest';
import { ConsentService, noticeVersion } from '../../src/core/privacy/consent/consent.service.ts';
import { HOUR_MS, ManualClock } from '../../src/shared/clock.ts';
import { ConsentStore } from '../../src/store/sql/consent.store.ts';
import { describeEachStore, openTestStore, type TestStore } from '../support/stores.ts';
import { keyServiceFor } from './fixtures.ts';

const NOTICE = 'Hallo! Wir verarbeiten Ihre Nachricht gemäß unserer Datenschutzerklärung. Einverstanden?';

describeEachStore('ConsentService', (dialect) => {
  let t: TestStore;
  let clock: ManualClock;
  let consent: ConsentService;
  beforeEach(async () => {
    t = await openTestStore(dialect);
    clock = new ManualClock();
    consent = new ConsentService(new ConsentStore(t.store.db), keyServiceFor(t.store, clock), clock);
  });
  afterEach(async () => t.cleanup());

  it('notice versions are the SHA-256 of the exact text', () => {
    expect(noticeVersion(NOTICE)).toMatch(/^[0-9a-f]{64}$/);
    expect(noticeVersion(NOTICE)).not.toBe(noticeVersion(`${NOTICE} `));
  });

  it('answers with a reason: never asked, granted (with notice and message), then withdrawn', async () => {
    expect(await consent.status('ct1', 'service')).toEqual({ allowed: false, reason: 'never-asked' });
    const v = noticeVersion(NOTICE);
    await consent.grant({
      contactId: 'ct1',
      channelId: 'wa',
      purpose: 'service',
      noticeVersion: v,
      method: 'button:consent_yes',
      evidenceMessageId: 'msg-1',
    });
    const granted = await consent.status('ct1', 'service');
    expect(granted).toMatchObject({ allowed: true, reason: 'granted', noticeVersion: v, evidenceMessageId: 'msg-1' });
    expect(granted.since).toBe(clock.now().getTime());
    clock.advance(HOUR_MS);
    await consent.withdraw({ contactId: 'ct1', channelId: 'wa', purpose: 'service', method: 'keyword:STOP' });
    expect(await consent.status('ct1', 'service')).toMatchObject({
      allowed: false,
      reason: 'withdrawn',
      method: 'keyword:STOP',
    });
    // A new grant later is honoured again.
    clock.advance(HOUR_MS);
    await consent.grant({
      contactId: 'ct1',
      channelId: 'wa',
      purpose: 'service',
      noticeVersion: v,
      method: 'button:consent_yes',
    });
    expect((await consent.status('ct1', 'service')).allowed).toBe(true);
    expect((await consent.history('ct1')).map((h) => h.action)).toEqual(['grant', 'withdraw', 'grant']);
  });

  it('a withdrawal in the same millisecond as a grant wins', async () => {
    const v = noticeVersion(NOTICE);
    await consent.withdraw({ contactId: 'ct2', channelId: 'wa', purpose: 'service', method: 'keyword:STOP' });
    await consent.grant({
      contactId: 'ct2',
      channelId: 'wa',
      purpose: 'service',
      noticeVersion: v,
      method: 'button:yes',
    });
    expect(await consent.status('ct2', 'service')).toMatchObject({ allowed: false, reason: 'withdrawn' });
  });

  it('keeps marketing separate from service', async () => {
    const v = noticeVersion(NOTICE);
    await consent.grant({
      contactId: 'ct3',
      channelId: 'wa',
      purpose: 'service',
      noticeVersion: v,
      method: 'button:yes',
    });
    expect(await consent.status('ct3', 'marketing')).toEqual({ allowed: false, reason: 'never-asked' });
    await consent.grant({
      contactId: 'ct3',
      channelId: 'wa',
      purpose: 'marketing',
      noticeVersion: v,
      method: 'button:news',
    });
    clock.advance(1000);
    await consent.withdraw({ contactId: 'ct3', channelId: 'wa', purpose: 'marketing', method: 'keyword:STOP' });
    expect((await consent.status('ct3', 'marketing')).reason).toBe('withdrawn');
    expect((await consent.status('ct3', 'service')).allowed).toBe(true);
  });

  it('stores import evidence sealed, and refuses bad input without writing anything', async () => {
    const evidence = 'Papierformular, unterschrieben von Frau Beispiel am Empfang';
    await consent.grant({
      contactId: 'ct4',
      channelId: 'wa',
      purpose: 'marketing',
      noticeVersion: null,
      method: 'api-import',
      evidence,
    });
    const rows = await t.store.db.selectFrom('consent_events').selectAll().execute();
    expect(Buffer.from(rows[0]!.evidence_enc!).includes(Buffer.from('Papierformular'))).toBe(false);
    expect((await consent.history('ct4'))[0]!.evidence).toBe(evidence);

    await expect(
      consent.grant({
        contactId: 'ct4',
        channelId: 'wa',
        purpose: 'marketing',
        noticeVersion: null,
        method: 'api-import',
      }),
    ).rejects.toThrow(/needs evidence/);
    await expect(
      consent.grant({
        contactId: 'ct4',
        channelId: 'wa',
        purpose: 'ads' as never,
        noticeVersion: null,
        method: 'button:x',
      }),
    ).rejects.toThrow(/purpose must be one of/);
    await expect(
      consent.grant({ contactId: 'ct4', channelId: 'wa', purpose: 'service', noticeVersion: 'v1', method: 'button:x' }),
    ).rejects.toThrow(/SHA-256/);
    await expect(
      consent.withdraw({ contactId: 'ct4', channelId: 'wa', purpose: 'service', method: 'said no on the phone' }),
    ).rejects.toThrow(/short code/);
    expect(await t.store.db.selectFrom('consent_events').selectAll().execute()).toHaveLength(1);
  });
});
