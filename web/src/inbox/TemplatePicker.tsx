import { useEffect, useState, type FormEvent } from 'react';
import { get, post, type Template } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { errorText } from '../shared/error-text.ts';

/** Sends an approved template with its placeholders filled in: the only reply once the 24-hour window is closed. */
export function TemplatePicker(props: { id: string; channelId: string; onSent(): Promise<void> }) {
  const { t } = useI18n();
  const [templates, setTemplates] = useState<Template[] | null>(null);
  const [choice, setChoice] = useState('');
  const [params, setParams] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    get<{ items: Template[] }>(`/channels/${props.channelId}/templates`)
      .then((r) => setTemplates(r.items))
      .catch((e: unknown) => (setTemplates([]), setError(errorText(e, t))));
  }, [props.channelId, t]);
  const selected = templates?.find((x) => `${x.name}|${x.language}` === choice);
  const count = selected ? new Set(selected.body.match(/\{\{\d+\}\}/g) ?? []).size : 0;
  useEffect(() => setParams(Array.from({ length: count }, () => '')), [choice, count]);
  const send = async (e: FormEvent) => {
    e.preventDefault();
    if (!selected) return;
    try {
      await post(`/conversations/${props.id}/messages`, {
        template: { name: selected.name, language: selected.language, parameters: params },
      });
      setChoice('');
      await props.onSent();
    } catch (err) {
      setError(errorText(err, t));
    }
  };
  return (
    <form className="template-picker" onSubmit={send}>
      <p className="notice notice-info">{t('windowClosedCompose')}</p>
      {templates && templates.length === 0 ? (
        <p className="muted">{t('noTemplates')}</p>
      ) : (
        <>
          <label htmlFor="tpl">{t('chooseTemplate')}</label>
          <select id="tpl" value={choice} onChange={(e) => setChoice(e.target.value)}>
            <option value="">–</option>
            {(templates ?? []).map((x) => (
              <option key={`${x.name}|${x.language}`} value={`${x.name}|${x.language}`}>
                {x.name} ({x.language})
              </option>
            ))}
          </select>
          {selected && <p className="template-body">{selected.body}</p>}
          {params.map((p, i) => (
            <div key={i} className="form-row">
              <label htmlFor={`tpl-p${i}`}>{t('parameter', { n: i + 1 })}</label>
              <input
                id={`tpl-p${i}`}
                value={p}
                onChange={(e) => setParams(params.map((x, j) => (j === i ? e.target.value : x)))}
                required
              />
            </div>
          ))}
          <button type="submit" className="btn btn-primary" disabled={!selected}>
            {t('sendTemplate')}
          </button>
        </>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
