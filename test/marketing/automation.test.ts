import { afterEach, expect, it } from 'vitest';
import { HOUR_MS } from '../../src/shared/clock.ts';
import { describeEachStore } from '../support/stores.ts';
import type { World } from '../inbox/inbox-world.ts';
import { AWAY, GREETING, consentedCustomer, say, startMarketingWorld, textsTo } from './marketing-world.ts';

const ANNA = '4915111111111';

describeEachStore('automated messages', (dialect) => {
  let w: World;
  afterEach(async () => {
    await w.close();
  });

  it('greets once when the conversation opens after consent, never before and never twice', async () => {
    w = await startMarketingWorld(dialect);
    // Monday 23 Nov 2026 10:00 in Berlin: inside business hours.
    await say(w, ANNA, 'Hallo');
    expect(textsTo(w, ANNA).filter((t) => t === GREETING)).toHaveLength(0); // waiting for consent: notice only
    await consentedCustomer(w, ANNA);
    expect(textsTo(w, ANNA).filter((t) => t === GREETING)).toHaveLength(1);
    await say(w, ANNA, 'Noch eine Frage');
    await say(w, ANNA, 'Und noch eine');
    expect(textsTo(w, ANNA).filter((t) => t === GREETING)).toHaveLength(1);
    expect(textsTo(w, ANNA)).not.toContain(AWAY);
  });

  it('sends the away message outside business hours, at most once per cooldown, and not inside hours', async () => {
    w = await startMarketingWorld(dialect);
    w.clock.set(new Date(Date.UTC(2026, 10, 23, 20, 0))); // Monday 21:00 in Berlin: closed
    await consentedCustomer(w, ANNA);
    expect(textsTo(w, ANNA).filter((t) => t === AWAY)).toHaveLength(1);
    w.clock.advance(HOUR_MS); // 22:00, within the 12 h cooldown
    await say(w, ANNA, 'Hallo?');
    expect(textsTo(w, ANNA).filter((t) => t === AWAY)).toHaveLength(1);
    w.clock.set(new Date(Date.UTC(2026, 10, 24, 10, 0))); // Tuesday 11:00: open, cooldown over: no away message
    await say(w, ANNA, 'Guten Morgen');
    expect(textsTo(w, ANNA).filter((t) => t === AWAY)).toHaveLength(1);
    w.clock.set(new Date(Date.UTC(2026, 10, 24, 21, 0))); // Tuesday 22:00: closed again, 25 h after the first
    await say(w, ANNA, 'Noch jemand da?');
    expect(textsTo(w, ANNA).filter((t) => t === AWAY)).toHaveLength(2);
    w.clock.set(new Date(Date.UTC(2026, 11, 24, 10, 0))); // Thursday 24 Dec 11:00: a holiday, closed all day
    await say(w, ANNA, 'Frohe Weihnachten');
    expect(textsTo(w, ANNA).filter((t) => t === AWAY)).toHaveLength(3);
  });

  it('sends nothing automated when the inbox has no automation configured', async () => {
    w = await startMarketingWorld(dialect, false);
    w.clock.set(new Date(Date.UTC(2026, 10, 23, 20, 0)));
    await consentedCustomer(w, ANNA);
    await say(w, ANNA, 'Hallo?');
    expect(textsTo(w, ANNA)).not.toContain(GREETING);
    expect(textsTo(w, ANNA)).not.toContain(AWAY);
  });
});
