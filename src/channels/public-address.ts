import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { ChannelApiError } from '../core/channel/channel-errors.ts';

/** Addresses a media URL from a webhook must never reach: this machine, the private network, link-local, etc. */
const internal = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  internal.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  internal.addSubnet(net, prefix, 'ipv6');
}

function isInternal(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return internal.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    return mapped ? internal.check(mapped[1]!, 'ipv4') : internal.check(address, 'ipv6');
  }
  return true;
}

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
  if (addresses.length === 0 || addresses.some(isInternal)) {
    throw new ChannelApiError('invalid_media_url', `${what}: the URL points to an internal address`, 400, false);
  }
}
