/**
 * Messenger webhooks are verified exactly like the WhatsApp Cloud API's: the GET `hub.challenge` handshake with the
 * verify token, and `X-Hub-Signature-256` = HMAC-SHA256(app secret, raw body) on every POST
 * (https://developers.facebook.com/docs/messenger-platform/webhooks#validate-payloads). The WhatsApp channel's
 * helpers take the header, the raw bytes and the secret and know nothing of WhatsApp, so they are reused here
 * rather than copied.
 */
export {
  WHATSAPP_SIGNATURE_HEADER as MESSENGER_SIGNATURE_HEADER,
  signWhatsAppBody as signMessengerBody,
  verifyWhatsAppSignature as verifyMessengerSignature,
} from '../whatsapp-cloud/whatsapp-cloud.signature.ts';
export { answerWhatsAppHandshake as answerMessengerHandshake } from '../whatsapp-cloud/whatsapp-cloud.handshake.ts';
