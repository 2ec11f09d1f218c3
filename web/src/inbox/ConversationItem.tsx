import type { ConversationSearchHit, ConversationSummary } from '../api.ts';
import { useI18n, type Translate } from '../i18n/i18n.tsx';
import { linkHandler } from '../router.ts';

/**
 * A conversation in the list, in two compact lines: unread dot, label, reply window and last activity; then the
 * newest message (opened for the viewer by the server, never stored in plain text), assignee, labels and the unread
 * count.
 */
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
  const unread = c.unread > 0;
  return (
    <li>
      <a
        href={href}
        onClick={linkHandler(href)}
        className={`conv-item ${selected ? 'selected' : ''} ${unread ? 'is-unread' : ''}`}
        aria-current={selected ? 'true' : undefined}
        data-id={c.id}
      >
        <span className="conv-row">
          <span className={`unread-dot ${unread ? 'on' : ''}`} aria-hidden="true" />
          <span className="conv-label">{c.label}</span>
          {c.priority === 'high' && <span className="chip chip-high">{t('priorityHigh')}</span>}
          <span className="chip chip-channel">{c.channelId}</span>
          {c.state === 'closed' ? (
            <span className="chip chip-closed">{t('stateClosed')}</span>
          ) : c.snoozedUntil ? (
            <span className="chip chip-snoozed" title={t('snoozedUntil', { t: formatTime(c.snoozedUntil, now) })}>
              {t('snoozedChip', { t: formatTime(c.snoozedUntil, now) })}
            </span>
          ) : windowMs !== null ? (
            <span
              className={`window ${windowMs <= 0 ? 'closed' : windowMs < 2 * 3_600_000 ? 'soon' : ''}`}
              title={windowMs <= 0 ? t('windowClosed') : t('windowLeft', { t: formatDuration(windowMs) })}
            >
              {windowMs <= 0 ? t('windowClosedShort') : t('windowLeftShort', { t: formatDuration(windowMs) })}
            </span>
          ) : null}
          <time className="conv-time" dateTime={c.lastActivityAt}>
            {formatTime(c.lastActivityAt, now)}
          </time>
        </span>
        {c.match && (
          <span className="conv-snippet" title={t('search.matchIn')}>
            {c.match.snippet}
          </span>
        )}
        <span className="conv-row conv-meta">
          <span className="conv-preview">{previewText(c.preview, t)}</span>
          {c.labels.length > 0 && (
            <span className="conv-labels">
              {c.labels.map((l) => (
                <span key={l} className="chip chip-label">
                  {l}
                </span>
              ))}
            </span>
          )}
          <span className="assignee" title={c.assignee ? c.assignee.name : t('unassigned')}>
            {c.assignee ? c.assignee.name : t('unassignedShort')}
          </span>
          {unread && (
            <span className="badge" aria-label={t('unread', { n: c.unread })}>
              {c.unread}
            </span>
          )}
        </span>
      </a>
    </li>
  );
}

/** "Sie: …" / "Notiz: …" before the team's own messages; a file without caption shows its kind. */
function previewText(p: ConversationSummary['preview'], t: Translate): string {
  if (!p) return '';
  const body = p.kind === 'deleted' ? t('previewDeleted') : (p.text ?? kindText(p.kind, t));
  if (p.direction === 'out') return t('previewYou', { text: body });
  if (p.direction === 'note') return t('previewNote', { text: body });
  return body;
}

function kindText(kind: string, t: Translate): string {
  switch (kind) {
    case 'image':
    case 'sticker':
      return t('previewImage');
    case 'audio':
      return t('previewAudio');
    case 'video':
      return t('previewVideo');
    case 'location':
      return t('previewLocation');
    case 'contacts':
      return t('previewContacts');
    case 'text':
      return '';
    default:
      return t('file');
  }
}
