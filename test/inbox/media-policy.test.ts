import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { describeEachStore } from '../support/stores.ts';
import { buttonReply, imageMessage, startWorld, textMessage, type World } from './inbox-world.ts';

describeEachStore('inbox media policy reject', (dialect) => {
  let w: World;
  beforeEach(async () => {
    w = await startWorld(dialect, { media: 'reject' });
  });
  afterEach(async () => {
    await w.close();
  });

  it('never downloads attachments, and replies once per conversation that only text is accepted', async () => {
    await w.webhook(textMessage(w.clock, 'wamid.M1', 'Hallo'));
    await w.webhook(buttonReply(w.clock, 'wamid.M2', CONSENT_AGREE_ID, 'Zustimmen'));
    await w.drain();
    w.graph.media.set('photo-a', {
      data: readFileSync('/work/shared/fixtures/images/jpg_Canon_40D.jpg'),
      mime: 'image/jpeg',
    });
    await w.webhook(imageMessage(w.clock, 'wamid.M3', 'photo-a'));
    await w.webhook(imageMessage(w.clock, 'wamid.M4', 'photo-a'));
    await w.drain();
    expect(w.graph.mediaRequests).toBe(0);
    // Text replies besides the confirmation of the consent.
    const replies = w.graph.sends.filter(
      (s) => s.type === 'text' && !(s.body.text as { body: string }).body.startsWith('Danke für Ihre Zustimmung'),
    );
    expect(replies).toHaveLength(1);
    expect((replies[0]!.body.text as { body: string }).body).toContain('nur Text');
    const media = await w.sparsam.store.db.selectFrom('media').selectAll().execute();
    expect(media.map((m) => [m.state, m.data_enc])).toEqual([
      ['rejected', null],
      ['rejected', null],
    ]);
    const [conv] = (await w.api('GET', '/api/v1/conversations')).json().items as { id: string }[];
    const shown = (await w.api('GET', `/api/v1/conversations/${conv!.id}`)).json().messages as {
      media: { state: string } | null;
    }[];
    expect(shown.filter((m) => m.media?.state === 'rejected')).toHaveLength(2);
    expect((await w.api('GET', `/api/v1/media/${media[0]!.id}`)).statusCode).toBe(404);
  });
});
