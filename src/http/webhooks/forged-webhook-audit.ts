import type { AuditPort } from '../../core/inbox/inbox.ports.ts';

type Details = Record<string, string | number | boolean | null>;

interface Window {
  start: number;
  seen: number;
  /** Forgeries past the individually audited ones, waiting for the window's summary entry. */
  suppressed: number;
  timer?: NodeJS.Timeout;
}

/**
 * Audits forged or unsigned webhooks without letting a flood fill the audit log (kept for years): per channel and
 * minute the first few are written one by one, the rest become one `webhook.forged` entry with their `count`
 * (`aggregated: true`) at the end of the minute. The metric `sparsam_webhooks_total{result="forged"}` counts every
 * one as it happens.
 */
export class ForgedWebhookAudit {
  readonly #windows = new Map<string, Window>();

  constructor(
    private readonly audit: Pick<AuditPort, 'append'>,
    private readonly options: { individual?: number; windowMs?: number; now?: () => number } = {},
  ) {}

  private get individual(): number {
    return this.options.individual ?? 5;
  }
  private get windowMs(): number {
    return this.options.windowMs ?? 60_000;
  }

  async record(channelId: string, details: Details): Promise<void> {
    const now = (this.options.now ?? Date.now)();
    let w = this.#windows.get(channelId);
    if (w && now - w.start >= this.windowMs) {
      await this.flushChannel(channelId);
      w = undefined;
    }
    if (!w) {
      w = { start: now, seen: 0, suppressed: 0 };
      this.#windows.set(channelId, w);
    }
    w.seen += 1;
    if (w.seen <= this.individual) {
      await this.append(channelId, { ...details, count: 1 });
      return;
    }
    w.suppressed += 1;
    if (!w.timer) {
      w.timer = setTimeout(() => void this.flushChannel(channelId).catch(() => undefined), this.windowMs);
      w.timer.unref();
    }
  }

  /** Writes the summary entries of every open window now (at shutdown, and for tests). */
  async flush(): Promise<void> {
    for (const channelId of [...this.#windows.keys()]) await this.flushChannel(channelId);
  }

  private async flushChannel(channelId: string): Promise<void> {
    const w = this.#windows.get(channelId);
    if (!w) return;
    this.#windows.delete(channelId);
    if (w.timer) clearTimeout(w.timer);
    if (w.suppressed > 0) {
      await this.append(channelId, {
        count: w.suppressed,
        aggregated: true,
        windowStart: new Date(w.start).toISOString(),
      });
    }
  }

  private async append(channelId: string, details: Details): Promise<void> {
    await this.audit.append({
      actor: `webhook:${channelId}`,
      action: 'webhook.forged',
      targetType: 'channel',
      targetId: channelId,
      result: 'denied',
      details,
    });
  }
}
