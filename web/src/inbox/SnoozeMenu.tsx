import { useEffect, useRef, useState } from 'react';
import { useI18n } from '../i18n/i18n.tsx';
import type { MessageKey } from '../i18n/messages.de.ts';

export type SnoozeChoice = { preset: 'in-1-hour' | 'tomorrow-9' | 'next-monday-9' } | { until: string };

const PRESETS: { preset: 'in-1-hour' | 'tomorrow-9' | 'next-monday-9'; label: MessageKey }[] = [
  { preset: 'in-1-hour', label: 'snoozeInHour' },
  { preset: 'tomorrow-9', label: 'snoozeTomorrow' },
  { preset: 'next-monday-9', label: 'snoozeMonday' },
];

/** "datetime-local" value of a time (the browser's time zone), to the minute. */
function localValue(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/**
 * The snooze button and its menu: three presets (the server computes them in the organisation's time zone) and a
 * chosen date and time (the browser's time zone). Escape or the button closes the menu; the focus goes back to the
 * button. The `s` shortcut clicks the button (id conv-snooze).
 */
export function SnoozeMenu({ onSnooze }: { onSnooze(choice: SnoozeChoice): Promise<void> }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [custom, setCustom] = useState(() => localValue(Date.now() + 2 * 3_600_000));
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return undefined;
    menu.current?.querySelector<HTMLButtonElement>('button')?.focus();
    // A click elsewhere closes the menu (without moving the focus back).
    const outside = (e: PointerEvent) => {
      const target = e.target as Node | null;
      if (target && !menu.current?.contains(target) && !button.current?.contains(target)) setOpen(false);
    };
    document.addEventListener('pointerdown', outside);
    return () => document.removeEventListener('pointerdown', outside);
  }, [open]);
  const close = () => {
    setOpen(false);
    button.current?.focus();
  };
  const choose = (choice: SnoozeChoice) => {
    setOpen(false);
    void onSnooze(choice);
  };
  return (
    <div className="snooze">
      <button
        ref={button}
        id="conv-snooze"
        type="button"
        className="btn"
        aria-haspopup="true"
        aria-expanded={open}
        aria-controls="snooze-menu"
        onClick={() => setOpen((o) => !o)}
      >
        {t('snooze')}
      </button>
      {open && (
        <div
          ref={menu}
          id="snooze-menu"
          className="snooze-menu"
          role="group"
          aria-label={t('snoozeMenu')}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.preventDefault();
              close();
            }
          }}
        >
          <p className="snooze-title">{t('snoozeMenu')}</p>
          {PRESETS.map((p) => (
            <button key={p.preset} type="button" className="snooze-option" onClick={() => choose({ preset: p.preset })}>
              {t(p.label)}
            </button>
          ))}
          <form
            className="snooze-custom"
            onSubmit={(e) => {
              e.preventDefault();
              const at = new Date(custom);
              if (!Number.isNaN(at.getTime())) choose({ until: at.toISOString() });
            }}
          >
            <label htmlFor="snooze-at">{t('snoozeCustom')}</label>
            <input
              id="snooze-at"
              type="datetime-local"
              required
              value={custom}
              onChange={(e) => setCustom(e.target.value)}
            />
            <button type="submit" className="btn btn-primary">
              {t('snoozeCustomSubmit')}
            </button>
          </form>
        </div>
      )}
    </div>
  );
}
