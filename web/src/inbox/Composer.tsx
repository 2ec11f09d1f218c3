import { onTablistKeyDown } from '../shared/tablist.ts';
import { useEffect, useMemo, useRef, useState, type ChangeEvent, type KeyboardEvent } from 'react';
import { ApiError, post, upload, type QuickReply } from '../api.ts';
import { useI18n, type Translate } from '../i18n/i18n.tsx';
import { CameraIcon, PaperclipIcon } from './icons.tsx';
import { TemplatePicker } from './TemplatePicker.tsx';
import { errorText } from '../shared/error-text.ts';

/** Window event the inbox's keyboard shortcuts send to the open composer. */
export const COMPOSER_COMMAND = 'sparsam:composer';
export type ComposerCommand = 'reply' | 'note' | 'quick-replies';

/**
 * The reply and note composer: "/" offers quick replies, Ctrl+Enter sends, a file goes with an optional caption where
 * the channel sends files; once the 24-hour window has closed, replies can only be approved templates.
 */
export function Composer(props: {
  id: string;
  channelId: string;
  windowOpen: boolean;
  canSendFiles: boolean;
  /** The longest reply the channel takes, in characters (conversation.maxTextChars). */
  maxTextChars: number;
  quickReplies: QuickReply[];
  /** The customer message the next reply answers (chosen with "Antworten" on it), shown above the text box. */
  replyTo?: { id: string; text: string | null } | null;
  /** The channel has reply buttons: the agent may add up to three for the customer to tap. */
  canSendButtons?: boolean;
  onCancelReplyTo?(): void;
  onSent(): Promise<void>;
}) {
  const { t } = useI18n();
  const [mode, setMode] = useState<'reply' | 'note'>('reply');
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [active, setActive] = useState(0);
  const [file, setFile] = useState<File | null>(null);
  /** Titles of the reply buttons being added (null: none). */
  const [buttons, setButtons] = useState<string[] | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const camera = useRef<HTMLInputElement>(null);
  const pickFile = (e: ChangeEvent<HTMLInputElement>) => {
    setFile(e.target.files?.[0] ?? null);
    setError(null);
    e.target.value = '';
  };
  const withFile = mode === 'reply' && file !== null;
  // Counted in characters (code points) as the server counts; over the limit the text stays and sending waits.
  const limit = mode === 'note' ? MAX_NOTE_CHARS : withFile ? MAX_CAPTION_CHARS : props.maxTextChars;
  const length = [...text.trim()].length;
  const tooLong = length > limit;

  const slash = /^\/([\p{L}\p{M}\p{N}_-]*)$/u.exec(text.trim());
  const suggestions = useMemo(
    () =>
      slash && mode === 'reply'
        ? props.quickReplies.filter((q) => q.shortcut.startsWith(slash[1]!.normalize('NFC').toLowerCase())).slice(0, 6)
        : [],
    [slash?.[1], mode, props.quickReplies],
  );
  useEffect(() => setActive(0), [suggestions.length]);

  // Keyboard shortcuts of the inbox (r, n, /) steer the composer.
  useEffect(() => {
    const onCommand = (e: Event) => {
      const command = (e as CustomEvent<ComposerCommand>).detail;
      setMode(command === 'note' ? 'note' : 'reply');
      if (command === 'quick-replies') setText('/');
      requestAnimationFrame(() => {
        const el = area.current;
        if (!el) return;
        el.focus();
        el.setSelectionRange(el.value.length, el.value.length);
      });
    };
    window.addEventListener(COMPOSER_COMMAND, onCommand);
    return () => window.removeEventListener(COMPOSER_COMMAND, onCommand);
  }, []);

  const pick = (q: QuickReply) => {
    setText(q.text);
    area.current?.focus();
  };

  async function send() {
    const value = text.trim();
    if ((!value && !withFile) || busy || tooLong) return;
    setBusy(true);
    setError(null);
    try {
      if (mode === 'note') {
        await post(`/conversations/${props.id}/notes`, { text: value });
        // A note is an aside: the next thing typed is a reply to the customer again.
        setMode('reply');
      } else if (file) {
        await upload(`/conversations/${props.id}/attachments`, file, value || undefined);
        setFile(null);
      } else {
        const titles = (buttons ?? []).map((b) => b.trim()).filter(Boolean);
        await post(`/conversations/${props.id}/messages`, {
          text: value,
          ...(titles.length > 0 ? { buttons: titles } : props.replyTo ? { replyTo: props.replyTo.id } : {}),
        });
        props.onCancelReplyTo?.();
        setButtons(null);
      }
      setText('');
      await props.onSent();
      // The focus stays in the composer for the next message (it would otherwise fall to the page's start).
      area.current?.focus();
    } catch (e) {
      setError(file && mode === 'reply' ? attachmentError(e, t) : errorText(e, t));
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
      <div className="composer-tabs" role="tablist" aria-label={t('composerMode')} onKeyDown={onTablistKeyDown}>
        <button
          type="button"
          role="tab"
          aria-selected={mode === 'reply'}
          tabIndex={mode === 'reply' ? 0 : -1}
          className={`view-tab ${mode === 'reply' ? 'active' : ''}`}
          onClick={() => setMode('reply')}
        >
          {t('reply')}
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={mode === 'note'}
          tabIndex={mode === 'note' ? 0 : -1}
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
          {props.replyTo && mode === 'reply' && (
            <div className="composer-quote">
              <span>
                <span className="muted">{t('replyingTo')}</span> {props.replyTo.text ?? t('file')}
              </span>
              <button type="button" className="btn btn-small" onClick={() => props.onCancelReplyTo?.()}>
                {t('cancelReplyTo')}
              </button>
            </div>
          )}
          {buttons && mode === 'reply' && (
            <fieldset className="composer-buttons">
              <legend>{t('replyButtons')}</legend>
              {buttons.map((b, i) => (
                <input
                  key={i}
                  value={b}
                  maxLength={20}
                  aria-label={t('replyButtonN', { n: i + 1 })}
                  onChange={(e) => setButtons(buttons.map((x, j) => (j === i ? e.target.value : x)))}
                />
              ))}
              {buttons.length < 3 && (
                <button type="button" className="btn btn-small" onClick={() => setButtons([...buttons, ''])}>
                  {t('replyButtonAdd')}
                </button>
              )}
              <button type="button" className="btn btn-small" onClick={() => setButtons(null)}>
                {t('replyButtonsRemove')}
              </button>
            </fieldset>
          )}
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
              mode === 'note' ? t('teams.notePlaceholder') : withFile ? t('captionPlaceholder') : t('replyPlaceholder')
            }
            onChange={(e) => setText(e.target.value)}
            onKeyDown={onKey}
            aria-autocomplete="list"
            aria-controls={suggestions.length > 0 ? 'qr-list' : undefined}
            aria-describedby="composer-count"
            aria-invalid={tooLong || undefined}
          />
          <p id="composer-count" className={`composer-count small ${tooLong ? 'error' : 'muted'}`}>
            {t('charCount', { n: length, max: limit })}
          </p>
          {tooLong && (
            <p className="error" role="alert">
              {t(mode === 'reply' && !withFile ? 'error.TEXT_TOO_LONG.limit' : 'textTooLong', { length, limit })}
            </p>
          )}
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
                    aria-label={t('attachChoose')}
                    accept="image/*,application/pdf,audio/*,video/*"
                    onChange={pickFile}
                  />
                  {/* On a phone or tablet: the camera opens directly (capture), the photo goes through the same checks. */}
                  <input
                    ref={camera}
                    id="composer-camera"
                    type="file"
                    className="sr-only"
                    tabIndex={-1}
                    aria-label={t('cameraChoose')}
                    accept="image/*"
                    capture="environment"
                    onChange={pickFile}
                  />
                  <button
                    type="button"
                    className="btn btn-ghost camera-btn"
                    aria-label={t('takePhoto')}
                    title={t('takePhoto')}
                    disabled={busy}
                    onClick={() => camera.current?.click()}
                  >
                    <CameraIcon />
                  </button>
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
              {mode === 'reply' && props.canSendButtons && !buttons && !file && (
                <button type="button" className="btn btn-ghost" onClick={() => setButtons([''])}>
                  {t('replyButtonsAdd')}
                </button>
              )}
              <span className="muted small">{t('sendHint')}</span>
            </span>
            <button
              type="submit"
              className={`btn ${mode === 'note' ? 'btn-note' : 'btn-primary'}`}
              disabled={busy || tooLong || (!text.trim() && !withFile)}
            >
              {mode === 'note' ? t('addNote') : t('send')}
            </button>
          </div>
        </form>
      )}
    </div>
  );
}

/** The server's limits for a note and for a file's caption (the channel's limit applies to a reply). */
const MAX_NOTE_CHARS = 4096;
const MAX_CAPTION_CHARS = 1024;

/** The agent's words for a refused upload; the server's reason (limits, types) is kept in the text. */
function attachmentError(e: unknown, t: Translate): string {
  if (!(e instanceof ApiError)) return errorText(e, t);
  if (e.code === 'PAYLOAD_TOO_LARGE' || e.status === 413) {
    const max = e.details?.maxBytes;
    return typeof max === 'number' && max > 0
      ? t('attachmentTooLargeMax', { mb: Math.round((max / 1024 / 1024) * 10) / 10 })
      : t('attachmentTooLarge');
  }
  if (e.code === 'UNSUPPORTED_MEDIA' && e.details?.reason === 'channel') return t('attachmentChannel');
  if (e.code === 'UNSUPPORTED_MEDIA') return t('attachmentType');
  return errorText(e, t);
}
