import { onTablistKeyDown } from '../shared/tablist.ts';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  get,
  serverNow,
  type ConversationSearchHit,
  type ConversationSummary,
  type SearchResult,
  type QuickReply,
  type SessionUser,
} from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { errorText } from '../shared/error-text.ts';
import { useLiveEvents } from '../shared/live.tsx';
import { navigate } from '../router.ts';
import { Conversation } from './Conversation.tsx';
import { ConversationItem } from './ConversationItem.tsx';
import { TeamBar } from './TeamBar.tsx';
import { SavedViews } from './SavedViews.tsx';
import { ShortcutHelp, useInboxShortcuts } from './shortcuts.tsx';

type View = 'mine' | 'unassigned' | 'all' | 'snoozed' | 'closed';

/** The inbox: filterable conversation list beside the open conversation; single column on narrow screens. */
export function Inbox({ user, path }: { user: SessionUser; path: string }) {
  const { t } = useI18n();
  const selectedId = /^\/inbox\/([^/]+)/.exec(path)?.[1];
  const [view, setView] = useState<View>('all');
  const [label, setLabel] = useState('');
  const [channel, setChannel] = useState('');
  const [q, setQ] = useState('');
  const [items, setItems] = useState<ConversationSearchHit[] | ConversationSummary[] | null>(null);
  const [searchLimit, setSearchLimit] = useState<number | null>(null);
  const [sort, setSort] = useState<'activity' | 'priority'>('activity');
  const [error, setError] = useState<string | null>(null);
  const [labels, setLabels] = useState<string[]>([]);
  const [quickReplies, setQuickReplies] = useState<QuickReply[]>([]);
  const [now, setNow] = useState(serverNow());
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const previousId = useRef<string | undefined>(selectedId);
  // One column (phone, tablet portrait): the pane that held the focus disappears when a conversation opens or the
  // back button is pressed. The focus follows: to the conversation's heading, or back to the conversation's row.
  const [focusTitle, setFocusTitle] = useState(false);
  useEffect(() => {
    const before = previousId.current;
    previousId.current = selectedId;
    if (before === selectedId) return;
    const oneColumn = window.matchMedia('(max-width: 900px)').matches;
    if (selectedId) setFocusTitle(oneColumn);
    else if (before && oneColumn) {
      document.querySelector<HTMLElement>(`.conv-list a[href="/inbox/${before}"]`)?.focus();
    }
  }, [selectedId]);

  // Only the newest request's answer is shown: a slower answer to an older filter or sort must not replace it.
  const loadSeq = useRef(0);
  const load = useCallback(async () => {
    const seq = ++loadSeq.current;
    const params = new URLSearchParams({ view });
    if (label) params.set('label', label);
    if (channel) params.set('channel', channel);
    if (sort !== 'activity') params.set('sort', sort);
    try {
      if (q.trim()) {
        // Searches message texts too (decrypted in memory on the server, within a bound it reports).
        params.set('q', q.trim());
        const res = await get<SearchResult>(`/conversations/search?${params}`);
        if (seq !== loadSeq.current) return;
        setItems(res.items);
        setSearchLimit(res.limited ? res.bound.messages : null);
      } else {
        const res = await get<{ items: ConversationSummary[] }>(`/conversations?${params}`);
        if (seq !== loadSeq.current) return;
        setItems(res.items);
        setSearchLimit(null);
      }
      setNow(serverNow());
      setError(null);
    } catch (e) {
      if (seq === loadSeq.current) setError(errorText(e, t));
    }
  }, [view, label, channel, q, sort, t]);

  useEffect(() => {
    const timer = setTimeout(() => void load(), q ? 250 : 0);
    return () => clearTimeout(timer);
  }, [load, q]);

  const loadLabels = useCallback(() => {
    get<{ items: string[] }>('/labels')
      .then((r) => setLabels(r.items))
      .catch(() => undefined);
  }, []);
  useEffect(() => {
    loadLabels();
    get<{ items: QuickReply[] }>('/quick-replies')
      .then((r) => setQuickReplies(r.items))
      .catch(() => undefined);
    const tick = setInterval(() => setNow(serverNow()), 30_000);
    return () => clearInterval(tick);
  }, [loadLabels]);

  // The refresh after a burst of events runs the load of the moment it fires: a sort or filter chosen in between
  // is kept.
  const latestLoad = useRef(load);
  latestLoad.current = load;
  const connected = useLiveEvents(() => {
    clearTimeout(refreshTimer.current);
    refreshTimer.current = setTimeout(() => void latestLoad.current(), 150);
  });

  const [help, setHelp] = useState(false);
  const ids = useMemo(() => (items ?? []).map((c) => c.id), [items]);
  useInboxShortcuts(ids, selectedId, () => setHelp(true));

  const channels = useMemo(() => [...new Set((items ?? []).map((c) => c.channelId))].sort(), [items]);
  const views: [View, string][] = [
    ['mine', t('viewMine')],
    ['unassigned', t('viewUnassigned')],
    ['all', t('viewAll')],
    ['snoozed', t('viewSnoozed')],
    ['closed', t('viewClosed')],
  ];

  return (
    <div className={`inbox ${selectedId ? 'has-selection' : ''}`}>
      <section className="list-pane" aria-label={t('conversations')}>
        <div className="list-tools">
          <TeamBar />
          <div className="views" role="tablist" aria-label={t('conversations')} onKeyDown={onTablistKeyDown}>
            {views.map(([v, name]) => (
              <button
                key={v}
                type="button"
                role="tab"
                aria-selected={view === v}
                tabIndex={view === v ? 0 : -1}
                className={`view-tab ${view === v ? 'active' : ''}`}
                onClick={() => setView(v)}
              >
                {name}
              </button>
            ))}
          </div>
          <SavedViews
            current={{ view, label, channel, sort }}
            onApply={(f) => {
              setView(f.view);
              setLabel(f.label);
              setChannel(f.channel);
              setSort(f.sort);
            }}
          />
          <div className="filters">
            <label className="sr-only" htmlFor="f-search">
              {t('search')}
            </label>
            <input
              id="f-search"
              type="search"
              placeholder={t('search')}
              value={q}
              onChange={(e) => setQ(e.target.value)}
            />
            <label className="sr-only" htmlFor="f-label">
              {t('filterLabel')}
            </label>
            <select id="f-label" value={label} onChange={(e) => setLabel(e.target.value)}>
              <option value="">{t('anyLabel')}</option>
              {labels.map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </select>
            <label className="sr-only" htmlFor="f-channel">
              {t('filterChannel')}
            </label>
            <select id="f-channel" value={channel} onChange={(e) => setChannel(e.target.value)}>
              <option value="">{t('anyChannel')}</option>
              {[...new Set([...channels, ...(channel ? [channel] : [])])].map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
            <label className="sr-only" htmlFor="f-sort">
              {t('sortLabel')}
            </label>
            <select id="f-sort" value={sort} onChange={(e) => setSort(e.target.value as 'activity' | 'priority')}>
              <option value="activity">{t('sortActivity')}</option>
              <option value="priority">{t('sortPriority')}</option>
            </select>
          </div>
          <div className="list-status">
            <p className={`live-state ${connected ? 'on' : 'off'}`} role="status">
              <span className="dot" aria-hidden="true" /> {connected ? t('live') : t('offline')}
            </p>
            <button type="button" className="link-button shortcut-hint" onClick={() => setHelp(true)}>
              {t('shortcutButton')} <kbd>?</kbd>
            </button>
          </div>
        </div>
        {error && (
          <p className="error" role="alert">
            {t('errorGeneric', { m: error })}
          </p>
        )}
        {searchLimit !== null && (
          <p className="muted small pad search-limit" role="status">
            {t('search.limited', { n: searchLimit })}
          </p>
        )}
        {items === null ? (
          <p className="muted pad">{t('loading')}</p>
        ) : items.length === 0 ? (
          <>
            <p className="muted pad">{t('noConversations')}</p>
            {view === 'closed' && <p className="muted small pad">{t('closedViewHint')}</p>}
            {view === 'snoozed' && <p className="muted small pad">{t('snoozedViewHint')}</p>}
          </>
        ) : (
          <ul className="conv-list">
            {items.map((c) => (
              <ConversationItem key={c.id} c={c} selected={c.id === selectedId} now={now} />
            ))}
          </ul>
        )}
      </section>
      <ShortcutHelp open={help} onClose={() => setHelp(false)} />
      <section className="detail-pane" aria-label={t('messages')}>
        {selectedId ? (
          <Conversation
            key={selectedId}
            id={selectedId}
            user={user}
            quickReplies={quickReplies}
            focusTitle={focusTitle}
            onBack={() => navigate('/inbox')}
            onChanged={() => {
              void load();
              loadLabels();
            }}
          />
        ) : (
          <p className="empty-detail muted">{t('selectConversation')}</p>
        )}
      </section>
    </div>
  );
}
