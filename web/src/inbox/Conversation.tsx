import { useCallback, useEffect, useRef, useState } from 'react';
import { AVAILABILITY_KEYS } from './TeamBar.tsx';
import type { TeamMember } from '../api.ts';
import { ApiError, get, post, serverNow, type ConversationDetail, type QuickReply, type SessionUser } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { errorText } from '../shared/error-text.ts';
import { useLiveEvents } from '../shared/live.tsx';
import { Composer } from './Composer.tsx';
import { LabelEditor } from './LabelEditor.tsx';
import { MessageItem } from './MessageItem.tsx';

type Member = TeamMember;

/** One conversation: messages with delivery state, notes, composer with quick replies and templates, team actions. */
export function Conversation(props: {
  id: string;
  user: SessionUser;
  quickReplies: QuickReply[];
  onBack(): void;
  onChanged(): void;
}) {
  const { t, formatDate, formatDuration } = useI18n();
  const [data, setData] = useState<ConversationDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [erased, setErased] = useState(false);
  const [members, setMembers] = useState<Member[]>([]);
  const [confirmClose, setConfirmClose] = useState(false);
  // Closed here with immediate erasure: the erasure that follows is the expected outcome, not an error.
  const [closedHere, setClosedHere] = useState(false);
  const closeButton = useRef<HTMLButtonElement>(null);
  const cancelClose = () => {
    setConfirmClose(false);
    closeButton.current?.focus();
  };
  const listRef = useRef<HTMLOListElement>(null);
  // Whether the thread is scrolled to its newest message: then images that finish loading keep it there.
  const atBottom = useRef(true);
  const { id } = props;

  const load = useCallback(async () => {
    try {
      const res = await get<ConversationDetail>(`/conversations/${id}`);
      setData(res);
      setError(null);
      if (res.conversation.unread > 0) {
        await post(`/conversations/${id}/read`).catch(() => undefined);
        props.onChanged();
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) setErased(true);
      else setError(errorText(e, t));
    }
  }, [id, t]);

  useEffect(() => {
    void load();
  }, [load]);
  // Assignees: admins and the members of this conversation's inbox, with their availability.
  const inboxId = data?.conversation.inboxId;
  useEffect(() => {
    if (!inboxId) return;
    get<{ items: Member[] }>(`/team/members?inboxId=${encodeURIComponent(inboxId)}`)
      .then((r) => setMembers(r.items))
      .catch(() => undefined);
  }, [inboxId]);

  useLiveEvents((e) => {
    if (e.conversationId !== id) return;
    if (e.type === 'conversation.erased') {
      setErased(true);
      setData(null);
      return;
    }
    void load();
  });

  const count = data?.messages.length ?? 0;
  useEffect(() => {
    const list = listRef.current;
    if (list) list.scrollTop = list.scrollHeight;
    atBottom.current = true;
  }, [count]);

  async function act(fn: () => Promise<unknown>) {
    try {
      await fn();
      setError(null);
      await load();
      props.onChanged();
    } catch (e) {
      setError(errorText(e, t));
    }
  }

  if (erased) {
    return (
      <div className="conversation">
        <div className="conv-header">
          <button type="button" className="btn btn-ghost back-btn" onClick={props.onBack}>
            ← {t('back')}
          </button>
        </div>
        {closedHere ? (
          <p className="banner banner-done" role="status">
            {t('closedAndErased')}
          </p>
        ) : (
          <p className="banner banner-erased" role="status">
            {t('erasedBanner')}
          </p>
        )}
      </div>
    );
  }
  if (!data) return <p className="muted pad">{error ? t('errorGeneric', { m: error }) : t('loading')}</p>;
  const c = data.conversation;
  const windowOpen = c.windowClosesAt === null || new Date(c.windowClosesAt).getTime() > serverNow();
  const eraseHint = c.eraseAfterCloseDays === 0 ? t('eraseNow') : t('eraseInDays', { n: c.eraseAfterCloseDays });

  return (
    <div className="conversation">
      <div className="conv-header">
        <button type="button" className="btn btn-ghost back-btn" onClick={props.onBack}>
          ← {t('back')}
        </button>
        <div className="conv-title">
          <h1>{c.label}</h1>
          <p className="muted small">
            <span className="chip chip-channel">{c.channelId}</span>{' '}
            {c.state === 'open' ? t('stateOpen') : t('stateClosed')}
            {c.windowClosesAt && c.state === 'open' && (
              <span className="window-inline">
                {' '}
                ·{' '}
                {windowOpen
                  ? t('windowLeft', { t: formatDuration(new Date(c.windowClosesAt).getTime() - serverNow()) })
                  : t('windowClosed')}
              </span>
            )}
          </p>
        </div>
        <div className="conv-actions">
          <label className="inline-field">
            <span>{t('assignTo')}</span>
            <select
              value={c.assignee?.id ?? ''}
              disabled={c.state === 'closed'}
              onChange={(e) => void act(() => post(`/conversations/${id}/assign`, { userId: e.target.value || null }))}
            >
              <option value="">{t('nobody')}</option>
              {members.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.id === props.user.id
                    ? `${m.displayName} (${t('you')})`
                    : t('teams.memberOption', { name: m.displayName, state: t(AVAILABILITY_KEYS[m.availability]) })}
                </option>
              ))}
            </select>
          </label>
          {c.state === 'open' && (
            <button
              ref={closeButton}
              type="button"
              className="btn btn-danger-outline"
              onClick={() => setConfirmClose(true)}
            >
              {t('closeConversation')}
            </button>
          )}
        </div>
      </div>
      <LabelEditor
        labels={c.labels}
        disabled={c.state === 'closed'}
        onSave={(labels) => act(() => post(`/conversations/${id}/labels`, { labels }))}
      />
      {confirmClose && (
        <div
          className="confirm"
          role="alertdialog"
          aria-modal="true"
          aria-labelledby="close-title"
          aria-describedby="close-desc"
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.preventDefault();
              cancelClose();
            }
          }}
        >
          <h2 id="close-title">{t('closeConfirmTitle')}</h2>
          <p id="close-desc">
            <strong>{eraseHint}</strong> {t('closeExplain')}
          </p>
          <div className="row">
            <button
              type="button"
              className="btn btn-danger"
              autoFocus
              onClick={() =>
                void act(async () => {
                  setConfirmClose(false);
                  if (c.eraseAfterCloseDays === 0) setClosedHere(true);
                  await post(`/conversations/${id}/close`);
                })
              }
            >
              {t('closeConversation')}
            </button>
            <button type="button" className="btn" onClick={cancelClose}>
              {t('cancel')}
            </button>
          </div>
        </div>
      )}
      {error && (
        <p className="error" role="alert">
          {t('errorGeneric', { m: error })}
        </p>
      )}
      <ol
        ref={listRef}
        className="messages"
        aria-label={t('messages')}
        aria-live="polite"
        onScroll={(e) => {
          const list = e.currentTarget;
          atBottom.current = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
        }}
        onLoadCapture={(e) => {
          // An image above the fold grew the thread after it was scrolled down: stay at the newest message.
          if (e.target instanceof HTMLImageElement && atBottom.current) {
            e.currentTarget.scrollTop = e.currentTarget.scrollHeight;
          }
        }}
      >
        {data.messages.map((m) => (
          <MessageItem key={m.id} m={m} />
        ))}
      </ol>
      {c.state === 'closed' ? (
        <p className="banner" role="status">
          {t('closedBanner')} {c.eraseAt ? t('eraseAt', { d: formatDate(c.eraseAt) }) : ''}
        </p>
      ) : (
        <Composer
          id={id}
          channelId={c.channelId}
          windowOpen={windowOpen}
          canSendFiles={c.canSendFiles}
          maxTextChars={c.maxTextChars}
          quickReplies={props.quickReplies}
          onSent={() => act(async () => undefined)}
        />
      )}
    </div>
  );
}
