/**
 * What core needs to know about a channel kind, beyond one channel's capability flags: whether its addresses are
 * phone numbers (the pseudonym lookup normalises them) and the processors it hands messages to (the record of
 * processing activities and the privacy notice). Core never names a kind itself: the channel modules declare these
 * facts (src/channels/<kind>/<kind>.module.ts) and the composition root passes them in.
 */
export interface ChannelKindFacts {
  /** How documents name the kind ("WhatsApp (Cloud API)"). */
  readonly displayName: string;
  /** Customer addresses are phone numbers: spaces, dashes, dots, brackets and a leading + are ignored. */
  readonly addressIsPhoneNumber: boolean;
  /** The providers a message passes through, for Art. 30(1)(d) and (e) GDPR and the privacy notice. */
  readonly processors: readonly Processor[];
}

/** A provider sparsam hands messages to, per channel kind. */
export interface Processor {
  name: string;
  role: { de: string; en: string };
  /** The transfer to a third country and its mechanism (Art. 44 ff. GDPR), or null for none. */
  transfer: { de: string; en: string } | null;
}

/** The facts of a kind, or undefined for a kind this sparsam does not know (a channel row from another version). */
export type ChannelKindFactsLookup = (kind: string) => ChannelKindFacts | undefined;
