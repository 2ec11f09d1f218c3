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
import { SnoozeMenu } from './SnoozeMenu.tsx';

type Member = TeamMember;

/** One conversation: messages with delivery state, notes, composer with quick replies and templates, team actions. */
export function Conversation(props: {
  id: string;
  user: SessionUser;
  quickReplies: QuickReply[];
  /** Move the focus to the heading once loaded (one-column layout: the list that had the focus is hidden). */
  focusTitle?: boolean;
  onBack(): void;
  onChanged(): void;
}) {
  const { t, formatDate, formatDuration, formatTime } = useI18n();
  const [data, setData] = useState<ConversationDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [erased, setErased] = useState(false);
  const [members, setMembers] = useState<Member[]>([]);
  /** The customer message the next reply answers ("Antworten" on a message). */
  const [replyTo, setReplyTo] = useState<{ id: string; text: string | null } | null>(null);
  const [confirmClose, setConfirmClose] = useState(false);
  // Closed here with immediate erasure: the erasure that follows is the expected outcome, not an error.
  const [closedHere, setClosedHere] = useState(false);
  const closeButton = useRef<HTMLButtonElement>(null);
  const cancelClose = () => {
    setConfirmClose(false);
    closeButton.current?.focus();
  };
  const listRef = useRef<HTMLOListElement>(null);
  const dialogRef = useRef<HTMLDivElement>(null);
  const titleRef = useRef<HTMLHeadingElement>(null);
  const bannerRef = useRef<HTMLParagraphElement>(null);
  // After closing, the close button is gone: the focus goes to the outcome (banner) or the heading, not the page.
  const [focusAfterClose, setFocusAfterClose] = useState(false);
  // Arrow keys on the closed "Zuweisen an" select change its value at once in Chromium: the choice is sent when
  // confirmed (Enter, leaving the field, or a pointer pick), not on every arrow press.
  const [assignDraft, setAssignDraft] = useState<string | null>(null);
  const assignByKeys = useRef(false);
  // Whether the thread is scrolled to its newest message: then images that finish loading keep it there.
  const atBottom = useRef(true);
  const { id } = props;
  useEffect(() => setReplyTo(null), [id]);

  // The list's refresh of the moment (its sort and filters), not the one from when this conversation opened.
  const onChanged = useRef(props.onChanged);
  onChanged.current = props.onChanged;
  const load = useCallback(async () => {
    try {
      const res = await get<ConversationDetail>(`/conversations/${id}`);
      setData(res);
      setError(null);
      if (res.conversation.unread > 0) {
        await post(`/conversations/${id}/read`).catch(() => undefined);
        onChanged.current();
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

  const titleFocused = useRef(false);
  useEffect(() => {
    if (props.focusTitle && !titleFocused.current && titleRef.current) {
      titleFocused.current = true;
      titleRef.current.focus();
    }
  });
  useEffect(() => {
    if (!focusAfterClose) return;
    // Erased at once: the confirmation banner once it shows; else the heading once the state reads closed.
    const target = closedHere ? bannerRef.current : data?.conversation.state === 'closed' ? titleRef.current : null;
    if (target) {
      target.focus();
      setFocusAfterClose(false);
    }
  });

  const count = data?.messages.length ?? 0;
  useEffect(() => {
    const list = listRef.current;
    if (list) list.scrollTop = list.scrollHeight;
    atBottom.current = true;
  }, [count]);

  function assign(userId: string) {
    setAssignDraft(null);
    assignByKeys.current = false;
    if (userId === (data?.conversation.assignee?.id ?? '')) return;
    void act(() => post(`/conversations/${id}/assign`, { userId: userId || null }));
  }

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
          <p ref={bannerRef} className="banner banner-done" role="status" tabIndex={-1}>
            {t('closedAndErased')}
          </p>
        ) : (
          <p ref={bannerRef} className="banner banner-erased" role="status" tabIndex={-1}>
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
          <h1 ref={titleRef} tabIndex={-1}>
            {c.label}
          </h1>
          <p className="muted small">
            <span className="chip chip-channel">{c.channelId}</span>{' '}
            {c.state === 'open' ? t('stateOpen') : t('stateClosed')}
            {c.snoozedUntil && c.state === 'open' && (
              <span className="snoozed-inline">
                {' '}
                · {t('snoozedUntil', { t: formatTime(c.snoozedUntil, serverNow()) })}
              </span>
            )}
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
              id="conv-assign"
              value={assignDraft ?? c.assignee?.id ?? ''}
              disabled={c.state === 'closed'}
              onKeyDown={(e) => {
                if (['ArrowDown', 'ArrowUp', 'Home', 'End', 'PageDown', 'PageUp'].includes(e.key)) {
                  assignByKeys.current = true;
                } else if (e.key === 'Enter' && assignDraft !== null) {
                  e.preventDefault();
                  assign(assignDraft);
                }
              }}
              onBlur={() => {
                if (assignDraft !== null) assign(assignDraft);
              }}
              onChange={(e) => {
                if (assignByKeys.current) {
                  assignByKeys.current = false;
                  setAssignDraft(e.target.value);
                } else assign(e.target.value);
              }}
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
              type="button"
              className={`btn ${c.priority === 'high' ? 'btn-high' : ''}`}
              aria-pressed={c.priority === 'high'}
              onClick={() =>
                void act(() =>
                  post(`/conversations/${id}/priority`, { priority: c.priority === 'high' ? 'normal' : 'high' }),
                )
              }
            >
              {t('priorityHigh')}
            </button>
          )}
          {c.state === 'open' &&
            (c.snoozedUntil ? (
              <button
                id="conv-unsnooze"
                type="button"
                className="btn"
                onClick={() => void act(() => post(`/conversations/${id}/unsnooze`))}
              >
                {t('unsnooze')}
              </button>
            ) : (
              <SnoozeMenu onSnooze={(choice) => act(() => post(`/conversations/${id}/snooze`, choice))} />
            ))}
          {c.state === 'open' && (
            <button
              ref={closeButton}
              id="conv-close"
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
          ref={dialogRef}
          className="confirm"
          role="alertdialog"
          aria-modal="true"
          aria-labelledby="close-title"
          aria-describedby="close-desc"
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.preventDefault();
              cancelClose();
            } else if (e.key === 'Tab') {
              // The focus stays in the dialog until it is answered.
              const buttons = [...(dialogRef.current?.querySelectorAll<HTMLElement>('button') ?? [])];
              const first = buttons[0];
              const last = buttons[buttons.length - 1];
              if (e.shiftKey && document.activeElement === first) {
                e.preventDefault();
                last?.focus();
              } else if (!e.shiftKey && document.activeElement === last) {
                e.preventDefault();
                first?.focus();
              }
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
                  setFocusAfterClose(true);
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
        // The thread scrolls: keyboard users reach it with Tab and scroll it with the arrow keys.
        tabIndex={0}
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
          <MessageItem
            key={m.id}
            m={m}
            {...(c.state !== 'closed' && windowOpen && m.direction === 'in' && !m.deleted
              ? {
                  onReply: () => {
                    setReplyTo({ id: m.id, text: m.text });
                    document.getElementById('composer-text')?.focus();
                  },
                  ...(c.canReact
                    ? {
                        onReact: (emoji: string) =>
                          void act(async () => {
                            await post(`/conversations/${id}/messages/${m.id}/reaction`, { emoji });
                          }),
                      }
                    : {}),
                }
              : {})}
          />
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
          replyTo={replyTo}
          canSendButtons={c.canSendButtons}
          canSendLists={c.canSendLists}
          onCancelReplyTo={() => setReplyTo(null)}
          onSent={() => act(async () => undefined)}
        />
      )}
    </div>
  );
}
