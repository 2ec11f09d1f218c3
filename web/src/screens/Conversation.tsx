import {
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
  type FormEvent,
  type KeyboardEvent,
  type ReactNode,
} from 'react';
import {
  ApiError,
  get,
  post,
  serverNow,
  upload,
  type ConversationDetail,
  type Message,
  type QuickReply,
  type SessionUser,
  type Template,
} from '../api.ts';
import { formatDate, formatDuration, formatTime, useI18n, type MessageKey, type Translate } from '../i18n.ts';
import { useLiveEvents } from '../live.tsx';

interface Member {
  id: string;
  displayName: string;
  role: string;
}

/** One conversation: messages with delivery state, notes, composer with quick replies and templates, team actions. */
export function Conversation(props: {
  id: string;
  user: SessionUser;
  quickReplies: QuickReply[];
  onBack(): void;
  onChanged(): void;
}) {
  const { t, lang } = useI18n();
  const [data, setData] = useState<ConversationDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [erased, setErased] = useState(false);
  const [members, setMembers] = useState<Member[]>([]);
  const [confirmClose, setConfirmClose] = useState(false);
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
      else setError((e as Error).message);
    }
  }, [id]);

  useEffect(() => {
    void load();
    get<{ items: Member[] }>('/team/members')
      .then((r) => setMembers(r.items))
      .catch(() => undefined);
  }, [load]);

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
      setError((e as Error).message);
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
        <p className="banner banner-erased" role="status">
          {t('erasedBanner')}
        </p>
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
                  ? t('windowLeft', { t: formatDuration(new Date(c.windowClosesAt).getTime() - serverNow(), lang) })
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
                  {m.displayName}
                  {m.id === props.user.id ? ` (${t('you')})` : ''}
                </option>
              ))}
            </select>
          </label>
          {c.state === 'open' && (
            <button type="button" className="btn btn-danger-outline" onClick={() => setConfirmClose(true)}>
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
        <div className="confirm" role="alertdialog" aria-labelledby="close-title" aria-describedby="close-desc">
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
                  await post(`/conversations/${id}/close`);
                })
              }
            >
              {t('closeConversation')}
            </button>
            <button type="button" className="btn" onClick={() => setConfirmClose(false)}>
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
          {t('closedBanner')} {c.eraseAt ? t('eraseAt', { d: formatDate(c.eraseAt, lang) }) : ''}
        </p>
      ) : (
        <Composer
          id={id}
          channelId={c.channelId}
          windowOpen={windowOpen}
          canSendFiles={c.canSendFiles}
          quickReplies={props.quickReplies}
          onSent={() => act(async () => undefined)}
        />
      )}
    </div>
  );
}

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

function MessageItem({ m }: { m: Message }) {
  const { t, lang } = useI18n();
  const cls = `msg msg-${m.direction} ${m.status === 'failed' ? 'msg-failed' : ''}`;
  const who =
    m.direction === 'in' ? t('customer') : m.direction === 'system' ? t('system') : (m.author?.name ?? 'sparsam');
  return (
    <li className={cls}>
      {m.direction === 'note' && <span className="note-tag">{t('internalNote')}</span>}
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
        <time dateTime={m.createdAt}>{formatTime(m.createdAt, lang)}</time>
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

function LabelEditor(props: { labels: string[]; disabled: boolean; onSave(labels: string[]): Promise<void> }) {
  const { t } = useI18n();
  const [draft, setDraft] = useState('');
  const add = (e: FormEvent) => {
    e.preventDefault();
    const v = draft.trim();
    if (!v) return;
    setDraft('');
    void props.onSave([...props.labels, v]);
  };
  return (
    <form className="label-editor" onSubmit={add} aria-label={t('labels')}>
      <span className="muted small">{t('labels')}:</span>
      {props.labels.map((l) => (
        <span key={l} className="chip chip-label">
          {l}
          {!props.disabled && (
            <button
              type="button"
              className="chip-x"
              aria-label={t('removeLabel', { l })}
              onClick={() => void props.onSave(props.labels.filter((x) => x !== l))}
            >
              ×
            </button>
          )}
        </span>
      ))}
      {!props.disabled && (
        <>
          <label htmlFor="label-add" className="sr-only">
            {t('addLabel')}
          </label>
          <input
            id="label-add"
            className="label-input"
            placeholder={`+ ${t('addLabel')}`}
            value={draft}
            maxLength={40}
            onChange={(e) => setDraft(e.target.value)}
          />
        </>
      )}
    </form>
  );
}

function Composer(props: {
  id: string;
  channelId: string;
  windowOpen: boolean;
  canSendFiles: boolean;
  quickReplies: QuickReply[];
  onSent(): Promise<void>;
}) {
  const { t } = useI18n();
  const [mode, setMode] = useState<'reply' | 'note'>('reply');
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [active, setActive] = useState(0);
  const [file, setFile] = useState<File | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const withFile = mode === 'reply' && file !== null;

  const slash = /^\/([a-z0-9_-]*)$/i.exec(text.trim());
  const suggestions = useMemo(
    () =>
      slash && mode === 'reply'
        ? props.quickReplies.filter((q) => q.shortcut.startsWith(slash[1]!.toLowerCase())).slice(0, 6)
        : [],
    [slash?.[1], mode, props.quickReplies],
  );
  useEffect(() => setActive(0), [suggestions.length]);

  const pick = (q: QuickReply) => {
    setText(q.text);
    area.current?.focus();
  };

  async function send() {
    const value = text.trim();
    if ((!value && !withFile) || busy) return;
    setBusy(true);
    setError(null);
    try {
      if (mode === 'note') await post(`/conversations/${props.id}/notes`, { text: value });
      else if (file) {
        await upload(`/conversations/${props.id}/attachments`, file, value || undefined);
        setFile(null);
      } else await post(`/conversations/${props.id}/messages`, { text: value });
      setText('');
      await props.onSent();
    } catch (e) {
      setError(file && mode === 'reply' ? attachmentError(e, t) : (e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (suggestions.length > 0) {
      if (e.key === 'ArrowDown') return (e.preventDefault(), setActive((active + 1) % suggestions.length));
      if (e.key === 'ArrowUp')
        return (e.preventDefault(), setActive((active - 1 + suggestions.length) % suggestions.length));
      if (e.key === 'Enter' || e.key === 'Tab') return (e.preventDefault(), pick(suggestions[active]!));
      if (e.key === 'Escape') return (e.preventDefault(), setText(''));
    }
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void send();
    }
  };

  const replyBlocked = mode === 'reply' && !props.windowOpen;
  return (
    <div className={`composer composer-${mode}`}>
      <div className="composer-tabs" role="tablist">
        <button
          type="button"
          role="tab"
          aria-selected={mode === 'reply'}
          className={`view-tab ${mode === 'reply' ? 'active' : ''}`}
          onClick={() => setMode('reply')}
        >
          {t('reply')}
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={mode === 'note'}
          className={`view-tab ${mode === 'note' ? 'active' : ''}`}
          onClick={() => setMode('note')}
        >
          {t('note')}
        </button>
      </div>
      {replyBlocked ? (
        <TemplatePicker id={props.id} channelId={props.channelId} onSent={props.onSent} />
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void send();
          }}
        >
          <label htmlFor="composer-text" className="sr-only">
            {mode === 'note' ? t('note') : t('reply')}
          </label>
          {suggestions.length > 0 && (
            <ul className="suggestions" role="listbox" id="qr-list" aria-label={t('quickReplies')}>
              {suggestions.map((q, i) => (
                <li
                  key={q.id}
                  role="option"
                  aria-selected={i === active}
                  className={i === active ? 'active' : ''}
                  onMouseDown={(e) => (e.preventDefault(), pick(q))}
                >
                  <strong>/{q.shortcut}</strong> <span className="muted">{q.title}</span>
                </li>
              ))}
            </ul>
          )}
          <textarea
            id="composer-text"
            ref={area}
            rows={2}
            value={text}
            placeholder={
              mode === 'note' ? t('notePlaceholder') : withFile ? t('captionPlaceholder') : t('replyPlaceholder')
            }
            onChange={(e) => setText(e.target.value)}
            onKeyDown={onKey}
            aria-autocomplete="list"
            aria-controls={suggestions.length > 0 ? 'qr-list' : undefined}
            maxLength={withFile ? 1024 : 4096}
          />
          {withFile && file && (
            <p className="attachment-chip">
              <PaperclipIcon /> <span className="attachment-name">{file.name}</span>{' '}
              <span className="muted small">({Math.max(1, Math.round(file.size / 1024))} KB)</span>
              <button
                type="button"
                className="chip-x"
                aria-label={t('removeAttachment', { n: file.name })}
                onClick={() => {
                  setFile(null);
                  setError(null);
                }}
              >
                ×
              </button>
            </p>
          )}
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          <div className="composer-bar">
            <span className="composer-tools">
              {mode === 'reply' && props.canSendFiles && (
                <>
                  <input
                    ref={picker}
                    id="composer-file"
                    type="file"
                    className="sr-only"
                    tabIndex={-1}
                    accept="image/*,application/pdf,audio/*,video/*"
                    onChange={(e) => {
                      setFile(e.target.files?.[0] ?? null);
                      setError(null);
                      e.target.value = '';
                    }}
                  />
                  <button
                    type="button"
                    className="btn btn-ghost attach-btn"
                    title={t('attachHint')}
                    aria-label={t('attach')}
                    disabled={busy}
                    onClick={() => picker.current?.click()}
                  >
                    <PaperclipIcon /> {t('attach')}
                  </button>
                </>
              )}
              <span className="muted small">{t('sendHint')}</span>
            </span>
            <button
              type="submit"
              className={`btn ${mode === 'note' ? 'btn-note' : 'btn-primary'}`}
              disabled={busy || (!text.trim() && !withFile)}
            >
              {mode === 'note' ? t('addNote') : t('send')}
            </button>
          </div>
        </form>
      )}
    </div>
  );
}

/** The agent's words for a refused upload; the server's reason (limits, types) is kept in the text. */
function attachmentError(e: unknown, t: Translate): string {
  if (!(e instanceof ApiError)) return (e as Error).message;
  if (e.code === 'PAYLOAD_TOO_LARGE' || e.status === 413) return t('attachmentTooLarge', { m: e.message });
  if (e.code === 'UNSUPPORTED_MEDIA' && e.details?.reason === 'channel') return t('attachmentChannel');
  if (e.code === 'UNSUPPORTED_MEDIA') return t('attachmentType', { m: e.message });
  return e.message;
}

function TemplatePicker(props: { id: string; channelId: string; onSent(): Promise<void> }) {
  const { t } = useI18n();
  const [templates, setTemplates] = useState<Template[] | null>(null);
  const [choice, setChoice] = useState('');
  const [params, setParams] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    get<{ items: Template[] }>(`/channels/${props.channelId}/templates`)
      .then((r) => setTemplates(r.items))
      .catch((e: Error) => (setTemplates([]), setError(e.message)));
  }, [props.channelId]);
  const selected = templates?.find((x) => `${x.name}|${x.language}` === choice);
  const count = selected ? new Set(selected.body.match(/\{\{\d+\}\}/g) ?? []).size : 0;
  useEffect(() => setParams(Array.from({ length: count }, () => '')), [choice, count]);
  const send = async (e: FormEvent) => {
    e.preventDefault();
    if (!selected) return;
    try {
      await post(`/conversations/${props.id}/messages`, {
        template: { name: selected.name, language: selected.language, parameters: params },
      });
      setChoice('');
      await props.onSent();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form className="template-picker" onSubmit={send}>
      <p className="notice notice-info">{t('windowClosedCompose')}</p>
      {templates && templates.length === 0 ? (
        <p className="muted">{t('noTemplates')}</p>
      ) : (
        <>
          <label htmlFor="tpl">{t('chooseTemplate')}</label>
          <select id="tpl" value={choice} onChange={(e) => setChoice(e.target.value)}>
            <option value="">–</option>
            {(templates ?? []).map((x) => (
              <option key={`${x.name}|${x.language}`} value={`${x.name}|${x.language}`}>
                {x.name} ({x.language})
              </option>
            ))}
          </select>
          {selected && <p className="template-body">{selected.body}</p>}
          {params.map((p, i) => (
            <div key={i} className="form-row">
              <label htmlFor={`tpl-p${i}`}>{t('parameter', { n: i + 1 })}</label>
              <input
                id={`tpl-p${i}`}
                value={p}
                onChange={(e) => setParams(params.map((x, j) => (j === i ? e.target.value : x)))}
                required
              />
            </div>
          ))}
          <button type="submit" className="btn btn-primary" disabled={!selected}>
            {t('sendTemplate')}
          </button>
        </>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

/** A line icon drawn inline: an emoji depends on the system's fonts and shows as an empty box where none has it. */
function LineIcon({ children }: { children: ReactNode }) {
  return (
    <svg
      aria-hidden="true"
      className="icon"
      width="16"
      height="16"
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
    >
      {children}
    </svg>
  );
}

function PaperclipIcon() {
  return (
    <LineIcon>
      <path d="M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48" />
    </LineIcon>
  );
}

/** A document sheet. */
function FileIcon() {
  return (
    <LineIcon>
      <path d="M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z" />
      <path d="M14 2v6h6" />
    </LineIcon>
  );
}
