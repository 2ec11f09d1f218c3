import { AppError } from '../../shared/app-error.ts';

/** One POST parameter as sent; a name may occur more than once, and order matters for nothing but the signature. */
export type FormParams = readonly (readonly [string, string])[];

/**
 * Reads Twilio's `application/x-www-form-urlencoded` body from the raw bytes. The parsed `request.body` of the
 * foundation's form parser keeps only the last value of a repeated name; the signature covers every value, so the
 * raw bytes are parsed here again, keeping all pairs.
 */
export function parseForm(rawBody: Buffer | undefined): FormParams {
  if (!rawBody) return [];
  return [...new URLSearchParams(rawBody.toString('utf8')).entries()];
}

/** An SMS or MMS a customer sent to the Twilio number. */
export interface TwilioInbound {
  kind: 'inbound';
  messageSid: string;
  accountSid: string;
  from: string;
  to: string;
  body: string;
  media: { url: string; contentType: string | undefined }[];
  /** Twilio's Advanced Opt-Out classification when a Messaging Service handles keywords (STOP, START, HELP). */
  optOutType: string | undefined;
}

/** A status callback for a message sparsam sent (`StatusCallback` parameter of the send). */
export interface TwilioStatus {
  kind: 'status';
  messageSid: string;
  accountSid: string;
  status: string;
  errorCode: string | undefined;
}

export type TwilioWebhook = TwilioInbound | TwilioStatus;

const SID = /^(SM|MM|IM)[0-9a-fA-F]{32}$/;

/**
 * Turns the form parameters into an inbound message or a status callback
 * (https://www.twilio.com/docs/messaging/guides/webhook-request). Refuses requests for another account or another
 * number: `AccountSid` must be this channel's, and an inbound message must be addressed `To` its `fromNumber`.
 *
 * @throws AppError('VALIDATION') naming the parameter, never its value.
 */
export function parseTwilioWebhook(
  params: FormParams,
  expected: { accountSid: string; number: string },
): TwilioWebhook {
  const get = (name: string): string | undefined => params.find(([k]) => k === name)?.[1];
  const messageSid = get('MessageSid') ?? get('SmsMessageSid') ?? get('SmsSid');
  if (!messageSid || !SID.test(messageSid)) throw invalid('MessageSid');
  const accountSid = get('AccountSid');
  if (!accountSid) throw invalid('AccountSid');
  if (accountSid !== expected.accountSid) {
    throw new AppError('VALIDATION', 'this webhook is for another Twilio account', { field: 'AccountSid' });
  }
  const status = get('MessageStatus') ?? get('SmsStatus');
  if (status !== undefined && status !== 'received') {
    return { kind: 'status', messageSid, accountSid, status, errorCode: get('ErrorCode') || undefined };
  }
  const from = get('From');
  const to = get('To');
  if (!from) throw invalid('From');
  if (!to) throw invalid('To');
  if (to !== expected.number) {
    throw new AppError('VALIDATION', "this message was sent to another number than the channel's", { field: 'To' });
  }
  const numMedia = Number(get('NumMedia') ?? '0');
  if (!Number.isInteger(numMedia) || numMedia < 0 || numMedia > 10) throw invalid('NumMedia');
  const media: TwilioInbound['media'] = [];
  for (let i = 0; i < numMedia; i++) {
    const url = get(`MediaUrl${i}`);
    if (!url) throw invalid(`MediaUrl${i}`);
    media.push({ url, contentType: get(`MediaContentType${i}`) || undefined });
  }
  return {
    kind: 'inbound',
    messageSid,
    accountSid,
    from,
    to,
    body: get('Body') ?? '',
    media,
    optOutType: get('OptOutType') || undefined,
  };
}

function invalid(field: string): AppError {
  return new AppError('VALIDATION', `not a Twilio messaging webhook: ${field} is missing or malformed`, { field });
}
