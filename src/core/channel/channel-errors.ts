/**
 * The two ways a provider call fails (after grammY's GrammyError / HttpError):
 * - {@link ChannelApiError}: the provider answered and said no, with its own code (131047, 130429, 429 …);
 * - {@link ChannelNetworkError}: no answer (DNS, refused, timeout, TLS).
 * The outbound queue decides retry or give-up from `retryable` and `retryAfterMs`; the agent sees `reason`.
 */
export class ChannelApiError extends Error {
  constructor(
    readonly providerCode: string,
    /** Short reason for the agent, from the provider's message; never contains the recipient's address. */
    readonly reason: string,
    readonly httpStatus: number,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(`provider refused (${providerCode}): ${reason}`);
    this.name = 'ChannelApiError';
  }
}

export class ChannelNetworkError extends Error {
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChannelNetworkError';
  }
}
