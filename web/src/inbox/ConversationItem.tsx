import type { ConversationSearchHit, ConversationSummary } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { linkHandler } from '../router.ts';

/** A conversation in the list: label, last activity, channel, reply window, unread count, assignee, labels. */
export function ConversationItem({
  c,
  selected,
  now,
}: {
  c: ConversationSummary & Partial<Pick<ConversationSearchHit, 'match'>>;
  selected: boolean;
  now: number;
}) {
  const { t, formatTime, formatDuration } = useI18n();
  const href = `/inbox/${c.id}`;
  const windowMs = c.windowClosesAt ? new Date(c.windowClosesAt).getTime() - now : null;
  return (
    <li>
      <a
        href={href}
        onClick={linkHandler(href)}
        className={`conv-item ${selected ? 'selected' : ''} ${c.unread > 0 ? 'is-unread' : ''}`}
        aria-current={selected ? 'true' : undefined}
      >
        <span className="conv-row">
          <span className="conv-label">{c.label}</span>
          <time className="conv-time" dateTime={c.lastActivityAt}>
            {formatTime(c.lastActivityAt, now)}
          </time>
        </span>
        {c.match && (
          <span className="conv-snippet" title={t('search.matchIn')}>
            {c.match.snippet}
          </span>
        )}
        <span className="conv-row">
          <span className="chip chip-channel">{c.channelId}</span>
          {c.state === 'closed' ? (
            <span className="chip chip-closed">{t('stateClosed')}</span>
          ) : windowMs !== null ? (
            <span className={`window ${windowMs <= 0 ? 'closed' : windowMs < 2 * 3_600_000 ? 'soon' : ''}`}>
              {windowMs <= 0 ? t('windowClosed') : t('windowLeft', { t: formatDuration(windowMs) })}
            </span>
          ) : null}
          {c.unread > 0 && (
            <span className="badge" aria-label={t('unread', { n: c.unread })}>
              {c.unread}
            </span>
          )}
        </span>
        <span className="conv-row conv-meta">
          <span className="assignee">{c.assignee ? c.assignee.name : t('unassigned')}</span>
          <span className="conv-labels">
            {c.labels.map((l) => (
              <span key={l} className="chip chip-label">
                {l}
              </span>
            ))}
          </span>
        </span>
      </a>
    </li>
  );
}
