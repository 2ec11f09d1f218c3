import { z } from 'zod';

/**
 * Field schemas shared by the configuration file's sections and by the channel modules' configuration schemas
 * (src/channels/<kind>/<kind>.config.ts). Imports nothing of sparsam, so that both can use it without a cycle.
 */

/** An id of an inbox or channel: lower-case letters, digits and dashes. */
export const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes, at most 63 characters');

/** A secret value (inline or `env:NAME`, resolved before validation). */
export const secret = z.string().min(1, 'must not be empty');

export const url = z.url({ message: 'must be an absolute URL' });

/** The keys every channel has, whatever its kind. */
export const channelBase = { id, inbox: id, enabled: z.boolean().default(true) };
