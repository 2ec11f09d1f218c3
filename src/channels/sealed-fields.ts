import { AppError } from '../shared/app-error.ts';
import type { ChannelConfig } from './registry.ts';
import { channelModule } from './registry.ts';

/** Seals and reads back one secret by name (core/privacy/keys/sealed-secrets.ts). */
export interface SecretSealer {
  resolve(
    name: string,
    given: string | undefined,
  ): Promise<{ value: string | undefined; action: 'sealed' | 'kept' | 'read' | 'missing' }>;
}

/** The key-store name of a channel's sealed field. */
export function sealedSecretName(channelId: string, field: string): string {
  return `channel:${channelId}:${field}`;
}

/**
 * The channels' configurations with every sealed field (a module's `sealedFields`, such as Threema's `privateKey`)
 * sealed into the key store when given, or read back from it when the file no longer holds it. Runs once at start,
 * before the channels are built. A sealed field that is neither given nor sealed is a configuration error naming the
 * key; `onSealed` hears of every value sealed now (for a content-free log line).
 */
export async function resolveSealedChannelFields(
  configs: readonly ChannelConfig[],
  sealer: SecretSealer,
  onSealed: (channelId: string, field: string) => void = () => undefined,
): Promise<ChannelConfig[]> {
  const resolved: ChannelConfig[] = [];
  for (const [index, config] of configs.entries()) {
    const fields = channelModule(config.kind)?.sealedFields ?? [];
    if (fields.length === 0) {
      resolved.push(config);
      continue;
    }
    const copy: Record<string, unknown> = { ...config };
    for (const field of fields) {
      const given = copy[field];
      const result = await sealer.resolve(
        sealedSecretName(config.id, field),
        typeof given === 'string' ? given : undefined,
      );
      if (result.value === undefined) {
        throw new AppError(
          'CONFIG',
          `sparsam cannot start, the configuration is wrong:\n  - channels[${index}].${field}: not given, and the key ` +
            `store holds none for channel "${config.id}": give it once so that sparsam seals it ` +
            `(example: env:THREEMA_PRIVATE_KEY)`,
        );
      }
      if (result.action === 'sealed') onSealed(config.id, field);
      copy[field] = result.value;
    }
    resolved.push(Object.freeze(copy) as ChannelConfig);
  }
  return resolved;
}
