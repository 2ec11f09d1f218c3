import { channelModule, type ChannelConfig } from './registry.ts';

/** Result of a channel's "test connection" check; `detail` is content-free (a provider code or a name). */
export interface ChannelCheck {
  ok: boolean;
  detail: string;
  /** Machine-readable outcome, for the UI's own wording. */
  reason?: 'connected' | 'refused' | 'timeout' | 'unreachable' | 'unsupported';
  /** The provider's name of the account (verified business name, page name, bot username). */
  name?: string;
  httpStatus?: number;
}

/**
 * "Test connection" for the admin screen: the kind module's one read-only call to the provider with the channel's
 * credentials ({@link ChannelModule.connectionProbe}). Returns a content-free verdict (the provider's status or
 * error code, the verified business name, page name or bot username), never the credentials.
 */
export async function checkChannelConnection(
  channel: ChannelConfig,
  fetchImpl: typeof fetch = fetch,
  timeoutMs = 8000,
): Promise<ChannelCheck> {
  const probe = channelModule(channel.kind)?.connectionProbe(channel);
  if (!probe) return { ok: false, reason: 'unsupported', detail: 'no connection check for this kind of channel yet' };
  try {
    const res = await fetchImpl(probe.url, { headers: probe.headers ?? {}, signal: AbortSignal.timeout(timeoutMs) });
    let body: Record<string, unknown> = {};
    try {
      body = (await res.json()) as Record<string, unknown>;
    } catch {
      body = {};
    }
    if (!res.ok) {
      const err = (body.error ?? {}) as { code?: unknown };
      const code = typeof err.code === 'number' || typeof err.code === 'string' ? ` (code ${err.code})` : '';
      return {
        ok: false,
        reason: 'refused',
        httpStatus: res.status,
        detail: `the provider answered HTTP ${res.status}${code}`,
      };
    }
    const name =
      typeof body.verified_name === 'string'
        ? body.verified_name
        : typeof body.name === 'string'
          ? body.name
          : typeof (body.result as { username?: unknown } | undefined)?.username === 'string'
            ? `@${(body.result as { username: string }).username}`
            : undefined;
    const short = name?.slice(0, 80);
    return {
      ok: true,
      reason: 'connected',
      ...(short ? { name: short } : {}),
      detail: short ? `connected: ${short}` : `connected (HTTP ${res.status})`,
    };
  } catch (error) {
    const timeout = (error as Error).name === 'TimeoutError';
    return timeout
      ? { ok: false, reason: 'timeout', detail: 'the provider did not answer in time' }
      : { ok: false, reason: 'unreachable', detail: 'the provider could not be reached' };
  }
}
