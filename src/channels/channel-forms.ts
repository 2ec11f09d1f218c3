import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ChannelDraft, ValidatedDraft } from '../core/channel/channel-admin.service.ts';
import { AppError } from '../shared/app-error.ts';
import type { ChannelKind } from './channel-kind.ts';
import { CHANNEL_KINDS, channelModule, type ChannelConfig } from './registry.ts';

/**
 * The admin screen's channel form, derived from each kind's configuration schema so that a new kind gets its form
 * without a screen change: one field per top-level key of the schema (text, secret, URL, number, switch or choice),
 * with whether it is required and its default. Keys every channel has (id, kind, inbox, enabled) are asked
 * separately; lists (message templates) stay in the configuration file.
 */
export interface ChannelFormField {
  name: string;
  type: 'text' | 'secret' | 'url' | 'number' | 'boolean' | 'select';
  required: boolean;
  default?: string | number | boolean;
  options?: string[];
  min?: number;
  max?: number;
  /** An example of a good value (the module's configuration example), shown as a placeholder. */
  example?: string;
}

export interface ChannelKindForm {
  kind: ChannelKind;
  displayName: string;
  /** Where the admin enters the webhook URL at the provider (English, also printed by the CLI). */
  setupHint: string;
  /** The key holding the secret entered together with the URL at the provider; generated when left empty. */
  verifySecretField: string | null;
  /** Whether sparsam registers the webhook with the provider itself (Telegram). */
  registersWebhook: boolean;
  fields: ChannelFormField[];
}

const COMMON_KEYS = new Set(['id', 'kind', 'inbox', 'enabled']);

function describeField(name: string, schema: z.ZodType, secret: boolean, example?: string): ChannelFormField | null {
  let inner: z.ZodType = schema;
  let required = true;
  let fallback: unknown;
  while (inner instanceof z.ZodOptional || inner instanceof z.ZodDefault) {
    required = false;
    if (inner instanceof z.ZodDefault) fallback = inner.def.defaultValue;
    inner = inner.unwrap() as z.ZodType;
  }
  const shown = example?.replace(/^['"](.*)['"]$/, '$1');
  const base = { name, required, ...(shown ? { example: shown } : {}) };
  const withDefault = <T extends ChannelFormField>(f: T): T =>
    typeof fallback === 'string' || typeof fallback === 'number' || typeof fallback === 'boolean'
      ? { ...f, default: fallback }
      : f;
  if (secret) return { ...base, type: 'secret' };
  if (inner instanceof z.ZodURL) return withDefault({ ...base, type: 'url' });
  if (inner instanceof z.ZodString) return withDefault({ ...base, type: 'text' });
  if (inner instanceof z.ZodNumber) {
    return withDefault({
      ...base,
      type: 'number',
      ...(inner.minValue !== null ? { min: inner.minValue } : {}),
      ...(inner.maxValue !== null ? { max: inner.maxValue } : {}),
    });
  }
  if (inner instanceof z.ZodBoolean) return withDefault({ ...base, type: 'boolean' });
  if (inner instanceof z.ZodEnum) return withDefault({ ...base, type: 'select', options: inner.options.map(String) });
  if (inner instanceof z.ZodLiteral) {
    const values = [...inner.values].map(String);
    return withDefault({ ...base, type: 'select', options: values });
  }
  return null;
}

/** The form of every kind, in the registry's order. */
export function channelKindForms(): ChannelKindForm[] {
  return CHANNEL_KINDS.map((kind) => {
    const module = channelModule(kind)!;
    const secrets = new Set<string>(module.secretFields);
    const examples = module.configExamples as Record<string, string | undefined>;
    const fields = Object.entries(module.configSchema.shape as unknown as Record<string, z.ZodType>)
      .filter(([name]) => !COMMON_KEYS.has(name))
      .map(([name, schema]) => describeField(name, schema, secrets.has(name), examples[name]))
      .filter((f): f is ChannelFormField => f !== null);
    return {
      kind,
      displayName: module.displayName,
      setupHint: module.setupHint,
      verifySecretField: module.webhook.verifySecretField ?? null,
      registersWebhook: Boolean(module.webhookRegistration),
      fields,
    };
  });
}

/** A validated draft: the configuration to run, split into what is stored in plain and what is sealed. */
export type ValidatedChannel = ValidatedDraft<ChannelConfig>;

/**
 * Checks a draft from the admin screen against its kind's configuration schema. Values are taken literally
 * (`env:NAME` references belong in the configuration file, where the environment is read at start). A kind whose
 * provider needs a verify token the admin left empty gets a random one, returned once in `generated`.
 *
 * @throws AppError('VALIDATION') naming the field and the problem.
 */
export function validateChannelDraft(draft: ChannelDraft): ValidatedChannel {
  const module = channelModule(draft.kind);
  if (!module) {
    throw new AppError('VALIDATION', `unknown channel kind (supported: ${CHANNEL_KINDS.join(', ')})`, {
      field: 'kind',
    });
  }
  const secretNames = new Set<string>(module.secretFields);
  const shape = module.configSchema.shape as unknown as Record<string, z.ZodType>;
  for (const key of [...Object.keys(draft.settings), ...Object.keys(draft.secrets)]) {
    if (!Object.hasOwn(shape, key) || COMMON_KEYS.has(key)) {
      throw new AppError('VALIDATION', `${key}: not a setting of this channel kind`, { field: key });
    }
  }
  for (const key of Object.keys(draft.settings)) {
    if (secretNames.has(key)) throw new AppError('VALIDATION', `${key}: a secret goes in secrets`, { field: key });
  }
  const secrets: Record<string, string> = {};
  const generated: Record<string, string> = {};
  for (const [key, value] of Object.entries(draft.secrets)) {
    if (!secretNames.has(key)) throw new AppError('VALIDATION', `${key}: not a secret of this kind`, { field: key });
    if (value.startsWith('env:')) {
      throw new AppError(
        'VALIDATION',
        `${key}: enter the value itself; env:NAME works only in the configuration file`,
        {
          field: key,
        },
      );
    }
    if (value !== '') secrets[key] = value;
  }
  const verifyField = module.webhook.verifySecretField;
  if (verifyField && secrets[verifyField] === undefined) {
    generated[verifyField] = randomBytes(24).toString('base64url');
    secrets[verifyField] = generated[verifyField];
  }
  const settings = Object.fromEntries(
    Object.entries(draft.settings).filter(([, v]) => v !== '' && v !== null && v !== undefined),
  );
  const parsed = module.configSchema.safeParse({
    ...settings,
    ...secrets,
    id: draft.id,
    kind: draft.kind,
    inbox: draft.inbox,
    enabled: draft.enabled ?? true,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join('.') || 'kind';
    // Never echo a secret's value: zod's messages name the rule, not the input.
    throw new AppError('VALIDATION', `${field}: ${issue.message}`, { field });
  }
  return { config: parsed.data as ChannelConfig, settings, secrets, generated };
}
