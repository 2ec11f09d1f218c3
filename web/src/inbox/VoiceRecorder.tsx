import { useEffect, useRef, useState } from 'react';
import { useI18n } from '../i18n/i18n.tsx';
import { MicIcon } from './icons.tsx';

/** The longest voice note recorded: the recording stops and is sent on its own after this many seconds. */
export const MAX_VOICE_SECONDS = 15 * 60;

/**
 * Containers a browser may record, best first: WebM/Opus (Chromium, Firefox; the server remuxes it to the Ogg/Opus
 * WhatsApp plays as a voice message), Ogg/Opus (Firefox), MP4/AAC (Safari; it goes out as an ordinary audio file).
 */
const RECORDING_TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4'];

type State = { kind: 'idle' } | { kind: 'recording'; startedAt: number } | { kind: 'sending' };

/**
 * The microphone button of the composer: records a voice note with the browser's MediaRecorder, shows the running
 * time with Stop (send) and Cancel, and hands the recording to `onRecorded`. Refused microphone access, a missing
 * microphone or a browser without MediaRecorder is said in words, not swallowed.
 */
export function VoiceRecorder(props: {
  disabled: boolean;
  onRecorded(file: File): Promise<void>;
  onError(message: string | null): void;
  onRecordingChange?(recording: boolean): void;
}) {
  const { t } = useI18n();
  const [state, setState] = useState<State>({ kind: 'idle' });
  const [now, setNow] = useState(Date.now());
  const recorder = useRef<MediaRecorder | null>(null);
  const chunks = useRef<Blob[]>([]);
  const discard = useRef(false);

  const recording = state.kind === 'recording';
  useEffect(() => props.onRecordingChange?.(recording), [recording]);
  useEffect(() => {
    if (state.kind !== 'recording') return;
    const timer = setInterval(() => {
      setNow(Date.now());
      if (Date.now() - state.startedAt >= MAX_VOICE_SECONDS * 1000) recorder.current?.stop();
    }, 250);
    return () => clearInterval(timer);
  }, [state]);
  // Leaving the conversation (or picking a file) while recording drops the recording and frees the microphone.
  const onRecordingChange = useRef(props.onRecordingChange);
  onRecordingChange.current = props.onRecordingChange;
  useEffect(
    () => () => {
      discard.current = true;
      if (recorder.current?.state === 'recording') recorder.current.stop();
      onRecordingChange.current?.(false);
    },
    [],
  );

  async function start() {
    props.onError(null);
    if (typeof MediaRecorder === 'undefined' || !navigator.mediaDevices?.getUserMedia) {
      props.onError(t('voice.unsupported'));
      return;
    }
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      const name = e instanceof DOMException ? e.name : '';
      props.onError(
        t(
          name === 'NotAllowedError' || name === 'SecurityError'
            ? 'voice.denied'
            : name === 'NotFoundError' || name === 'OverconstrainedError'
              ? 'voice.noMicrophone'
              : 'voice.failed',
        ),
      );
      return;
    }
    const mimeType = RECORDING_TYPES.find((type) => MediaRecorder.isTypeSupported(type));
    const rec = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
    chunks.current = [];
    discard.current = false;
    rec.ondataavailable = (e) => {
      if (e.data.size > 0) chunks.current.push(e.data);
    };
    rec.onstop = () => {
      for (const track of stream.getTracks()) track.stop();
      recorder.current = null;
      if (discard.current) {
        setState({ kind: 'idle' });
        return;
      }
      const type = (rec.mimeType || mimeType || 'audio/webm').split(';')[0]!;
      const extension = type === 'audio/mp4' ? 'm4a' : type === 'audio/ogg' ? 'ogg' : 'webm';
      const file = new File(chunks.current, `voice.${extension}`, { type });
      setState({ kind: 'sending' });
      void props.onRecorded(file).finally(() => setState({ kind: 'idle' }));
    };
    recorder.current = rec;
    rec.start(1000);
    const startedAt = Date.now();
    setNow(startedAt);
    setState({ kind: 'recording', startedAt });
  }

  const stop = (send: boolean) => {
    discard.current = !send;
    recorder.current?.stop();
  };

  if (state.kind === 'recording') {
    const seconds = Math.max(0, Math.floor((now - state.startedAt) / 1000));
    const time = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
    return (
      <span className="voice-recording" role="status" aria-live="polite">
        <span className="voice-dot" aria-hidden="true" />
        <span className="voice-time" aria-label={t('voice.recordingFor', { time })}>
          {time}
        </span>
        <button type="button" className="btn btn-small" onClick={() => stop(false)}>
          {t('voice.cancel')}
        </button>
        <button type="button" className="btn btn-small btn-primary" onClick={() => stop(true)}>
          {t('voice.stopSend')}
        </button>
      </span>
    );
  }
  return (
    <button
      type="button"
      className="btn btn-ghost voice-btn"
      aria-label={t('voice.record')}
      title={t('voice.record')}
      disabled={props.disabled || state.kind === 'sending'}
      onClick={() => void start()}
    >
      <MicIcon />
      {state.kind === 'sending' && <span className="small">{t('voice.sending')}</span>}
    </button>
  );
}
