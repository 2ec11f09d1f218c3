import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { get, put, type WebchatSettings as Settings } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { CopyButton } from '../shared/CopyButton.tsx';
import { useAction } from '../shared/use-action.tsx';

const HEX = /^#[0-9a-fA-F]{6}$/;

/** A website chat's colour, position and greeting, its embed code and its own page (inside its channel card). */
export function WebchatSettings({ channelId }: { channelId: string }) {
  const { t } = useI18n();
  const [item, setItem] = useState<Settings | undefined>();
  const [colour, setColour] = useState('#0b5cad');
  const [position, setPosition] = useState<'right' | 'left'>('right');
  const [greetingDe, setGreetingDe] = useState('');
  const [greetingEn, setGreetingEn] = useState('');
  const { run, view } = useAction();
  const id = `wc-${channelId}`;
  const show = useCallback((next: Settings) => {
    setItem(next);
    setColour(next.appearance.primaryColour);
    setPosition(next.appearance.position);
    setGreetingDe(next.appearance.greeting.de ?? '');
    setGreetingEn(next.appearance.greeting.en ?? '');
  }, []);
  useEffect(() => {
    void get<{ item: Settings }>(`/admin/channels/${encodeURIComponent(channelId)}/webchat`).then((r) => show(r.item));
  }, [channelId, show]);
  if (!item) return null;
  const url = `/admin/channels/${encodeURIComponent(channelId)}/webchat`;
  const save = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const body = {
        primaryColour: colour,
        position,
        greeting: {
          ...(greetingDe.trim() ? { de: greetingDe.trim() } : {}),
          ...(greetingEn.trim() ? { en: greetingEn.trim() } : {}),
        },
      };
      show((await put<{ item: Settings }>(url, body)).item);
    }, t('saved'));
  };
  return (
    <form className="stack webchat-settings" onSubmit={save} aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>{t('webchat.heading')}</h3>
      <dl className="facts">
        <dt>{t('webchat.embed')}</dt>
        <dd>
          <code className="break">{item.embedCode}</code> <CopyButton value={item.embedCode} />
        </dd>
        <dt>{t('webchat.page')}</dt>
        <dd>
          <a href={item.pageUrl} target="_blank" rel="noreferrer">
            {item.pageUrl}
          </a>
        </dd>
        <dt>{t('webchat.origins')}</dt>
        <dd>{item.allowedOrigins.length > 0 ? item.allowedOrigins.join(', ') : t('webchat.noOrigins')}</dd>
      </dl>
      <div className="form-row">
        <label htmlFor={`${id}-colour`}>{t('webchat.colour')}</label>
        <div className="row">
          <input
            id={`${id}-colour`}
            type="color"
            value={HEX.test(colour) ? colour : '#0b5cad'}
            onChange={(e) => setColour(e.target.value)}
          />
          <input
            aria-label={t('webchat.colourHex')}
            value={colour}
            onChange={(e) => setColour(e.target.value)}
            pattern="#[0-9a-fA-F]{6}"
            size={8}
          />
        </div>
        <span className="muted small">{t('webchat.colourHint')}</span>
      </div>
      <fieldset>
        <legend>{t('webchat.position')}</legend>
        {(['right', 'left'] as const).map((p) => (
          <label key={p} className="check">
            <input
              type="radio"
              name={`${id}-position`}
              value={p}
              checked={position === p}
              onChange={() => setPosition(p)}
            />
            {t(p === 'right' ? 'webchat.right' : 'webchat.left')}
          </label>
        ))}
      </fieldset>
      <div className="form-row wide">
        <label htmlFor={`${id}-gde`}>{t('webchat.greetingDe')}</label>
        <input id={`${id}-gde`} maxLength={300} value={greetingDe} onChange={(e) => setGreetingDe(e.target.value)} />
      </div>
      <div className="form-row wide">
        <label htmlFor={`${id}-gen`}>{t('webchat.greetingEn')}</label>
        <input id={`${id}-gen`} maxLength={300} value={greetingEn} onChange={(e) => setGreetingEn(e.target.value)} />
      </div>
      {view}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={!HEX.test(colour)}>
          {t('save')}
        </button>
        {item.overridden && (
          <button
            type="button"
            className="btn"
            onClick={() =>
              void run(async () => show((await put<{ item: Settings }>(url, { reset: true })).item), t('saved'))
            }
          >
            {t('resetDefaults')}
          </button>
        )}
      </div>
    </form>
  );
}
