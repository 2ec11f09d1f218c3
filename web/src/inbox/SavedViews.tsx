import { useCallback, useEffect, useRef, useState } from 'react';
import { call, type Endpoints } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { errorText } from '../shared/error-text.ts';

export type SavedView = Endpoints['GET /views']['response']['items'][number];
export interface ListFilter {
  view: SavedView['view'];
  label: string;
  channel: string;
  sort: SavedView['sort'];
}

/**
 * The staff member's saved views as chips above the list: a click applies one, × deletes it, "Ansicht speichern"
 * keeps the current filter under a name. The search text is never saved (it could hold a name or a number).
 */
export function SavedViews({ current, onApply }: { current: ListFilter; onApply(filter: ListFilter): void }) {
  const { t } = useI18n();
  const [views, setViews] = useState<SavedView[]>([]);
  const [naming, setNaming] = useState(false);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const saveButton = useRef<HTMLButtonElement>(null);
  const load = useCallback(() => {
    call('GET /views')
      .then((r) => setViews(r.items))
      .catch(() => undefined);
  }, []);
  useEffect(load, [load]);

  const matches = (v: SavedView) =>
    v.view === current.view &&
    (v.label ?? '') === current.label &&
    (v.channel ?? '') === current.channel &&
    v.sort === current.sort;

  async function save() {
    try {
      await call('POST /views', {
        body: {
          name,
          view: current.view,
          label: current.label || null,
          channel: current.channel || null,
          sort: current.sort,
        },
      });
      setNaming(false);
      setName('');
      setError(null);
      load();
      saveButton.current?.focus();
    } catch (e) {
      setError(errorText(e, t));
    }
  }

  async function remove(v: SavedView) {
    try {
      await call('DELETE /views/:id', { params: { id: v.id } });
      setError(null);
      load();
    } catch (e) {
      setError(errorText(e, t));
    }
  }

  return (
    <div className="saved-views" role="group" aria-label={t('savedViews')}>
      {views.map((v) => (
        <span key={v.id} className={`saved-view ${matches(v) ? 'active' : ''}`}>
          <button
            type="button"
            className="saved-view-apply"
            aria-pressed={matches(v)}
            onClick={() => onApply({ view: v.view, label: v.label ?? '', channel: v.channel ?? '', sort: v.sort })}
          >
            {v.name}
          </button>
          <button
            type="button"
            className="saved-view-delete"
            aria-label={t('deleteView', { name: v.name })}
            title={t('deleteView', { name: v.name })}
            onClick={() => void remove(v)}
          >
            ×
          </button>
        </span>
      ))}
      {naming ? (
        <form
          className="saved-view-form"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.preventDefault();
              setNaming(false);
              saveButton.current?.focus();
            }
          }}
        >
          <label className="sr-only" htmlFor="saved-view-name">
            {t('saveViewName')}
          </label>
          <input
            id="saved-view-name"
            placeholder={t('saveViewName')}
            maxLength={40}
            required
            autoFocus
            value={name}
            onChange={(e) => setName(e.target.value)}
            aria-describedby="saved-view-hint"
          />
          <button type="submit" className="btn btn-primary">
            {t('save')}
          </button>
          <button type="button" className="btn" onClick={() => setNaming(false)}>
            {t('cancel')}
          </button>
          <p id="saved-view-hint" className="muted small">
            {t('saveViewHint')}
          </p>
        </form>
      ) : (
        <button
          ref={saveButton}
          type="button"
          className="saved-view-add"
          onClick={() => {
            setNaming(true);
            setError(null);
          }}
        >
          + {t('saveView')}
        </button>
      )}
      {error && (
        <p className="error small" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
