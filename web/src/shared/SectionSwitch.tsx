import type { ReactNode } from 'react';
import { linkHandler } from '../router.ts';

export interface Section {
  /** The path segment after the area's base: `/admin/<key>`. */
  key: string;
  label: string;
  render(): ReactNode;
}

/**
 * An area with sections (admin, data protection): a second row of tabs linking to `${base}/${key}` and the section the
 * path names; an unknown or missing section shows the first one.
 */
export function SectionSwitch({
  base,
  path,
  label,
  sections,
}: {
  base: string;
  path: string;
  label: string;
  sections: readonly [Section, ...Section[]];
}) {
  const current = path.split('/')[2] ?? sections[0].key;
  const shown = sections.find((s) => s.key === current) ?? sections[0];
  return (
    <div className="admin">
      <nav className="subnav" aria-label={label}>
        {sections.map(({ key, label: text }) => (
          <a
            key={key}
            href={`${base}/${key}`}
            onClick={linkHandler(`${base}/${key}`)}
            aria-current={current === key ? 'page' : undefined}
          >
            {text}
          </a>
        ))}
      </nav>
      <div className="admin-body">{shown.render()}</div>
    </div>
  );
}
