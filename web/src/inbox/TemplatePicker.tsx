import { useEffect, useState, type FormEvent } from 'react';
import { get, post, type Template } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { errorText } from '../shared/error-text.ts';
import { TemplatePreview } from '../shared/TemplatePreview.tsx';

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
  const count = selected ? Math.max(0, ...[...selected.body.matchAll(/\{\{(\d+)\}\}/g)].map((m) => Number(m[1]))) : 0;
  const header = selected?.header;
  const headerNeedsValue = header !== undefined && (header.format !== 'TEXT' || /\{\{1\}\}/.test(header.text));
  const urlButtons = (selected?.buttons ?? []).filter((b) => b.type === 'URL' && /\{\{1\}\}$/.test(b.url));
  const [headerValue, setHeaderValue] = useState('');
  const [buttonValues, setButtonValues] = useState<string[]>([]);
  useEffect(() => {
    setParams(Array.from({ length: count }, () => ''));
    setHeaderValue('');
    setButtonValues(Array.from({ length: urlButtons.length }, () => ''));
  }, [choice, count, urlButtons.length]);
  const send = async (e: FormEvent) => {
    e.preventDefault();
    if (!selected) return;
    try {
      await post(`/conversations/${props.id}/messages`, {
        template: {
          name: selected.name,
          language: selected.language,
          parameters: params,
          ...(headerNeedsValue ? { header: headerValue } : {}),
          ...(urlButtons.length > 0 ? { buttons: buttonValues } : {}),
        },
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
          {selected && (
            <TemplatePreview
              header={selected.header}
              body={selected.body}
              footer={selected.footer}
              buttons={selected.buttons}
              values={params}
              headerValue={headerValue}
              buttonValues={buttonValues}
            />
          )}
          {headerNeedsValue && (
            <div className="form-row">
              <label htmlFor="tpl-h">
                {header?.format === 'TEXT' ? t('wa.templateHeader') : t('wa.templateHeaderLink')}
              </label>
              <input
                id="tpl-h"
                value={headerValue}
                type={header?.format === 'TEXT' ? 'text' : 'url'}
                onChange={(e) => setHeaderValue(e.target.value)}
                required
              />
            </div>
          )}
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
          {urlButtons.map((b, i) => (
            <div key={`b${i}`} className="form-row">
              <label htmlFor={`tpl-b${i}`}>{t('wa.buttonValue', { b: b.text })}</label>
              <input
                id={`tpl-b${i}`}
                value={buttonValues[i] ?? ''}
                onChange={(e) => setButtonValues(buttonValues.map((x, j) => (j === i ? e.target.value : x)))}
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
