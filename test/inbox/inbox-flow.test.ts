import { afterEach, beforeEach, expect, it } from 'vitest';
import { CONSENT_AGREE_ID, CONSENT_DECLINE_ID } from '../../src/core/inbox/notices.ts';
import { noticeVersion } from '../../src/core/privacy/consent/consent.service.ts';
import { HOUR_MS } from '../../src/shared/clock.ts';
import { describeEachStore } from '../support/stores.ts';
import {
  CUSTOMER,
  ORG_CONTACT,
  buttonReply,
  startWorld,
  statusUpdate,
  textMessage,
  type World,
} from './inbox-world.ts';

describeEachStore('inbox consent flow', (dialect) => {
  let w: World;
  beforeEach(async () => {
    w = await startWorld(dialect);
  });
  afterEach(async () => {
    await w.close();
  });

  async function list(view = 'all') {
    const res = await w.api('GET', `/api/v1/conversations?view=${view}`);
    expect(res.statusCode).toBe(200);
    return res.json().items as { id: string; label: string; unread: number; state: string }[];
  }

  it('holds the first message, sends the notice with buttons, and shows the conversation after consent', async () => {
    const res = await w.webhook(textMessage(w.clock, 'wamid.IN1', 'Mein Auto macht Geräusche'));
    expect(res.statusCode).toBe(200);
    await w.drain();

    // The notice went to the customer, with agree/decline buttons.
    expect(w.graph.sends).toHaveLength(1);
    const notice = w.graph.sends[0]!;
    expect(notice.to).toBe(CUSTOMER);
    expect(notice.type).toBe('interactive');
    const interactive = notice.body.interactive as {
      body: { text: string };
      action: { buttons: { reply: { id: string; title: string } }[] };
    };
    expect(interactive.body.text).toContain(ORG_CONTACT);
    // It links to the full privacy notice (Art. 13), a public page in the inbox's language.
    const link = /Vollständige Datenschutzhinweise: (\S+)$/.exec(interactive.body.text)?.[1];
    expect(link).toMatch(/^http:\/\/localhost:\d+\/privacy-notice\?lang=de$/);
    const page = await w.sparsam.http.inject({ method: 'GET', url: '/privacy-notice?lang=de' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('Datenschutz');
    expect(page.body).toContain(ORG_CONTACT);
    expect(interactive.action.buttons.map((b) => b.reply)).toEqual([
      { id: CONSENT_AGREE_ID, title: 'Zustimmen' },
      { id: CONSENT_DECLINE_ID, title: 'Ablehnen' },
    ]);

    // Waiting for consent: invisible to staff.
    expect(await list()).toEqual([]);

    // Agree.
    expect((await w.webhook(buttonReply(w.clock, 'wamid.IN2', CONSENT_AGREE_ID, 'Zustimmen'))).statusCode).toBe(200);
    const items = await list();
    expect(items).toHaveLength(1);
    expect(items[0]!.label).toBe('Anfrage 1');
    // The customer's message is unread; the tap on "Zustimmen" is not.
    expect(items[0]!.unread).toBe(1);
    // The customer is told the message arrived (through the outbox, in the inbox's language).
    await w.drain();
    const confirmation = w.graph.sends[1]!;
    expect(confirmation.type).toBe('text');
    expect((confirmation.body.text as { body: string }).body).toMatch(/^Danke für Ihre Zustimmung!.*STOP\.$/);

    const detail = await w.api('GET', `/api/v1/conversations/${items[0]!.id}`);
    expect(detail.statusCode).toBe(200);
    const texts = (detail.json().messages as { direction: string; text: string | null }[]).map((m) => [
      m.direction,
      m.text,
    ]);
    expect(texts[0]).toEqual(['in', 'Mein Auto macht Geräusche']);
    expect(texts.some(([d, t]) => d === 'out' && t === interactive.body.text)).toBe(true);
    expect(JSON.stringify(detail.json())).not.toContain(CUSTOMER);

    // The consent is recorded with the hash of the exact notice text sent.
    const grants = await w.sparsam.store.db.selectFrom('consent_events').selectAll().execute();
    expect(grants).toHaveLength(1);
    expect(grants[0]!.action).toBe('grant');
    expect(grants[0]!.notice_version).toBe(noticeVersion(interactive.body.text));
    expect(grants[0]!.method).toBe(`button:${CONSENT_AGREE_ID}`);
    expect(grants[0]!.evidence_message_id).toBeTruthy();
  });

  it('lets an agent reply, tracks delivery forward only, and erases at once on close', async () => {
    await w.webhook(textMessage(w.clock, 'wamid.A1', 'Hallo'));
    await w.webhook(buttonReply(w.clock, 'wamid.A2', CONSENT_AGREE_ID, 'Zustimmen'));
    await w.drain();
    const [conv] = await list();
    const reply = await w.api('POST', `/api/v1/conversations/${conv!.id}/messages`, {
      text: 'Kommen Sie morgen vorbei.',
    });
    expect(reply.statusCode).toBe(202);
    expect(reply.json().message.status).toBe('queued');
    await w.drain();
    const sent = w.graph.sends.find(
      (s) => s.type === 'text' && (s.body.text as { body: string }).body === 'Kommen Sie morgen vorbei.',
    );
    expect(sent?.to).toBe(CUSTOMER);
    expect((sent!.body.text as { body: string }).body).toBe('Kommen Sie morgen vorbei.');

    const statusOf = async () => {
      const d = await w.api('GET', `/api/v1/conversations/${conv!.id}`);
      return (d.json().messages as { id: string; status: string }[]).find((m) => m.id === reply.json().message.id)!
        .status;
    };
    expect(await statusOf()).toBe('sent');
    await w.webhook(statusUpdate(w.clock, sent!.id, 'read'));
    expect(await statusOf()).toBe('read');
    // A late 'delivered' does not move it back.
    await w.webhook(statusUpdate(w.clock, sent!.id, 'delivered'));
    expect(await statusOf()).toBe('read');

    const closed = await w.api('POST', `/api/v1/conversations/${conv!.id}/close`);
    expect(closed.statusCode).toBe(200);
    expect(closed.json().conversation.state).toBe('closed');
    expect(closed.json().conversation.erased).toBe(true);
    expect((await w.api('GET', `/api/v1/conversations/${conv!.id}`)).statusCode).toBe(404);
    const rows = await w.sparsam.store.db.selectFrom('messages').select('id').execute();
    expect(rows).toHaveLength(0);
  });

  it('refuses free text outside the 24-hour window before any provider call', async () => {
    await w.webhook(textMessage(w.clock, 'wamid.W1', 'Hallo'));
    await w.webhook(buttonReply(w.clock, 'wamid.W2', CONSENT_AGREE_ID, 'Zustimmen'));
    await w.drain();
    const [conv] = await list();
    const before = w.graph.sends.length;
    w.clock.advance(25 * HOUR_MS);
    const res = await w.api('POST', `/api/v1/conversations/${conv!.id}/messages`, { text: 'Noch da?' });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('WINDOW_CLOSED');
    expect(res.json().error.message).toMatch(/24 hours.*template/);
    // A template is still allowed.
    const tpl = await w.api('POST', `/api/v1/conversations/${conv!.id}/messages`, {
      template: { name: 'appointment_reminder', language: 'de', parameters: ['24.11.', '10:00'] },
    });
    expect(tpl.statusCode).toBe(202);
    await w.drain();
    expect(w.graph.sends.slice(before).map((s) => s.type)).toEqual(['template']);
  });
});
