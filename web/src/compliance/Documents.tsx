import { useEffect, useState } from 'react';
import { useI18n } from '../i18n/i18n.tsx';
import { useAction } from '../shared/use-action.tsx';

/** A generated document's model as the API's format=json gives it (src/core/compliance/document.ts). */
type DocBlock =
  | { type: 'h1' | 'h2' | 'h3' | 'p' | 'warning'; text: string }
  | { type: 'ul'; items: string[] }
  | { type: 'table'; head: string[]; rows: string[][] };
interface ComplianceDocument {
  title: string;
  language: 'de' | 'en';
  blocks: DocBlock[];
}

/** The record of processing activities (Art. 30) and the privacy notice (Art. 13): preview and download. */
export function Documents() {
  const { t, lang: uiLang } = useI18n();
  const [doc, setDoc] = useState<'ropa' | 'privacy-notice'>('ropa');
  const [lang, setLang] = useState<string>(uiLang);
  const [format, setFormat] = useState('md');
  const [preview, setPreview] = useState<ComplianceDocument>();
  const { run, view } = useAction();
  useEffect(
    () =>
      void run(async () => {
        const res = await fetch(`/api/v1/compliance/${doc}?lang=${lang}&format=json`, { credentials: 'same-origin' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        setPreview((await res.json()) as ComplianceDocument);
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
      {preview && (
        <article className="doc-preview" lang={preview.language} aria-label={preview.title}>
          {preview.blocks.map((block, i) => (
            <Block key={i} block={block} />
          ))}
        </article>
      )}
    </div>
  );
}

/** One block of a generated document as elements: React escapes every text, so no markup from the server is trusted. */
function Block({ block: b }: { block: DocBlock }) {
  switch (b.type) {
    case 'h1':
      return <h2>{b.text}</h2>;
    case 'h2':
      return <h3>{b.text}</h3>;
    case 'h3':
      return <h4>{b.text}</h4>;
    case 'p':
      return <p>{b.text}</p>;
    case 'warning':
      return (
        <p className="doc-warning" role="note">
          <strong>{b.text}</strong>
        </p>
      );
    case 'ul':
      return (
        <ul>
          {b.items.map((item, i) => (
            <li key={i}>{item}</li>
          ))}
        </ul>
      );
    case 'table':
      return (
        <div className="table-wrap" tabIndex={0} role="region" aria-label={b.head.join(', ')}>
          <table className="table">
            <thead>
              <tr>
                {b.head.map((h, i) => (
                  <th key={i} scope="col">
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {b.rows.map((row, i) => (
                <tr key={i}>
                  {row.map((cell, j) => (
                    <td key={j}>{cell}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );
  }
}
