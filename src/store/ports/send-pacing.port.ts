/** Send slots claimed from the shared pace of a channel; all times by the database's clock (epoch ms). */
export interface SlotClaim {
  /** The first claimed slot; the others follow at the interval given. */
  start: number;
  /** The database's clock when the claim was made. */
  now: number;
  /** End of the channel's latest provider hold-off (0 if none yet). */
  heldUntil: number;
}

/**
 * The pace of each channel shared by every instance on one database (GCRA / virtual scheduling): a row per channel
 * holds the time of its next free send slot. Times come from the database's clock, so clock skew between the hosts
 * of the instances does not matter: each instance waits `start - now` by its own clock.
 */
export interface SendPacingPort {
  /**
   * Reserves `slots` consecutive slots `intervalMs` apart for `sender`, the first at the later of the next free slot
   * and `now + leadMs`, in one atomic statement.
   */
  claim(sender: string, slots: number, intervalMs: number, leadMs: number): Promise<SlotClaim>;
  /** The database's clock now (epoch ms), to map it to an instance's own clock before the first claim. */
  clock(): Promise<number>;
  /** No slot of `sender` before `now + ms`: moves the next free slot past the hold-off for every instance. */
  holdOff(sender: string, ms: number): Promise<{ heldUntil: number; now: number }>;
}
