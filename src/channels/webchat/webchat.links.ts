import type { WebchatAppearance, WebchatChannelConfig } from './webchat.config.ts';

/** A configured channel of any kind, as far as these helpers read it. */
type AnyChannel = { id: string; kind: string; inbox: string; enabled: boolean };

function isWebchat(channel: AnyChannel): channel is AnyChannel & WebchatChannelConfig {
  return channel.kind === 'webchat';
}

/**
 * The page of a website chat that customers of `inboxId` can turn to (`<baseUrl>/webchat/<channelId>`): the same
 * inbox's chat first, else any enabled one; undefined where none is configured. Linked in the reply of a paused
 * channel (the WhatsApp kill switch sends customers here).
 */
export function webchatPageUrl(baseUrl: string, channels: readonly AnyChannel[], inboxId: string): string | undefined {
  const chats = channels.filter(isWebchat).filter((c) => c.enabled);
  const chat = chats.find((c) => c.inbox === inboxId) ?? chats[0];
  return chat ? `${baseUrl.replace(/\/+$/, '')}/webchat/${encodeURIComponent(chat.id)}` : undefined;
}

/** The appearance as configured (colours, position, greeting); the admin's changes are laid over it. */
export function webchatAppearanceOf(channels: readonly AnyChannel[], channelId: string): WebchatAppearance {
  const chat = channels.filter(isWebchat).find((c) => c.id === channelId);
  return {
    primaryColour: chat?.primaryColour ?? '#0b5cad',
    position: chat?.position ?? 'right',
    greeting: { ...(chat?.greeting ?? {}) },
  };
}
