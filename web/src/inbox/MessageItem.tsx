import type { Message } from '../api.ts';
import { useI18n, type MessageKey } from '../i18n/i18n.tsx';
import { FileIcon } from './icons.tsx';

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

/** One message of the thread: text, media, template, buttons, delivery ticks; a note is marked internal. */
export function MessageItem({ m }: { m: Message }) {
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
          {m.media && <MediaView media={m.media} />}
          {m.text && <p className="msg-text">{m.text}</p>}
          {m.template && !m.text && (
            <p className="msg-text">
              <span className="muted">{t('template')}:</span> {m.template.name}{' '}
              {m.template.parameters.length > 0 && `(${m.template.parameters.join(', ')})`}
            </p>
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
      <p className="msg-meta">
        <span>{who}</span>
        <time dateTime={m.createdAt}>{formatTime(m.createdAt)}</time>
        {m.edited && <span>· {t('edited')}</span>}
        {m.direction === 'out' && <Ticks status={m.status} />}
      </p>
    </li>
  );
}

function MediaView({ media }: { media: NonNullable<Message['media']> }) {
  const { t } = useI18n();
  if (media.state === 'pending') return <p className="muted small">{t('mediaPending')}</p>;
  if (media.state === 'rejected' || media.state === 'failed')
    return <p className="muted small">{t('mediaRejected')}</p>;
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
