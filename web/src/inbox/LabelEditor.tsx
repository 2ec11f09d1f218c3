import { useRef, useState, type FormEvent } from 'react';
import { useI18n } from '../i18n/i18n.tsx';

/** The conversation's labels as chips: remove with ×, add by typing and Enter. */
export function LabelEditor(props: { labels: string[]; disabled: boolean; onSave(labels: string[]): Promise<void> }) {
  const { t } = useI18n();
  const [draft, setDraft] = useState('');
  const input = useRef<HTMLInputElement>(null);
  const add = (e: FormEvent) => {
    e.preventDefault();
    const v = draft.trim();
    if (!v) return;
    setDraft('');
    void props.onSave([...props.labels, v]);
  };
  return (
    <form className="label-editor" onSubmit={add} aria-label={t('labels')}>
      <span className="muted small">{t('labels')}:</span>
      {props.labels.map((l) => (
        <span key={l} className="chip chip-label">
          {l}
          {!props.disabled && (
            <button
              type="button"
              className="chip-x"
              aria-label={t('removeLabel', { l })}
              onClick={() => {
                // The removed chip's button goes away with it: the focus moves to the label field, not to the page.
                input.current?.focus();
                void props.onSave(props.labels.filter((x) => x !== l));
              }}
            >
              ×
            </button>
          )}
        </span>
      ))}
      {!props.disabled && (
        <>
          <label htmlFor="label-add" className="sr-only">
            {t('addLabel')}
          </label>
          <input
            ref={input}
            id="label-add"
            className="label-input"
            placeholder={`+ ${t('addLabel')}`}
            value={draft}
            maxLength={40}
            onChange={(e) => setDraft(e.target.value)}
          />
        </>
      )}
    </form>
  );
}
