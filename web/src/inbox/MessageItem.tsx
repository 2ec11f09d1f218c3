import { useState, type ReactNode } from 'react';
import type { Message } from '../api.ts';
import { useI18n, type MessageKey } from '../i18n/i18n.tsx';
import { FileIcon } from './icons.tsx';

/** The reactions agents pick from (WhatsApp's own quick set). */
const REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

const STATUS_KEYS: Record<string, MessageKey> = {
  queued: 'statusQueued',
  sending: 'statusSending',
  sent: 'statusSent',
  delivered: 'statusDelivered',
  read: 'statusRead',
  failed: 'statusFailed',
};

function Ticks({ status }: { status: string }) {
  const { t } = useI18n();
  const key = STATUS_KEYS[status];
  if (!key) return null;
  const glyph =
    status === 'sent' ? '✓' : status === 'delivered' || status === 'read' ? '✓✓' : status === 'failed' ? '!' : '◷';
  return (
    <span className={`ticks ticks-${status}`} title={t(key)} aria-label={t(key)} role="img">
      {glyph}
    </span>
  );
}

/**
 * One message of the thread: the message it answers, text, media (images, stickers, voice and audio players),
 * location, contact cards, template, buttons, reactions, delivery ticks; a note is marked internal. A customer's
 * message offers "Antworten" to answer exactly it.
 */
export function MessageItem({
  m,
  onReply,
  onReact,
}: {
  m: Message;
  onReply?: () => void;
  /** Reacts for the team (an emoji) or takes the team's reaction back (''); only where the channel has reactions. */
  onReact?: (emoji: string) => void;
}) {
  const [picking, setPicking] = useState(false);
  const ours = m.reactions?.find((r) => r.by === 'staff');
  const { t, formatTime } = useI18n();
  const cls = `msg msg-${m.direction} ${m.status === 'failed' ? 'msg-failed' : ''}`;
  const who =
    m.direction === 'in' ? t('customer') : m.direction === 'system' ? t('system') : (m.author?.name ?? 'sparsam');
  return (
    <li className={cls}>
      {m.direction === 'note' && <span className="note-tag">{t('internalNote')}</span>}
      {m.senderKeyChanged && (
        <p className="msg-error" role="note">
          {t('senderKeyChanged')}
        </p>
      )}
      {m.deleted ? (
        <p className="muted">
          <em>{t('deletedMessage')}</em>
        </p>
      ) : (
        <>
          {m.replyTo && (
            <blockquote className="msg-quote">
              <span className="muted small">{m.replyTo.direction === 'in' ? t('customer') : t('quotedOurs')}</span>
              <span>{m.replyTo.text ?? t('file')}</span>
            </blockquote>
          )}
          {m.media && <MediaView media={m.media} />}
          {m.location ? (
            <LocationView location={m.location} />
          ) : (
            m.text && m.kind !== 'contacts' && <p className="msg-text">{linkify(m.text)}</p>
          )}
          {m.contacts?.map((c, i) => (
            <div key={i} className="msg-contact">
              <strong>{c.name ?? t('contactCard')}</strong>
              {c.company && <span className="muted"> · {c.company}</span>}
              {c.phones.map((p) => (
                <span key={p}>{p}</span>
              ))}
              {c.emails.map((e) => (
                <span key={e}>{e}</span>
              ))}
            </div>
          ))}
          {m.unsupported && (
            <p className="muted small" role="note">
              {t('unsupportedMessage', { type: m.unsupported.providerType })}
              {m.unsupported.reason ? ` (${m.unsupported.reason})` : ''}
            </p>
          )}
          {m.template && !m.text && (
            <p className="msg-text">
              <span className="muted">{t('template')}:</span> {m.template.name}{' '}
              {m.template.parameters.length > 0 && `(${m.template.parameters.join(', ')})`}
            </p>
          )}
          {m.list && (
            <div className="msg-list">
              <p className="msg-list-button">
                <span className="chip">{m.list.button}</span>
              </p>
              {m.list.sections.map((s, i) => (
                <ul key={i} aria-label={s.title ?? m.list!.button}>
                  {s.title && <li className="msg-list-section small muted">{s.title}</li>}
                  {s.rows.map((r) => (
                    <li key={r.id}>
                      {r.title}
                      {r.description && <span className="small muted"> – {r.description}</span>}
                    </li>
                  ))}
                </ul>
              ))}
            </div>
          )}
          {m.buttons && m.buttons.length > 0 && (
            <p className="msg-buttons">
              {m.buttons.map((b) => (
                <span key={b.id} className="chip">
                  {b.title}
                </span>
              ))}
            </p>
          )}
        </>
      )}
      {m.status === 'failed' && m.error && (
        <p className="msg-error" role="note">
          {t('failedReason', { r: m.error.reason || m.error.code })}
        </p>
      )}
      {m.reactions && m.reactions.length > 0 && (
        <p className="msg-reactions">
          {m.reactions.map((r) => (
            <span
              key={r.by}
              className="reaction"
              title={t(r.by === 'customer' ? 'reactionByCustomer' : 'reactionByStaff')}
              aria-label={`${t(r.by === 'customer' ? 'reactionByCustomer' : 'reactionByStaff')}: ${r.emoji}`}
            >
              {r.emoji}
            </span>
          ))}
        </p>
      )}
      <p className="msg-meta">
        <span>{who}</span>
        <time dateTime={m.createdAt}>{formatTime(m.createdAt)}</time>
        {m.edited && <span>· {t('edited')}</span>}
        {m.direction === 'out' && <Ticks status={m.status} />}
        {onReply && (
          <button type="button" className="btn-link msg-reply" onClick={onReply}>
            {t('replyToThis')}
          </button>
        )}
        {onReact && (
          <button
            type="button"
            className="btn-link"
            aria-expanded={picking}
            onClick={() => (ours ? onReact('') : setPicking(!picking))}
          >
            {ours ? t('reactionRemove') : t('react')}
          </button>
        )}
      </p>
      {onReact && picking && (
        <p className="msg-reaction-picker" role="group" aria-label={t('react')}>
          {REACTIONS.map((emoji) => (
            <button
              key={emoji}
              type="button"
              className="btn btn-small"
              onClick={() => {
                setPicking(false);
                onReact(emoji);
              }}
            >
              {emoji}
            </button>
          ))}
        </p>
      )}
    </li>
  );
}

function MediaView({ media }: { media: NonNullable<Message['media']> }) {
  const { t } = useI18n();
  if (media.state === 'pending') return <p className="muted small">{t('mediaPending')}</p>;
  if (media.state === 'rejected' || media.state === 'failed')
    return <p className="muted small">{t('mediaRejected')}</p>;
  if (media.mimeType.startsWith('audio/')) {
    return (
      <audio className="msg-audio" controls preload="none" src={media.url} aria-label={t('voiceMessage')}>
        <a href={media.url} download>
          {t('file')}
        </a>
      </audio>
    );
  }
  if (media.mimeType.startsWith('image/')) {
    return (
      <a href={media.url} target="_blank" rel="noreferrer" className="msg-image">
        <img src={media.url} alt={t('image')} loading="lazy" />
      </a>
    );
  }
  return (
    <a href={media.url} className="msg-file" download>
      <FileIcon /> {t('file')} ({media.mimeType}, {Math.max(1, Math.round(media.size / 1024))} KB)
    </a>
  );
}

/**
 * A shared location: the place and its coordinates, with a link to OpenStreetMap that opens only when clicked (no
 * map is loaded into the inbox, so rendering makes no request to a third party).
 */
function LocationView({ location }: { location: NonNullable<Message['location']> }) {
  const { t } = useI18n();
  const lat = location.latitude.toFixed(5);
  const lon = location.longitude.toFixed(5);
  const href = `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=17/${lat}/${lon}`;
  return (
    <div className="msg-location">
      <strong>{location.name ?? t('location')}</strong>
      {location.address && <span>{location.address}</span>}
      <span className="muted small">
        {lat}, {lon}
      </span>
      <a href={href} target="_blank" rel="noopener noreferrer">
        {t('openMap')}
      </a>
    </div>
  );
}

/** Text with its web addresses as links that open in a new tab without handing the inbox to the page. */
function linkify(text: string): ReactNode[] {
  const parts = text.split(/(https?:\/\/[^\s<>"']+)/g);
  return parts.map((part, i) =>
    i % 2 === 1 ? (
      <a key={i} href={part} target="_blank" rel="noopener noreferrer">
        {part}
      </a>
    ) : (
      part
    ),
  );
}
