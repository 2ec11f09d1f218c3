import { useEffect, useState } from 'react';
import { useI18n } from '../i18n/i18n.tsx';
import { useAction } from '../shared/use-action.tsx';

/** The record of processing activities (Art. 30) and the privacy notice (Art. 13): preview and download. */
export function Documents() {
  const { t, lang: uiLang } = useI18n();
  const [doc, setDoc] = useState<'ropa' | 'privacy-notice'>('ropa');
  const [lang, setLang] = useState<string>(uiLang);
  const [format, setFormat] = useState('md');
  const [preview, setPreview] = useState('');
  const { run, view } = useAction();
  useEffect(
    () =>
      void run(async () => {
        const res = await fetch(`/api/v1/compliance/${doc}?lang=${lang}&format=md`, { credentials: 'same-origin' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        setPreview(await res.text());
      }),
    [doc, lang, run],
  );
  return (
    <div className="stack">
      <h1>{t('compliance.documents')}</h1>
      {view}
      <div className="form-grid">
        <label className="form-row">
          <span>{t('compliance.documents')}</span>
          <select value={doc} onChange={(e) => setDoc(e.target.value as 'ropa' | 'privacy-notice')}>
            <option value="ropa">{t('compliance.ropa')}</option>
            <option value="privacy-notice">{t('compliance.notice')}</option>
          </select>
        </label>
        <label className="form-row">
          <span>{t('compliance.docLang')}</span>
          <select value={lang} onChange={(e) => setLang(e.target.value)}>
            <option value="de">Deutsch</option>
            <option value="en">English</option>
          </select>
        </label>
        <label className="form-row">
          <span>{t('compliance.format')}</span>
          <select value={format} onChange={(e) => setFormat(e.target.value)}>
            <option value="md">Markdown</option>
            <option value="html">HTML</option>
            <option value="pdf">PDF</option>
          </select>
        </label>
      </div>
      <div className="form-actions">
        <a className="btn btn-primary" href={`/api/v1/compliance/${doc}?lang=${lang}&format=${format}`} download>
          {t('compliance.download')}
        </a>
      </div>
      <pre className="pre">{preview}</pre>
    </div>
  );
}
