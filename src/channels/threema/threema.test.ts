import { describe, expect, it } from 'vitest';
import nacl from 'tweetnacl';
import { isAppError } from '../../shared/app-error.ts';
import { createThreemaChannel } from './threema.channel.ts';
import {
  MIN_PADDED_BYTES,
  THREEMA_TYPE_DELIVERY_RECEIPT,
  THREEMA_TYPE_TEXT,
  newKeyPair,
  openMessage,
  pad,
  publicKeyOf,
  sealMessage,
  unpad,
} from './threema.crypto.ts';
import { threemaMac, verifyThreemaMac } from './threema.signature.ts';
import type { WebhookRequest } from '../../core/channel/channel.port.ts';
import { threemaConfigSchema } from './threema.config.ts';

describe('Threema callback MAC', () => {
  // The public test vector of threema-gateway-rs (src/receive.rs).
  const vector = {
    from: 'ECHOECHO',
    to: '*TESTTST',
    messageId: '0102030405060708',
    date: '1616950936',
    nonce: 'ff'.repeat(24),
    box: '012345abcdef',
  };
  const expected = '622b362e8353658ee649a5548acecc9ce9b88384d6b7e08e212446d68455b14e';

  it('matches the public test vector', () => {
    expect(threemaMac('nevergonnagiveyouup', vector)).toBe(expected);
  });

  it('accepts the vector and refuses a changed field, another secret or a missing mac', () => {
    const params = new Map<string, string>([...Object.entries(vector), ['mac', expected]]);
    const get = (m: Map<string, string>) => (name: string) => m.get(name);
    expect(() => verifyThreemaMac('nevergonnagiveyouup', get(params))).not.toThrow();
    const refused = (secret: string, m: Map<string, string>) => {
      try {
        verifyThreemaMac(secret, get(m));
        return undefined;
      } catch (error) {
        return isAppError(error) ? error.code : 'other';
      }
    };
    expect(refused('nevergonnaletyoudown', params)).toBe('SIGNATURE_INVALID');
    expect(refused('nevergonnagiveyouup', new Map([...params, ['box', '012345abcdee']]))).toBe('SIGNATURE_INVALID');
    const noMac = new Map(params);
    noMac.delete('mac');
    expect(refused('nevergonnagiveyouup', noMac)).toBe('SIGNATURE_INVALID');
    expect(refused('nevergonnagiveyouup', new Map([...params, ['mac', expected.toUpperCase()]]))).toBeUndefined();
  });
});

describe('Threema padding', () => {
  it('pads with 1-255 bytes that each hold the count, to at least 32 bytes, and removes it again', () => {
    const data = new TextEncoder().encode('Hallo');
    const amounts = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const padded = pad(data);
      const amount = padded[padded.length - 1]!;
      amounts.add(amount);
      expect(padded.length).toBeGreaterThanOrEqual(MIN_PADDED_BYTES);
      expect(amount).toBeGreaterThanOrEqual(1);
      expect(padded.subarray(data.length).every((b) => b === amount)).toBe(true);
      expect(Buffer.from(unpad(padded)!).toString()).toBe('Hallo');
    }
    // Random: not always the same amount.
    expect(amounts.size).toBeGreaterThan(10);
  });

  it('refuses malformed padding', () => {
    expect(unpad(new Uint8Array([]))).toBeUndefined();
    expect(unpad(new Uint8Array([1, 2, 3, 0]))).toBeUndefined();
    expect(unpad(new Uint8Array([1, 2, 3, 9]))).toBeUndefined();
    expect(unpad(new Uint8Array([1, 2, 3, 2]))).toBeUndefined();
    expect(Array.from(unpad(new Uint8Array([1, 2, 2, 2]))!)).toEqual([1, 2]);
  });
});

describe('Threema end-to-end encryption', () => {
  it("opens what a customer's app encrypts to the gateway, and the customer opens sparsam's answer", () => {
    const gateway = newKeyPair();
    const customer = newKeyPair();
    const text = 'Grüezi, ist das Auto fertig? 🚗';
    const sent = sealMessage(THREEMA_TYPE_TEXT, new TextEncoder().encode(text), gateway.publicKey, customer.secretKey);
    expect(sent.nonce).toHaveLength(24);
    const opened = openMessage(sent.box, sent.nonce, customer.publicKey, gateway.secretKey)!;
    expect(opened.type).toBe(THREEMA_TYPE_TEXT);
    expect(new TextDecoder().decode(opened.payload)).toBe(text);

    // The reverse direction, checked with tweetnacl directly as the customer's app would.
    const reply = sealMessage(
      THREEMA_TYPE_TEXT,
      new TextEncoder().encode('Ja.'),
      customer.publicKey,
      gateway.secretKey,
    );
    const plain = nacl.box.open(reply.box, reply.nonce, gateway.publicKey, customer.secretKey)!;
    expect(plain[0]).toBe(THREEMA_TYPE_TEXT);
    expect(new TextDecoder().decode(unpad(plain)!.subarray(1))).toBe('Ja.');
  });

  it('uses a new nonce for every message', () => {
    const a = newKeyPair();
    const b = newKeyPair();
    const nonces = new Set(
      Array.from({ length: 20 }, () =>
        Buffer.from(sealMessage(1, new Uint8Array([1]), a.publicKey, b.secretKey).nonce).toString('hex'),
      ),
    );
    expect(nonces.size).toBe(20);
  });

  it('does not open a box from another sender or with a changed byte', () => {
    const gateway = newKeyPair();
    const customer = newKeyPair();
    const stranger = newKeyPair();
    const sent = sealMessage(THREEMA_TYPE_DELIVERY_RECEIPT, new Uint8Array(9), gateway.publicKey, customer.secretKey);
    expect(openMessage(sent.box, sent.nonce, stranger.publicKey, gateway.secretKey)).toBeUndefined();
    const tampered = Uint8Array.from(sent.box);
    tampered[20] = tampered[20]! ^ 1;
    expect(openMessage(tampered, sent.nonce, customer.publicKey, gateway.secretKey)).toBeUndefined();
  });

  it("derives the gateway's public key from the configured private key", () => {
    const pair = newKeyPair();
    const config = threemaConfigSchema.parse({
      id: 'threema-main',
      kind: 'threema',
      inbox: 'service',
      gatewayId: '*SPARSAM',
      apiSecret: 'secret',
      privateKey: Buffer.from(pair.secretKey).toString('hex'),
    });
    const channel = createThreemaChannel(config, { fetch: globalThis.fetch });
    expect(Buffer.from(channel.publicKey).equals(Buffer.from(pair.publicKey))).toBe(true);
    expect(Buffer.from(publicKeyOf(pair.secretKey)).equals(Buffer.from(pair.publicKey))).toBe(true);
  });

  it('refuses a private key that is not 64 hex characters, naming the key', () => {
    const result = threemaConfigSchema.safeParse({
      id: 'threema-main',
      kind: 'threema',
      inbox: 'service',
      gatewayId: '*SPARSAM',
      apiSecret: 'secret',
      privateKey: 'abc',
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['privateKey']);
  });
});

describe('Threema public key pinning', () => {
  it('pins a key only once the events are committed: until then a changed key stays a change', async () => {
    const gateway = newKeyPair();
    let customer = newKeyPair();
    const fetchKey = (async () =>
      new Response(Buffer.from(customer.publicKey).toString('hex'), { status: 200 })) as unknown as typeof fetch;
    const config = threemaConfigSchema.parse({
      id: 'threema-main',
      kind: 'threema',
      inbox: 'service',
      gatewayId: '*SPARSAM',
      apiSecret: 'secret',
      privateKey: Buffer.from(gateway.secretKey).toString('hex'),
      apiBaseUrl: 'http://gateway.invalid',
    });
    const channel = createThreemaChannel(config, { fetch: fetchKey });
    let seq = 0;
    const request = (text: string): WebhookRequest => {
      const sealed = sealMessage(
        THREEMA_TYPE_TEXT,
        new TextEncoder().encode(text),
        gateway.publicKey,
        customer.secretKey,
      );
      const values = {
        from: 'ECHOECHO',
        to: '*SPARSAM',
        messageId: `00000000000000${String(++seq).padStart(2, '0')}`,
        date: '1765000000',
        nonce: Buffer.from(sealed.nonce).toString('hex'),
        box: Buffer.from(sealed.box).toString('hex'),
      };
      const form = new URLSearchParams({ ...values, mac: threemaMac('secret', values) }).toString();
      return {
        method: 'POST',
        url: '/webhooks/threema/threema-main',
        origin: 'http://sparsam.invalid',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        query: {},
        rawBody: Buffer.from(form),
        body: undefined,
      };
    };
    const changed = async (text: string) => {
      const result = await channel.verifyAndParse(request(text));
      if (result.kind !== 'events') throw new Error('not events');
      const event = result.events[0]!;
      return {
        changed: event.type === 'message' && event.extra?.senderKeyChanged === true,
        commit: result.afterCommit,
      };
    };
    const first = await changed('Hallo');
    expect(first.changed).toBe(false);
    await first.commit?.();
    customer = newKeyPair();
    // The commit of the changed message failed (its afterCommit never ran): the redelivery is still a change.
    expect((await changed('Neues Handy')).changed).toBe(true);
    const again = await changed('Neues Handy');
    expect(again.changed).toBe(true);
    await again.commit?.();
    expect((await changed('Noch da?')).changed).toBe(false);
  });
});
