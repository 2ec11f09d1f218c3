import type { Clock } from '../../../shared/clock.ts';
import type { SealedSecretPort } from '../../ports/sealed-secret.port.ts';
import { openFieldText, sealField } from './field-cipher.ts';
import type { KeyService } from './key.service.ts';

/** What {@link SealedSecrets.resolve} did. */
export interface ResolvedSecret {
  /** The secret to use: the one given, else the sealed one; undefined when neither exists. */
  value: string | undefined;
  /** 'sealed': given and written to the key store now (first start, or a changed value); 'kept': already sealed. */
  action: 'sealed' | 'kept' | 'read' | 'missing';
}

/**
 * Secrets of the configuration kept sealed in the key store (a Threema gateway's private key): sealed with
 * AES-256-GCM under a data key of owner type `system` (wrapped like every data key, re-wrapped by key rotation),
 * bound to the secret's name. The main database and its backups never hold them.
 */
export class SealedSecrets {
  constructor(
    private readonly port: SealedSecretPort,
    private readonly keys: Pick<KeyService, 'dataKeyFor'>,
    private readonly clock: Clock,
  ) {}

  async #open(name: string): Promise<string | undefined> {
    const sealed = await this.port.find(name);
    if (!sealed) return undefined;
    return openFieldText(await this.keys.dataKeyFor('system', `sealed-secret:${name}`), sealed, aad(name));
  }

  /**
   * The secret `name`: when `given` (from the configuration), sealed into the key store unless it is there already
   * with the same value; when not given, the sealed one.
   */
  async resolve(name: string, given: string | undefined): Promise<ResolvedSecret> {
    const existing = await this.#open(name);
    if (given === undefined) return { value: existing, action: existing === undefined ? 'missing' : 'read' };
    if (existing === given) return { value: given, action: 'kept' };
    const key = await this.keys.dataKeyFor('system', `sealed-secret:${name}`);
    await this.port.put(name, sealField(key, given, aad(name)), this.clock.now().getTime());
    return { value: given, action: 'sealed' };
  }
}

function aad(name: string) {
  return { table: 'sealed_secrets', rowId: name, column: 'sealed' };
}
