import { webchatAppearanceOf } from './webchat.links.ts';
import { webchatAppearanceSchema, type WebchatAppearance } from './webchat.config.ts';

/** Where the admin's changes are kept (the installation settings table; src/store/sql/web.store.ts). */
export interface AppearanceSettingsPort {
  getStructuredSetting(key: string): Promise<unknown>;
  putStructuredSetting(key: string, value: unknown, at: number): Promise<void>;
}

/** A configured channel of any kind, as far as the defaults are read from it. */
type AnyChannel = { id: string; kind: string; inbox: string; enabled: boolean };

/**
 * The look of each website chat: the configuration's colour, position and greeting, with the admin's changes from
 * the admin screen laid over them. Read on every request for the chat's stylesheet and settings (one small row),
 * so every instance shows a change at once.
 */
export class WebchatAppearances {
  constructor(
    private readonly port: AppearanceSettingsPort,
    private readonly channels: readonly AnyChannel[],
    private readonly now: () => number,
  ) {}

  defaults(channelId: string): WebchatAppearance {
    return webchatAppearanceOf(this.channels, channelId);
  }

  async get(channelId: string): Promise<{ appearance: WebchatAppearance; overridden: boolean }> {
    const stored = await this.port.getStructuredSetting(key(channelId));
    const parsed = stored ? webchatAppearanceSchema.safeParse(stored) : undefined;
    if (!parsed?.success) return { appearance: this.defaults(channelId), overridden: false };
    return { appearance: parsed.data, overridden: true };
  }

  /** Stores the admin's appearance (validated), or drops it with 'reset'. */
  async set(channelId: string, input: WebchatAppearance | 'reset'): Promise<void> {
    if (input === 'reset') {
      await this.port.putStructuredSetting(key(channelId), undefined, this.now());
      return;
    }
    const greeting = {
      ...(input.greeting.de?.trim() ? { de: input.greeting.de.trim() } : {}),
      ...(input.greeting.en?.trim() ? { en: input.greeting.en.trim() } : {}),
    };
    const value = webchatAppearanceSchema.parse({ ...input, greeting });
    await this.port.putStructuredSetting(key(channelId), value, this.now());
  }
}

function key(channelId: string): string {
  return `webchat.appearance:${channelId}`;
}
