/**
 * The channel kinds this sparsam runs. Adding a kind: add it here, add its folder src/channels/<kind>/ with a
 * `<kind>.module.ts`, and one line in src/channels/registry.ts; the compiler names every place that still lacks it.
 */
export type ChannelKind = 'whatsapp-cloud' | 'dialog360' | 'telegram' | 'messenger' | 'sms' | 'webchat' | 'threema';
