import { expect } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { buttonReply, textMessage, type World } from '../inbox/inbox-world.ts';

/**
 * Helpers on top of the inbox test world (a running sparsam with a WhatsApp Cloud channel and a local Graph API
 * stand): bring a customer through the consent notice into an open conversation.
 */
export async function consentedConversation(w: World, from: string, text: string, idPrefix: string): Promise<string> {
  expect((await w.webhook(textMessage(w.clock, `wamid.${idPrefix}1`, text, from))).statusCode).toBe(200);
  await w.drain();
  expect(
    (await w.webhook(buttonReply(w.clock, `wamid.${idPrefix}2`, CONSENT_AGREE_ID, 'Zustimmen', from))).statusCode,
  ).toBe(200);
  await w.drain();
  const items = (await w.api('GET', '/api/v1/conversations', undefined, w.adminToken)).json().items as { id: string }[];
  for (const item of items) {
    const detail = (await w.api('GET', `/api/v1/conversations/${item.id}`, undefined, w.adminToken)).json() as {
      messages: { text: string | null }[];
    };
    if (detail.messages.some((m) => m.text === text)) return item.id;
  }
  throw new Error('the conversation did not open');
}

/** Any method with a bearer token (the inbox world's `api` speaks GET and POST only). */
export function call(
  w: World,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
  token?: string,
) {
  return w.sparsam.http.inject({
    method,
    url,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
}
