import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { WebhookAttemptResult, WebhookTransport } from '../core/webhooks/webhook.service.ts';
import { isInternalAddress } from '../shared/internal-address.ts';

export interface WebhookTransportOptions {
  /** An attempt is given up after this long (10 s): connect, send, answer. */
  timeoutMs?: number;
}

class PrivateTargetError extends Error {
  readonly code = 'EPRIVATETARGET';
}

/**
 * Resolves the name and refuses internal addresses unless allowed. The check runs in the socket's own lookup, on
 * the addresses it then connects to, so a name cannot answer differently between check and connect (DNS rebinding).
 */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 4);
      if (addresses.length === 0) return callback(new Error('no address'), '', 4);
      if (!allowPrivate && addresses.some((a) => isInternalAddress(a.address))) {
        return callback(new PrivateTargetError('private target'), '', 4);
      }
      const wanted = addresses.filter((a) => !options.family || a.family === options.family);
      const usable = wanted.length > 0 ? wanted : addresses;
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, usable);
      callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
}

/**
 * Delivers outgoing webhooks with Node's http(s) client: one POST, no redirect followed (a 3xx is a failed attempt),
 * loopback/private/link-local targets refused after resolution unless the endpoint allows them, the answer's body
 * read up to 64 KiB and dropped. Errors are described without content (a code, never the URL's query).
 */
export class NodeWebhookTransport implements WebhookTransport {
  readonly #timeoutMs: number;

  constructor(options: WebhookTransportOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  post(
    url: string,
    headers: Record<string, string>,
    body: string,
    options: { allowPrivateTarget: boolean },
  ): Promise<WebhookAttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.resolve({ error: 'invalid URL', durationMs: 0 });
    }
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !options.allowPrivateTarget && isInternalAddress(host)) {
      return Promise.resolve({ error: 'private target', durationMs: elapsed() });
    }
    if (target.protocol !== 'https:' && !(target.protocol === 'http:' && options.allowPrivateTarget)) {
      return Promise.resolve({ error: 'https required', durationMs: elapsed() });
    }
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const payload = Buffer.from(body, 'utf8');
    return new Promise<WebhookAttemptResult>((resolve) => {
      let settled = false;
      const finish = (result: WebhookAttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const req = send(
        target,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(payload.length) },
          lookup: guardedLookup(options.allowPrivateTarget),
          agent: false,
        },
        (res: IncomingMessage) => {
          let read = 0;
          res.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > 64 * 1024) res.destroy();
          });
          const done = () => finish({ status: res.statusCode ?? 0, durationMs: elapsed() });
          res.on('end', done);
          res.on('close', done);
          res.on('error', done);
        },
      );
      const timer = setTimeout(() => {
        req.destroy();
        finish({ error: 'timeout', durationMs: elapsed() });
      }, this.#timeoutMs);
      req.on('error', (error: Error & { code?: string }) => {
        const reason =
          error instanceof PrivateTargetError
            ? 'private target'
            : `network error${typeof error.code === 'string' ? ` (${error.code})` : ''}`;
        finish({ error: reason, durationMs: elapsed() });
      });
      req.end(payload);
    });
  }
}
