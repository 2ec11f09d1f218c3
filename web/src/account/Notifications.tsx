import { useEffect, useState, type FormEvent } from 'react';
import { call, type Endpoints } from '../api.ts';
import { useI18n, type MessageKey } from '../i18n/i18n.tsx';
import { playChime, setSoundEnabled, soundEnabled } from '../shared/attention.tsx';
import { Notice } from '../shared/Notice.tsx';
import { errorText } from '../shared/error-text.ts';
import { disablePush, enablePush, pushState, type PushState } from '../shared/push.ts';

type Settings = Endpoints['GET /me/notifications']['response'];
type Prefs = Settings['prefs'];
type EventKind = keyof Prefs['events'];

const EVENTS: { kind: EventKind; label: MessageKey }[] = [
  { kind: 'conversation.new', label: 'notify.event.conversationNew' },
  { kind: 'message.new', label: 'notify.event.messageNew' },
  { kind: 'conversation.assigned', label: 'notify.event.assigned' },
  { kind: 'note.mention', label: 'notify.event.mention' },
];

const PUSH_TEXT: Record<PushState, MessageKey> = {
  unsupported: 'notify.push.unsupported',
  denied: 'notify.push.denied',
  off: 'notify.push.off',
  on: 'notify.push.on',
};

/** The staff member's notifications: push on this device, e-mail, which events, quiet hours, sound in the tab. */
export function Notifications() {
  const { t } = useI18n();
  const [settings, setSettings] = useState<Settings | null>(null);
  const [prefs, setPrefs] = useState<Prefs | null>(null);
  const [push, setPush] = useState<PushState | null>(null);
  const [sound, setSound] = useState(soundEnabled());
  const [msg, setMsg] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void call('GET /me/notifications').then((s) => {
      setSettings(s);
      setPrefs(s.prefs);
    });
    void pushState()
      .then(setPush)
      .catch(() => setPush('unsupported'));
  }, []);

  if (!settings || !prefs) return null;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const next = await call('PUT /me/notifications', { body: prefs });
      setSettings(next);
      setPrefs(next.prefs);
      setMsg({ kind: 'ok', text: t('saved') });
    } catch (err) {
      setMsg({ kind: 'error', text: errorText(err, t) });
    }
  };
  const togglePush = async () => {
    setBusy(true);
    setMsg(null);
    try {
      setPush(push === 'on' ? await disablePush() : await enablePush(settings.vapidPublicKey));
      setSettings(await call('GET /me/notifications'));
    } catch (err) {
      setMsg({ kind: 'error', text: `${t('notify.push.failed')} ${errorText(err, t)}` });
    } finally {
      setBusy(false);
    }
  };
  const quiet = prefs.quietHours;

  return (
    <form className="card form-grid notify-settings" onSubmit={save} aria-labelledby="notify-title">
      <h2 id="notify-title">{t('notify.title')}</h2>
      <p className="muted wide">{t('notify.contentFree')}</p>

      <fieldset className="wide notify-group">
        <legend>{t('notify.thisDevice')}</legend>
        <p className="notify-push-state">
          {push ? t(PUSH_TEXT[push]) : t('loading')}{' '}
          <span className="muted">{t('notify.devices', { n: settings.pushDevices })}</span>
        </p>
        <div className="row">
          {push !== 'unsupported' && push !== 'denied' && (
            <button type="button" className="btn" disabled={busy || push === null} onClick={() => void togglePush()}>
              {push === 'on' ? t('notify.push.disable') : t('notify.push.enable')}
            </button>
          )}
          <label className="check">
            <input
              type="checkbox"
              checked={sound}
              onChange={(e) => {
                setSound(e.target.checked);
                setSoundEnabled(e.target.checked);
                if (e.target.checked) playChime();
              }}
            />
            {t('notify.sound')}
          </label>
        </div>
      </fieldset>

      <fieldset className="wide notify-group">
        <legend>{t('notify.ways')}</legend>
        <label className="check">
          <input
            type="checkbox"
            checked={prefs.push}
            onChange={(e) => setPrefs({ ...prefs, push: e.target.checked })}
          />
          {t('notify.viaPush')}
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={prefs.email}
            disabled={!settings.emailAvailable && !prefs.email}
            onChange={(e) => setPrefs({ ...prefs, email: e.target.checked })}
          />
          {t('notify.viaEmail')}
        </label>
        {!settings.emailAvailable && <p className="muted">{t('notify.emailUnavailable')}</p>}
      </fieldset>

      <fieldset className="wide notify-group">
        <legend>{t('notify.events')}</legend>
        {EVENTS.map((ev) => (
          <label key={ev.kind} className="check">
            <input
              type="checkbox"
              checked={prefs.events[ev.kind]}
              onChange={(e) => setPrefs({ ...prefs, events: { ...prefs.events, [ev.kind]: e.target.checked } })}
            />
            {t(ev.label)}
          </label>
        ))}
      </fieldset>

      <fieldset className="wide notify-group">
        <legend>{t('notify.quiet')}</legend>
        <label className="check">
          <input
            type="checkbox"
            checked={quiet.enabled}
            onChange={(e) =>
              setPrefs({
                ...prefs,
                quietHours: { ...quiet, enabled: e.target.checked, timeZone: e.target.checked ? zone : quiet.timeZone },
              })
            }
          />
          {t('notify.quietOn')}
        </label>
        <div className="row notify-times">
          <label>
            {t('notify.quietFrom')}{' '}
            <input
              type="time"
              required
              disabled={!quiet.enabled}
              value={quiet.start}
              onChange={(e) => setPrefs({ ...prefs, quietHours: { ...quiet, start: e.target.value } })}
            />
          </label>
          <label>
            {t('notify.quietTo')}{' '}
            <input
              type="time"
              required
              disabled={!quiet.enabled}
              value={quiet.end}
              onChange={(e) => setPrefs({ ...prefs, quietHours: { ...quiet, end: e.target.value } })}
            />
          </label>
        </div>
        <p className="muted">{t('notify.quietZone', { zone: quiet.timeZone })}</p>
      </fieldset>

      {msg && <Notice kind={msg.kind}>{msg.text}</Notice>}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary">
          {t('save')}
        </button>
      </div>
    </form>
  );
}
