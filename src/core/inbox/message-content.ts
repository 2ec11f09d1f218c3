import { openField, sealField } from '../privacy/keys/field-cipher.ts';
import type { InteractiveList } from './interactive-list.ts';

/**
 * A template as sent: name, language, body parameters, and where the template has them the header's value (text,
 * or the https address of its file) and the values of URL buttons with a placeholder (by button index).
 */
export interface TemplateSend {
  name: string;
  language: string;
  parameters: string[];
  header?: { format: 'TEXT'; text: string } | { format: 'IMAGE' | 'DOCUMENT' | 'VIDEO'; link: string };
  buttons?: { index: number; text: string }[];
}

/** A conversation's data key, as the privacy core hands it out (KeyService.dataKeyFor('conversation', id)). */
export type ConversationKey = Parameters<typeof sealField>[0];

/**
 * The decrypted content of one message. `messages.body_enc` is always this object as JSON, sealed with the
 * conversation's data key and bound to its row (table 'messages', the message id, column 'body_enc'), so that a
 * ciphertext copied to another row does not open.
 */
export interface MessageContent {
  text?: string;
  /** Reply buttons sent with the text (the consent notice). */
  buttons?: { id: string; title: string }[];
  /** An interactive list sent with the text (the rows the customer chooses from). */
  list?: InteractiveList;
  template?: TemplateSend;
  /**
   * Structured details: what the provider said about an attachment (`media`: provider media id, claimed type, file
   * name), a location or contact card, the tapped button id (`buttonId`), `notice: true` on the privacy notice.
   */
  extra?: Record<string, unknown>;
}

/** Seals a message's content for `messages.body_enc`. */
export function sealMessageContent(key: ConversationKey, messageId: string, content: MessageContent): Uint8Array {
  return sealField(key, JSON.stringify(content), { table: 'messages', rowId: messageId, column: 'body_enc' });
}

/**
 * Opens `messages.body_enc`. Throws when the ciphertext was tampered with or belongs to another row (the AES-GCM
 * tag does not verify); a message without content (revoked, or media only) has `body_enc` null and is not opened.
 */
export function openMessageContent(key: ConversationKey, messageId: string, sealed: Uint8Array): MessageContent {
  const json = openField(key, sealed, { table: 'messages', rowId: messageId, column: 'body_enc' }).toString('utf8');
  return JSON.parse(json) as MessageContent;
}

/** Seals media bytes for `media.data_enc`. */
export function sealMediaBytes(key: ConversationKey, mediaId: string, bytes: Uint8Array): Uint8Array {
  return sealField(key, bytes, { table: 'media', rowId: mediaId, column: 'data_enc' });
}

/** Opens `media.data_enc`. */
export function openMediaBytes(key: ConversationKey, mediaId: string, sealed: Uint8Array): Buffer {
  return openField(key, sealed, { table: 'media', rowId: mediaId, column: 'data_enc' });
}
