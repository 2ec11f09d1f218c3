import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { del, get, patch, post, type LabelEntry } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { useAction } from '../shared/use-action.tsx';

/** The label pattern the server checks: a letter or digit first, then letters, digits, spaces, . _ -; 1-40. */
const LABEL_PATTERN = '[\\p{L}\\p{N}][\\p{L}\\p{N} ._\\-]{0,39}';
const DEFAULT_COLOUR = '#2f7d4a';

/**
 * The labels agents can put on conversations ("Rückruf", "Reklamation"), each with an optional colour. Agents pick
 * only from this list; removing a label here removes it from every conversation.
 */
export function Labels() {
  const { t } = useI18n();
  const [items, setItems] = useState<LabelEntry[]>([]);
  const [name, setName] = useState('');
  const [withColour, setWithColour] = useState(false);
  const [colour, setColour] = useState(DEFAULT_COLOUR);
  const { run, view } = useAction();
  const load = useCallback(async () => setItems((await get<{ items: LabelEntry[] }>('/labels/catalogue')).items), []);
  useEffect(() => void load(), [load]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await post('/labels', { name: name.trim(), color: withColour ? colour : null });
      setName('');
      await load();
    }, t('saved'));
  };
  return (
    <div className="stack">
      <h1>{t('labelList.title')}</h1>
      <p className="muted">{t('labelList.intro')}</p>
      {view}
      {items.length === 0 ? (
        <p className="muted">{t('labelList.empty')}</p>
      ) : (
        <ul className="qr-list">
          {items.map((l) => (
            <li key={l.name} className="card qr-item">
              <span className="chip chip-label">
                {l.color && <span className="label-dot" style={{ background: l.color }} aria-hidden="true" />}
                {l.name}
              </span>
              <div className="actions">
                <label className="label-colour">
                  <span className="sr-only">{t('labelList.colourOf', { l: l.name })}</span>
                  <input
                    type="color"
                    value={l.color ?? DEFAULT_COLOUR}
                    onChange={(e) =>
                      void run(
                        async () => (
                          await patch(`/labels/${encodeURIComponent(l.name)}`, { color: e.target.value }),
                          await load()
                        ),
                      )
                    }
                  />
                </label>
                <button
                  type="button"
                  className="btn btn-small btn-danger-outline"
                  onClick={() => {
                    if (!window.confirm(t('labelList.confirmDelete', { l: l.name }))) return;
                    void run(async () => (await del(`/labels/${encodeURIComponent(l.name)}`), await load()));
                  }}
                >
                  {t('delete')}
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      <form className="card form-grid" onSubmit={submit}>
        <h2>{t('labelList.add')}</h2>
        <div className="form-row">
          <label htmlFor="label-name">{t('labelList.name')}</label>
          <input
            id="label-name"
            required
            maxLength={40}
            pattern={LABEL_PATTERN}
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
          <span className="muted small">{t('labelList.nameHint')}</span>
        </div>
        <div className="form-row">
          <label>
            <input type="checkbox" checked={withColour} onChange={(e) => setWithColour(e.target.checked)} />{' '}
            {t('labelList.colour')}
          </label>
          {withColour && (
            <input
              type="color"
              aria-label={t('labelList.colour')}
              value={colour}
              onChange={(e) => setColour(e.target.value)}
            />
          )}
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary">
            {t('save')}
          </button>
        </div>
      </form>
    </div>
  );
}
