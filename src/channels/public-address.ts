import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ChannelApiError } from '../core/channel/channel-errors.ts';
import { isInternalAddress } from '../shared/internal-address.ts';

/**
 * Refuses a URL whose host is, or resolves to, a loopback, private, link-local, shared or multicast address (every
 * address the name resolves to is checked). Guards URLs taken from webhooks against server-side request forgery.
 * A name that changes its answer between this check and the download (DNS rebinding) is not covered.
 */
export async function assertPublicUrl(url: URL, what: string): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      throw new ChannelApiError('invalid_media_url', `${what}: the host does not resolve`, 400, false);
    }
  }
  if (addresses.length === 0 || addresses.some(isInternalAddress)) {
    throw new ChannelApiError('invalid_media_url', `${what}: the URL points to an internal address`, 400, false);
  }
}
