import { useCallback, useEffect, useRef, useState } from 'react';
import { get, post, type Availability, type Mention, type Presence } from '../api.ts';
import { useI18n, type MessageKey } from '../i18n/i18n.tsx';
import { navigate } from '../router.ts';
import { useLiveEvents } from '../shared/live.tsx';

export const AVAILABILITY_KEYS: Record<Availability, MessageKey> = {
  online: 'teams.online',
  away: 'teams.away',
  offline: 'teams.offlineState',
};

/** How often the open inbox tab tells the server it is there (and whether there was input since). */
const HEARTBEAT_MS = 60_000;

/**
 * Above the conversation list: the agent's own availability (chosen; away after idle time and offline without this
 * tab are decided by the server from the heartbeats) and the mentions of them in colleagues' notes.
 */
export function TeamBar() {
  const { t, formatDate } = useI18n();
  const [presence, setPresence] = useState<Presence | null>(null);
  const [mentions, setMentions] = useState<{ items: Mention[]; unread: number }>({ items: [], unread: 0 });
  const [open, setOpen] = useState(false);
  const active = useRef(true);

  const report = useCallback(async (status?: Availability) => {
    const body = { ...(status ? { status } : {}), active: active.current };
    active.current = false;
    setPresence(await post<Presence>('/me/presence', body));
  }, []);
  const loadMentions = useCallback(async () => {
    setMentions(await get<{ items: Mention[]; unread: number }>('/me/mentions'));
  }, []);

  useEffect(() => {
    const mark = () => {
      active.current = true;
    };
    const events = ['keydown', 'pointerdown', 'touchstart', 'wheel'] as const;
    for (const e of events) window.addEventListener(e, mark, { passive: true });
    void report().catch(() => undefined);
    void loadMentions().catch(() => undefined);
    const timer = setInterval(() => void report().catch(() => undefined), HEARTBEAT_MS);
    return () => {
      clearInterval(timer);
      for (const e of events) window.removeEventListener(e, mark);
    };
  }, [report, loadMentions]);

  useLiveEvents((e) => {
    if (e.type === 'user.notified' && e.kind === 'mention') void loadMentions().catch(() => undefined);
  });

  const markAll = async () => {
    await post('/me/mentions/read', {});
    await loadMentions();
  };

  return (
    <div className="team-bar">
      <label className="inline-field availability">
        <span className={`presence-dot ${presence?.availability ?? 'offline'}`} aria-hidden="true" />
        <span className="sr-only">{t('teams.availability')}</span>
        <select
          aria-label={t('teams.availability')}
          value={presence?.status ?? 'online'}
          onChange={(e) => void report(e.target.value as Availability).catch(() => undefined)}
        >
          {(['online', 'away', 'offline'] as Availability[]).map((a) => (
            <option key={a} value={a}>
              {t(AVAILABILITY_KEYS[a])}
            </option>
          ))}
        </select>
        {presence && presence.availability !== presence.status && (
          <span className="muted small">({t(AVAILABILITY_KEYS[presence.availability])})</span>
        )}
      </label>
      <div className="mentions">
        <button
          type="button"
          className={`btn btn-small mention-badge ${mentions.unread > 0 ? 'has-unread' : ''}`}
          aria-expanded={open}
          onClick={() => setOpen(!open)}
          title={t('teams.mentions')}
        >
          @ <span className="sr-only">{t('teams.mentions')}</span>
          {mentions.unread > 0 && <span className="count">{mentions.unread}</span>}
        </button>
        {open && (
          <div className="mention-list card" role="dialog" aria-label={t('teams.mentions')}>
            <p className="small">
              {mentions.unread > 0 ? t('teams.mentionsUnread', { n: mentions.unread }) : t('teams.mentions')}
            </p>
            {mentions.items.length === 0 ? (
              <p className="muted small">{t('teams.noMentions')}</p>
            ) : (
              <ul>
                {mentions.items.slice(0, 20).map((m) => (
                  <li key={m.id} className={m.read ? '' : 'unread'}>
                    <a
                      href={`/inbox/${m.conversationId}`}
                      onClick={(e) => {
                        e.preventDefault();
                        setOpen(false);
                        void post('/me/mentions/read', { ids: [m.id] })
                          .then(loadMentions)
                          .catch(() => undefined);
                        navigate(`/inbox/${m.conversationId}`);
                      }}
                    >
                      {t('teams.mentionBy', { name: m.author?.name ?? '–', label: m.label })}
                    </a>
                    <span className="muted small"> · {formatDate(m.createdAt)}</span>
                  </li>
                ))}
              </ul>
            )}
            {mentions.unread > 0 && (
              <button type="button" className="btn btn-small" onClick={() => void markAll()}>
                {t('teams.markAllRead')}
              </button>
            )}
          </div>
        )}
      </div>
    </div>
  );
}
