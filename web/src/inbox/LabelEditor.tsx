import { useEffect, useRef, useState } from 'react';
import { get, type LabelEntry } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';

/**
 * The conversation's labels as chips: remove with ×, add by picking from the list the admins keep (Administration
 * → Labels). There is no free text: a typed label could carry a name or a phone number into plain storage.
 */
export function LabelEditor(props: { labels: string[]; disabled: boolean; onSave(labels: string[]): Promise<void> }) {
  const { t } = useI18n();
  const [catalogue, setCatalogue] = useState<LabelEntry[] | null>(null);
  const select = useRef<HTMLSelectElement>(null);
  useEffect(() => {
    let live = true;
    get<{ items: LabelEntry[] }>('/labels/catalogue')
      .then((r) => live && setCatalogue(r.items))
      .catch(() => live && setCatalogue([]));
    return () => {
      live = false;
    };
  }, []);
  const colour = (name: string) => catalogue?.find((l) => l.name === name)?.color ?? null;
  const free = (catalogue ?? []).filter((l) => !props.labels.includes(l.name));
  return (
    <div className="label-editor" role="group" aria-label={t('labels')}>
      <span className="muted small">{t('labels')}:</span>
      {props.labels.map((l) => (
        <span key={l} className="chip chip-label">
          {colour(l) && <span className="label-dot" style={{ background: colour(l)! }} aria-hidden="true" />}
          {l}
          {!props.disabled && (
            <button
              type="button"
              className="chip-x"
              aria-label={t('removeLabel', { l })}
              onClick={() => {
                // The removed chip's button goes away with it: the focus moves to the picker, not to the page.
                select.current?.focus();
                void props.onSave(props.labels.filter((x) => x !== l));
              }}
            >
              ×
            </button>
          )}
        </span>
      ))}
      {!props.disabled && catalogue !== null && catalogue.length === 0 && (
        <span className="muted small">{t('labelList.none')}</span>
      )}
      {!props.disabled && free.length > 0 && (
        <>
          <label htmlFor="label-add" className="sr-only">
            {t('addLabel')}
          </label>
          <select
            ref={select}
            id="label-add"
            className="label-input"
            value=""
            onChange={(e) => {
              const v = e.target.value;
              if (v) void props.onSave([...props.labels, v]);
            }}
          >
            <option value="">+ {t('addLabel')}</option>
            {free.map((l) => (
              <option key={l.name} value={l.name}>
                {l.name}
              </option>
            ))}
          </select>
        </>
      )}
    </div>
  );
}
