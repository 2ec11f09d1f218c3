import type { TemplateButton } from '../api.ts';

type Header = { format: 'TEXT'; text: string; example?: string } | { format: 'IMAGE' | 'DOCUMENT' | 'VIDEO' };

/** {{n}} filled with values[n-1]; an empty value shows the placeholder, so that the agent sees what is missing. */
function fill(text: string, values: readonly string[]): string {
  return text.replace(/\{\{(\d+)\}\}/g, (all, n: string) => values[Number(n) - 1]?.trim() || all);
}

const MEDIA_ICON = { IMAGE: '🖼', DOCUMENT: '📄', VIDEO: '🎬' } as const;

/**
 * A WhatsApp template as the customer will see it: header, body, footer and buttons, with the values filled in.
 * Nothing is fetched: a media header is shown as a labelled box, never loaded from a link.
 */
export function TemplatePreview(props: {
  header?: Header | undefined;
  body: string;
  footer?: string | undefined;
  buttons?: readonly TemplateButton[] | undefined;
  values: readonly string[];
  headerValue?: string | undefined;
  buttonValues?: readonly string[] | undefined;
}) {
  let urlIndex = 0;
  return (
    <div className="wa-preview" aria-label="preview">
      {props.header?.format === 'TEXT' && (
        <p className="wa-preview-header">
          {fill(props.header.text, [props.headerValue ?? props.header.example ?? ''])}
        </p>
      )}
      {props.header && props.header.format !== 'TEXT' && (
        <p className="wa-preview-media">
          <span aria-hidden="true">{MEDIA_ICON[props.header.format]}</span> {props.header.format}
        </p>
      )}
      <p className="wa-preview-body">{fill(props.body, props.values)}</p>
      {props.footer && <p className="wa-preview-footer">{props.footer}</p>}
      {props.buttons && props.buttons.length > 0 && (
        <ul className="wa-preview-buttons">
          {props.buttons.map((b, i) => {
            let title = b.text;
            if (b.type === 'URL') {
              const value = /\{\{1\}\}$/.test(b.url) ? (props.buttonValues?.[urlIndex++] ?? b.example ?? '') : '';
              title = `${b.text} ↗`;
              return (
                <li key={i} title={value ? fill(b.url, [value.replace(/^.*\//, '')]) : b.url}>
                  {title}
                </li>
              );
            }
            if (b.type === 'PHONE_NUMBER') title = `${b.text} ☎`;
            return <li key={i}>{title}</li>;
          })}
        </ul>
      )}
    </div>
  );
}
