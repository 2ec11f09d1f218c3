import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WalSync } from '../../src/store/sqlite/deferred-sync.ts';
import { startWorld, textMessage, type World } from './inbox-world.ts';

/**
 * On SQLite the inbound group commits without waiting for the disk on the event loop; the WAL is flushed in the
 * thread pool (WalSync). A webhook must still be answered only once its message would survive a power loss.
 */
describe('a webhook is acknowledged only once its commit is on disk [sqlite]', () => {
  let w: World;
  beforeEach(async () => {
    w = await startWorld('sqlite');
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await w.close();
  });

  // The world starts empty: every inbound row is the webhook's (provider ids are stored as keyed hashes).
  const stored = async () =>
    (await w.sparsam.store.db.selectFrom('messages').select('id').where('direction', '=', 'in').execute()).length;

  it('waits for the flush of the WAL before answering 200', async () => {
    let finish!: () => void;
    const flushes = vi
      .spyOn(WalSync.prototype, 'sync')
      .mockImplementation(() => new Promise<void>((resolve) => (finish = resolve)));
    let answered = false;
    const response = w.webhook(textMessage(w.clock, 'wamid.D1', 'Guten Tag')).then((r) => {
      answered = true;
      return r;
    });
    while ((await stored()) === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    // Committed and visible to the inbox, but not yet flushed: no answer to the provider yet.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(flushes).toHaveBeenCalled();
    expect(answered).toBe(false);
    finish();
    expect((await response).statusCode).toBe(200);
  });

  it('answers an error when the flush fails, and the redelivery is answered 200 without a second message', async () => {
    vi.spyOn(WalSync.prototype, 'sync').mockRejectedValue(new Error('EIO: the disk failed'));
    const failed = await w.webhook(textMessage(w.clock, 'wamid.D2', 'Hallo'));
    expect(failed.statusCode).toBe(500);
    expect(await stored()).toBe(1); // committed, but not known to be on disk: the provider must send it again
    vi.restoreAllMocks();
    const again = await w.webhook(textMessage(w.clock, 'wamid.D2', 'Hallo'));
    expect(again.statusCode).toBe(200);
    expect(await stored()).toBe(1);
  });
});
