import { useEffect, useRef } from 'react';
import { useI18n } from '../i18n/i18n.tsx';
import type { MessageKey } from '../i18n/messages.de.ts';
import { navigate } from '../router.ts';
import { COMPOSER_COMMAND, type ComposerCommand } from './Composer.tsx';

/** The inbox's keyboard shortcuts, as the help dialog lists them. */
export const SHORTCUTS: { keys: string[]; what: MessageKey }[] = [
  { keys: ['j', '↓'], what: 'shortcutNext' },
  { keys: ['k', '↑'], what: 'shortcutPrevious' },
  { keys: ['r'], what: 'shortcutReply' },
  { keys: ['n'], what: 'shortcutNote' },
  { keys: ['/'], what: 'shortcutQuickReplies' },
  { keys: ['a'], what: 'shortcutAssign' },
  { keys: ['s'], what: 'shortcutSnooze' },
  { keys: ['e'], what: 'shortcutClose' },
  { keys: ['?'], what: 'shortcutHelp' },
];

/** True while the user types or works a control that uses the keys itself (fields, lists of tabs, dialogs). */
function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target.closest('input, textarea, select, [role="tablist"], [role="listbox"], [role="alertdialog"], dialog')) {
    return true;
  }
  return false;
}

function composer(command: ComposerCommand) {
  window.dispatchEvent(new CustomEvent<ComposerCommand>(COMPOSER_COMMAND, { detail: command }));
}

/**
 * Keyboard shortcuts of the inbox: j/k or the arrow keys move through the list and open the conversation, r and n
 * go to the composer (reply, internal note), / offers the quick replies, a goes to "assign to", s opens the snooze menu, e asks to close
 * (the usual confirmation), ? shows the list. Off while typing in a field and while a dialog is open.
 */
export function useInboxShortcuts(ids: readonly string[], selectedId: string | undefined, openHelp: () => void) {
  const state = useRef({ ids, selectedId, openHelp });
  state.current = { ids, selectedId, openHelp };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      if (document.querySelector('dialog[open], [role="alertdialog"]')) return;
      const { ids, selectedId, openHelp } = state.current;
      const move = (step: number) => {
        if (ids.length === 0) return;
        const at = selectedId ? ids.indexOf(selectedId) : -1;
        const next =
          ids[at === -1 ? (step > 0 ? 0 : ids.length - 1) : Math.min(Math.max(at + step, 0), ids.length - 1)];
        if (!next || next === selectedId) return;
        navigate(`/inbox/${next}`);
        requestAnimationFrame(() => {
          const row = document.querySelector<HTMLElement>(`.conv-list a[data-id="${CSS.escape(next)}"]`);
          row?.focus({ preventScroll: true });
          row?.scrollIntoView({ block: 'nearest' });
        });
      };
      const key = e.key;
      let handled = true;
      // The arrow keys scroll the thread and the page elsewhere; they move in the list from the list or the page.
      const arrowsFree =
        !(e.target instanceof Element) || e.target === document.body || e.target.closest('.list-pane') !== null;
      if (key === 'j' || (key === 'ArrowDown' && arrowsFree)) move(1);
      else if (key === 'k' || (key === 'ArrowUp' && arrowsFree)) move(-1);
      else if (key === '?') openHelp();
      else if (!selectedId) handled = false;
      else if (key === 'r') composer('reply');
      else if (key === 'n') composer('note');
      else if (key === '/') composer('quick-replies');
      else if (key === 'a') document.querySelector<HTMLSelectElement>('#conv-assign:not(:disabled)')?.focus();
      else if (key === 's') document.querySelector<HTMLButtonElement>('#conv-snooze')?.click();
      else if (key === 'e') document.querySelector<HTMLButtonElement>('#conv-close')?.click();
      else handled = false;
      if (handled) e.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}

/** The list of shortcuts in a native dialog; Escape or the button closes it. */
export function ShortcutHelp({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    else if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} className="shortcut-help" aria-labelledby="shortcut-title" onClose={onClose}>
      <h2 id="shortcut-title">{t('shortcutTitle')}</h2>
      <dl>
        {SHORTCUTS.map((s) => (
          <div key={s.what} className="shortcut-row">
            <dt>
              {s.keys.map((k, i) => (
                <span key={k}>
                  {i > 0 && ` ${t('shortcutOr')} `}
                  <kbd>{k}</kbd>
                </span>
              ))}
            </dt>
            <dd>{t(s.what)}</dd>
          </div>
        ))}
      </dl>
      <p className="muted small">{t('shortcutTyping')}</p>
      <form method="dialog">
        <button type="submit" className="btn" autoFocus>
          {t('close')}
        </button>
      </form>
    </dialog>
  );
}
