import { useCallback, useEffect, useRef } from 'react';
import { call } from '../api.ts';
import { useLiveEvents, type LiveEvent } from './live.tsx';

const SOUND_KEY = 'sparsam.sound';

/** Whether this device plays a sound for new messages (a per-device choice, on unless switched off). */
export function soundEnabled(): boolean {
  return window.localStorage.getItem(SOUND_KEY) !== 'off';
}
export function setSoundEnabled(on: boolean): void {
  window.localStorage.setItem(SOUND_KEY, on ? 'on' : 'off');
}

let audio: AudioContext | undefined;
/** A short two-tone chime made with Web Audio (no sound file to fetch or cache). */
export function playChime(): void {
  try {
    audio ??= new AudioContext();
    if (audio.state === 'suspended') void audio.resume();
    const now = audio.currentTime;
    for (const [i, freq] of [880, 1320].entries()) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      const start = now + i * 0.14;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.2, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.25);
      osc.connect(gain).connect(audio.destination);
      osc.start(start);
      osc.stop(start + 0.3);
    }
  } catch {
    // No audio on this device: the title badge still tells.
  }
}

/** "(3) sparsam": the unread count in the tab title, and on the installed app's icon where the Badging API exists. */
export function showUnread(count: number): void {
  document.title = count > 0 ? `(${count}) sparsam` : 'sparsam';
  const nav = navigator as Navigator & { setAppBadge?(n?: number): Promise<void>; clearAppBadge?(): Promise<void> };
  if (count > 0) void nav.setAppBadge?.(count).catch(() => undefined);
  else void nav.clearAppBadge?.().catch(() => undefined);
}

const RELEVANT: readonly LiveEvent['type'][] = [
  'conversation.created',
  'conversation.updated',
  'conversation.erased',
  'message.created',
];

/**
 * Keeps the open tab's attention signals current: the unread messages of the open conversations in the title and on
 * the app icon, and a chime when the count goes up (a customer wrote). Counts come from the list the staff member
 * may see; the live events only say when to look again.
 */
export function AttentionSignals() {
  const previous = useRef<number | undefined>(undefined);
  const timer = useRef<number | undefined>(undefined);
  const refresh = useCallback(async () => {
    try {
      const { items } = await call('GET /conversations', { query: { view: 'all' } });
      const count = items.reduce((sum, c) => sum + c.unread, 0);
      if (previous.current !== undefined && count > previous.current && soundEnabled()) playChime();
      previous.current = count;
      showUnread(count);
    } catch {
      // Offline or logged out: the next event tries again.
    }
  }, []);
  useEffect(() => {
    void refresh();
    return () => {
      window.clearTimeout(timer.current);
      showUnread(0);
    };
  }, [refresh]);
  useLiveEvents((event) => {
    if (!RELEVANT.includes(event.type)) return;
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => void refresh(), 300);
  });
  return null;
}
