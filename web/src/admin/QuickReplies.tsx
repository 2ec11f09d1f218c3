import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { del, get, post, put, type QuickReply } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { useAction } from '../shared/use-action.tsx';

/**
 * The shortcut as the form's `pattern` attribute: letters of any language and digits first, then also _ and -, 1-32
 * characters, an optional leading "/". The browser compiles a pattern with the `v` flag, where a "-" in a class must
 * be escaped; the server checks the same (lower case, NFC) and answers VALIDATION with field shortcut.
 */
export const SHORTCUT_PATTERN = '/?[\\p{L}\\p{N}][\\p{L}\\p{M}\\p{N}_\\-]{0,31}';

/** The team's quick replies: list, add, edit, delete. */
export function QuickReplies() {
  const { t } = useI18n();
  const [items, setItems] = useState<QuickReply[]>([]);
  const [editing, setEditing] = useState<QuickReply | null>(null);
  const [form, setForm] = useState({ shortcut: '', title: '', text: '' });
  const { run, view } = useAction();
  const load = useCallback(async () => setItems((await get<{ items: QuickReply[] }>('/quick-replies')).items), []);
  useEffect(() => void load(), [load]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      if (editing) await put(`/quick-replies/${editing.id}`, form);
      else await post('/quick-replies', form);
      setEditing(null);
      setForm({ shortcut: '', title: '', text: '' });
      await load();
    }, t('saved'));
  };
  return (
    <div className="stack">
      <h1>{t('adminQuick')}</h1>
      {view}
      {items.length === 0 ? (
        <p className="muted">{t('noQuickReplies')}</p>
      ) : (
        <ul className="qr-list">
          {items.map((q) => (
            <li key={q.id} className="card qr-item">
              <div>
                <strong>/{q.shortcut}</strong> <span className="muted">{q.title}</span>
                <p className="pre">{q.text}</p>
              </div>
              <div className="actions">
                <button
                  type="button"
                  className="btn btn-small"
                  onClick={() => (setEditing(q), setForm({ shortcut: q.shortcut, title: q.title, text: q.text }))}
                >
                  {t('edit')}
                </button>
                <button
                  type="button"
                  className="btn btn-small btn-danger-outline"
                  onClick={() => void run(async () => (await del(`/quick-replies/${q.id}`), await load()))}
                >
                  {t('delete')}
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      <form className="card form-grid" onSubmit={submit}>
        <h2>{editing ? `${t('edit')}: /${editing.shortcut}` : t('addQuickReply')}</h2>
        <div className="form-row">
          <label htmlFor="qr-shortcut">{t('shortcut')}</label>
          <input
            id="qr-shortcut"
            required
            pattern={SHORTCUT_PATTERN}
            value={form.shortcut}
            onChange={(e) => setForm({ ...form, shortcut: e.target.value })}
          />
        </div>
        <div className="form-row">
          <label htmlFor="qr-title">{t('title')}</label>
          <input
            id="qr-title"
            required
            maxLength={80}
            value={form.title}
            onChange={(e) => setForm({ ...form, title: e.target.value })}
          />
        </div>
        <div className="form-row wide">
          <label htmlFor="qr-text">{t('text')}</label>
          <textarea
            id="qr-text"
            required
            rows={4}
            maxLength={1024}
            value={form.text}
            onChange={(e) => setForm({ ...form, text: e.target.value })}
          />
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary">
            {t('save')}
          </button>
          {editing && (
            <button
              type="button"
              className="btn"
              onClick={() => (setEditing(null), setForm({ shortcut: '', title: '', text: '' }))}
            >
              {t('cancel')}
            </button>
          )}
        </div>
      </form>
    </div>
  );
}
