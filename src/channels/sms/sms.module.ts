import { defineChannelModule } from '../channel-module.ts';
import { SMS_CAPABILITIES, createSmsChannel } from './sms.channel.ts';
import { smsConfigSchema } from './sms.config.ts';

/** An empty TwiML document: Twilio sends no automatic reply (sparsam's replies go through the REST API). */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

/**
 * Kind `sms`: a Twilio number. Inbound SMS/MMS and status callbacks are form posts to `/webhooks/sms/:channelId`,
 * signed with X-Twilio-Signature over the public URL and the parameters; Twilio gets 200 with an empty TwiML answer.
 */
export const smsModule = defineChannelModule({
  kind: 'sms',
  displayName: 'SMS (Twilio)',
  configSchema: smsConfigSchema,
  configExamples: { fromNumber: '"+4915112345678"' },
  secretFields: ['authToken'],
  webhook: {
    segment: 'sms',
    providerName: 'SMS',
    methods: ['POST'],
    body: 'form',
    acknowledge: { contentType: 'text/xml; charset=utf-8', body: EMPTY_TWIML },
  },
  capabilities: {
    addressIsPhoneNumber: true,
    of: () => SMS_CAPABILITIES,
  },
  // No connection check yet.
  connectionProbe: () => undefined,
  setupHint: 'Twilio Console > Phone Numbers > your number > Messaging > "A message comes in" (Webhook, HTTP POST)',
  processors: [
    {
      name: 'Twilio Ireland Limited, Dublin, Irland / Ireland (Twilio Inc., San Francisco, USA)',
      role: { de: 'SMS-Versand und -Empfang (Messages API)', en: 'sending and receiving SMS (Messages API)' },
      transfer: {
        de: 'USA (Twilio Inc.): EU-US Data Privacy Framework; Standardvertragsklauseln und verbindliche interne Datenschutzvorschriften (BCR)',
        en: 'USA (Twilio Inc.): EU-US Data Privacy Framework; standard contractual clauses and binding corporate rules',
      },
    },
  ],
  create: (config, deps) => createSmsChannel(config, deps),
});
