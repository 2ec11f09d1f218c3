import { onTablistKeyDown } from '../shared/tablist.ts';
import { useEffect, useMemo, useRef, useState, type ChangeEvent, type KeyboardEvent } from 'react';
import { ApiError, post, upload, type QuickReply } from '../api.ts';
import { useI18n, type Translate } from '../i18n/i18n.tsx';
import { CameraIcon, ListIcon, PaperclipIcon } from './icons.tsx';
import { TemplatePicker } from './TemplatePicker.tsx';
import { VoiceRecorder } from './VoiceRecorder.tsx';
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
  /** The channel has interactive lists (WhatsApp): the agent may add one of up to 10 rows. */
  canSendLists?: boolean;
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
  /** The interactive list being built (null: none): its button label and rows, in one section. */
  const [list, setList] = useState<DraftList | null>(null);
  const [recording, setRecording] = useState(false);
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
        const rows = (list?.rows ?? [])
          .map((r) => ({ title: r.title.trim(), description: r.description.trim() }))
          .filter((r) => r.title)
          .map((r) => (r.description ? r : { title: r.title }));
        await post(`/conversations/${props.id}/messages`, {
          text: value,
          ...(list
            ? { list: { button: list.button, sections: [{ rows }] } }
            : titles.length > 0
              ? { buttons: titles }
              : props.replyTo
                ? { replyTo: props.replyTo.id }
                : {}),
        });
        props.onCancelReplyTo?.();
        setButtons(null);
        setList(null);
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

  /** Sends a recording of the microphone button as a voice note (through the same upload and checks as a file). */
  async function sendVoice(recorded: File) {
    setError(null);
    try {
      await upload(`/conversations/${props.id}/attachments`, recorded, undefined, { voice: true });
      await props.onSent();
    } catch (e) {
      setError(attachmentError(e, t));
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
          {list && mode === 'reply' && (
            <fieldset className="composer-list">
              <legend>{t('list.legend')}</legend>
              <label className="composer-list-button">
                <span className="small">{t('list.button')}</span>
                <input
                  value={list.button}
                  maxLength={20}
                  onChange={(e) => setList({ ...list, button: e.target.value })}
                />
              </label>
              <ol className="composer-list-rows">
                {list.rows.map((r, i) => (
                  <li key={i}>
                    <input
                      value={r.title}
                      maxLength={24}
                      placeholder={t('list.rowTitle')}
                      aria-label={t('list.rowN', { n: i + 1 })}
                      onChange={(e) =>
                        setList({
                          ...list,
                          rows: list.rows.map((x, j) => (j === i ? { ...x, title: e.target.value } : x)),
                        })
                      }
                    />
                    <input
                      value={r.description}
                      maxLength={72}
                      placeholder={t('list.rowDescription')}
                      aria-label={t('list.rowDescriptionN', { n: i + 1 })}
                      onChange={(e) =>
                        setList({
                          ...list,
                          rows: list.rows.map((x, j) => (j === i ? { ...x, description: e.target.value } : x)),
                        })
                      }
                    />
                  </li>
                ))}
              </ol>
              {list.rows.length < 10 && (
                <button
                  type="button"
                  className="btn btn-small"
                  onClick={() => setList({ ...list, rows: [...list.rows, { title: '', description: '' }] })}
                >
                  {t('list.addRow')}
                </button>
              )}
              <button type="button" className="btn btn-small" onClick={() => setList(null)}>
                {t('list.remove')}
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
              {mode === 'reply' && props.canSendFiles && !file && !buttons && !list && (
                <VoiceRecorder
                  disabled={busy}
                  onRecorded={sendVoice}
                  onError={setError}
                  onRecordingChange={setRecording}
                />
              )}
              {mode === 'reply' && props.canSendButtons && !buttons && !list && !file && !recording && (
                <button type="button" className="btn btn-ghost" onClick={() => setButtons([''])}>
                  {t('replyButtonsAdd')}
                </button>
              )}
              {mode === 'reply' && props.canSendLists && !buttons && !list && !file && !recording && (
                <button
                  type="button"
                  className="btn btn-ghost"
                  onClick={() => setList({ button: t('list.defaultButton'), rows: [{ title: '', description: '' }] })}
                >
                  <ListIcon /> {t('list.add')}
                </button>
              )}
              {!recording && <span className="muted small">{t('sendHint')}</span>}
            </span>
            <button
              type="submit"
              className={`btn ${mode === 'note' ? 'btn-note' : 'btn-primary'}`}
              disabled={busy || recording || tooLong || (!text.trim() && !withFile)}
            >
              {mode === 'note' ? t('addNote') : t('send')}
            </button>
          </div>
        </form>
      )}
    </div>
  );
}

/** An interactive list as the agent fills it in. */
interface DraftList {
  button: string;
  rows: { title: string; description: string }[];
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
