import type { Processor } from '../core/channel/channel-kind-facts.ts';

/**
 * Meta as a processor, shared by the WhatsApp (Cloud API, 360dialog) and Messenger modules. Names and transfer
 * mechanisms as Meta publishes them; the DPO checks them against the contracts actually signed (the documents say so).
 */
export const META_IRELAND = 'Meta Platforms Ireland Limited, Merrion Road, Dublin 4, Irland / Ireland';

export const META_TRANSFER: NonNullable<Processor['transfer']> = {
  de: 'USA (Meta Platforms, Inc.): Angemessenheitsbeschluss EU-US Data Privacy Framework; ergänzend Standardvertragsklauseln (Art. 46 Abs. 2 lit. c DSGVO)',
  en: 'USA (Meta Platforms, Inc.): EU-US Data Privacy Framework adequacy decision; in addition standard contractual clauses (Art. 46(2)(c) GDPR)',
};
