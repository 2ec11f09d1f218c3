import { useCallback, useEffect, useState, type FormEvent } from 'react';
import {
  del,
  get,
  patch,
  post,
  put,
  type AutomationForm,
  type ChannelInfo,
  type InboxPrivacy,
  type InboxSettingsView,
  type QuickReply,
  type Role,
  type SessionUser,
  type StaffMember,
  type Weekday,
} from '../api.ts';
import { useI18n, type MessageKey } from '../i18n.ts';
import { CopyButton, Notice, SubNav } from './parts.tsx';

const SECTIONS: [string, MessageKey][] = [
  ['users', 'adminUsers'],
  ['channels', 'adminChannels'],
  ['privacy', 'adminPrivacy'],
  ['quick-replies', 'adminQuick'],
];

/** Admin screens: team and invitations, channels, inbox privacy settings, quick replies. */
export function Admin({ path, self }: { path: string; self: SessionUser }) {
  const { t } = useI18n();
  const section = path.split('/')[2] ?? 'users';
  return (
    <div className="admin">
      <SubNav
        base="/admin"
        current={section}
        label={t('adminNav')}
        items={SECTIONS.map(([key, label]) => ({ key, label: t(label) }))}
      />
      <div className="admin-body">
        {section === 'channels' ? (
          <Channels />
        ) : section === 'privacy' ? (
          <Privacy />
        ) : section === 'quick-replies' ? (
          <QuickReplies />
        ) : (
          <Users self={self} />
        )}
      </div>
    </div>
  );
}

function useAction() {
  const { t } = useI18n();
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const run = useCallback(
    async (fn: () => Promise<unknown>, ok?: string) => {
      try {
        await fn();
        setMessage(ok ? { kind: 'ok', text: ok } : null);
        return true;
      } catch (e) {
        setMessage({ kind: 'error', text: t('errorGeneric', { m: (e as Error).message }) });
        return false;
      }
    },
    [t],
  );
  const view = message ? <Notice kind={message.kind}>{message.text}</Notice> : null;
  return { run, view };
}

interface ChannelCheck {
  ok: boolean;
  detail: string;
  reason?: 'connected' | 'refused' | 'timeout' | 'unreachable' | 'unsupported';
  name?: string;
  httpStatus?: number;
}

function checkText(r: ChannelCheck, t: ReturnType<typeof useI18n>['t']): string {
  switch (r.reason) {
    case 'connected':
      return r.name ? t('checkConnectedAs', { name: r.name }) : t('checkConnected');
    case 'refused':
      return t('checkRefused', { status: r.httpStatus ?? '?' });
    case 'timeout':
      return t('checkTimeout');
    case 'unreachable':
      return t('checkUnreachable');
    case 'unsupported':
      return t('checkUnsupported');
    default:
      return r.detail;
  }
}

const ROLE_KEYS: Record<Role, MessageKey> = { admin: 'roleAdmin', agent: 'roleAgent', dpo: 'roleDpo' };

function Users({ self }: { self: SessionUser }) {
  const { t } = useI18n();
  const [users, setUsers] = useState<StaffMember[]>([]);
  const [require2fa, setRequire2fa] = useState(false);
  const [link, setLink] = useState<string | null>(null);
  const [form, setForm] = useState({ email: '', displayName: '', role: 'agent' as Role, language: 'de' });
  const { run, view } = useAction();
  const load = useCallback(async () => {
    setUsers((await get<{ items: StaffMember[] }>('/users')).items);
    setRequire2fa((await get<{ require2fa: boolean }>('/admin/security')).require2fa);
  }, []);
  useEffect(() => void load(), [load]);

  const invite = async (e: FormEvent) => {
    e.preventDefault();
    await run(async () => {
      const res = await post<{ invitation: { url: string } }>('/users', {
        ...form,
        displayName: form.displayName || undefined,
      });
      setLink(res.invitation.url);
      setForm({ ...form, email: '', displayName: '' });
      await load();
    });
  };
  const reinvite = (id: string) =>
    run(async () => {
      const res = await post<{ invitation: { url: string } }>(`/users/${id}/invitation`);
      setLink(res.invitation.url);
    });

  return (
    <div className="stack">
      <h1>{t('adminUsers')}</h1>
      {view}
      <label className="check">
        <input
          type="checkbox"
          checked={require2fa}
          onChange={(e) =>
            void run(
              async () => (await put('/admin/security', { require2fa: e.target.checked }), await load()),
              t('saved'),
            )
          }
        />
        {t('require2fa')}
      </label>
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t('displayName')}</th>
              <th scope="col">{t('email')}</th>
              <th scope="col">{t('role')}</th>
              <th scope="col">{t('twoFactor')}</th>
              <th scope="col">{t('status')}</th>
              <th scope="col">{t('actions')}</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <td className="name">{u.displayName}</td>
                <td className="email">{u.email}</td>
                <td>
                  <select
                    aria-label={`${t('role')}: ${u.displayName}`}
                    value={u.role}
                    disabled={u.id === self.id}
                    onChange={(e) =>
                      void run(
                        async () => (await patch(`/users/${u.id}`, { role: e.target.value }), await load()),
                        t('saved'),
                      )
                    }
                  >
                    {(['admin', 'agent', 'dpo'] as Role[]).map((r) => (
                      <option key={r} value={r}>
                        {t(ROLE_KEYS[r])}
                      </option>
                    ))}
                  </select>
                </td>
                <td>{u.totpEnabled ? '✓' : '–'}</td>
                <td>
                  {u.disabled
                    ? t('disabledState')
                    : u.locked
                      ? t('lockedState')
                      : u.invitationPending
                        ? t('invitedState')
                        : t('active')}
                </td>
                <td className="actions">
                  {u.id !== self.id && (
                    <button
                      type="button"
                      className="btn btn-small"
                      onClick={() =>
                        void run(async () => (await patch(`/users/${u.id}`, { disabled: !u.disabled }), await load()))
                      }
                    >
                      {u.disabled ? t('enable') : t('disable')}
                    </button>
                  )}
                  <button type="button" className="btn btn-small" onClick={() => void reinvite(u.id)}>
                    {t('newInvitation')}
                  </button>
                  {u.totpEnabled && u.id !== self.id && (
                    <button
                      type="button"
                      className="btn btn-small"
                      onClick={() =>
                        void run(async () => (await post(`/users/${u.id}/reset-2fa`), await load()), t('saved'))
                      }
                    >
                      {t('reset2fa')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form className="card form-grid" onSubmit={invite}>
        <h2>{t('inviteUser')}</h2>
        <div className="form-row">
          <label htmlFor="inv-email">{t('email')}</label>
          <input
            id="inv-email"
            type="email"
            required
            value={form.email}
            onChange={(e) => setForm({ ...form, email: e.target.value })}
          />
        </div>
        <div className="form-row">
          <label htmlFor="inv-name">{t('displayName')}</label>
          <input
            id="inv-name"
            value={form.displayName}
            onChange={(e) => setForm({ ...form, displayName: e.target.value })}
          />
        </div>
        <div className="form-row">
          <label htmlFor="inv-role">{t('role')}</label>
          <select id="inv-role" value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as Role })}>
            {(['agent', 'admin', 'dpo'] as Role[]).map((r) => (
              <option key={r} value={r}>
                {t(ROLE_KEYS[r])}
              </option>
            ))}
          </select>
        </div>
        <div className="form-row">
          <label htmlFor="inv-lang">{t('language')}</label>
          <select id="inv-lang" value={form.language} onChange={(e) => setForm({ ...form, language: e.target.value })}>
            <option value="de">{t('german')}</option>
            <option value="en">{t('english')}</option>
          </select>
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary">
            {t('invite')}
          </button>
        </div>
        {link && (
          <div className="invite-link" role="status">
            <p>{t('invitationLink')}</p>
            <code className="break">{link}</code> <CopyButton value={link} />
          </div>
        )}
      </form>
    </div>
  );
}

function Channels() {
  const { t } = useI18n();
  const [items, setItems] = useState<ChannelInfo[]>([]);
  const [results, setResults] = useState<Record<string, ChannelCheck | 'busy'>>({});
  const { run, view } = useAction();
  const load = useCallback(async () => setItems((await get<{ items: ChannelInfo[] }>('/admin/channels')).items), []);
  useEffect(() => void load(), [load]);
  const test = async (id: string) => {
    setResults((r) => ({ ...r, [id]: 'busy' }));
    const res = await post<{ ok: boolean; detail: string }>(`/admin/channels/${id}/test`).catch((e: Error) => ({
      ok: false,
      detail: e.message,
    }));
    setResults((r) => ({ ...r, [id]: res }));
  };
  return (
    <div className="stack">
      <h1>{t('adminChannels')}</h1>
      {view}
      {items.map((c) => {
        const r = results[c.id];
        return (
          <section key={c.id} className="card channel-card" aria-labelledby={`ch-${c.id}`}>
            <div className="card-head">
              <h2 id={`ch-${c.id}`}>
                {c.id} <span className="chip chip-channel">{c.kind}</span>
              </h2>
              <label className="check">
                <input
                  type="checkbox"
                  checked={c.enabled}
                  onChange={(e) =>
                    void run(
                      async () => (
                        await put(`/admin/channels/${c.id}/enabled`, { enabled: e.target.checked }),
                        await load()
                      ),
                    )
                  }
                />
                {t('channelOn')}
              </label>
            </div>
            <dl className="facts">
              <dt>{t('webhookUrl')}</dt>
              <dd>
                <code className="break">{c.webhookUrl}</code> <CopyButton value={c.webhookUrl} />
              </dd>
              {c.verifyTokenHint && (
                <>
                  <dt>{t('verifyToken')}</dt>
                  <dd>{t('verifyTokenHint', { h: c.verifyTokenHint })}</dd>
                </>
              )}
              <dt>{t('inbox')}</dt>
              <dd>{c.inboxId}</dd>
              <dt>{t('source')}</dt>
              <dd>{c.source === 'config' ? t('sourceConfig') : t('sourceUi')}</dd>
            </dl>
            <div className="row">
              <button type="button" className="btn" onClick={() => void test(c.id)} disabled={r === 'busy'}>
                {r === 'busy' ? t('testing') : t('testConnection')}
              </button>
              {r && r !== 'busy' && <Notice kind={r.ok ? 'ok' : 'error'}>{checkText(r, t)}</Notice>}
            </div>
          </section>
        );
      })}
    </div>
  );
}

function Privacy() {
  const { t } = useI18n();
  const [items, setItems] = useState<InboxSettingsView[]>([]);
  const load = useCallback(
    async () => setItems((await get<{ items: InboxSettingsView[] }>('/admin/inboxes')).items),
    [],
  );
  useEffect(() => void load(), [load]);
  return (
    <div className="stack">
      <h1>{t('adminPrivacy')}</h1>
      {items.map((inbox) => (
        <InboxPrivacyForm key={inbox.id} inbox={inbox} onSaved={load} />
      ))}
    </div>
  );
}

const RETENTION_FIELDS: (keyof InboxPrivacy['retention'])[] = [
  'consentTimeoutHours',
  'autoCloseAfterDays',
  'eraseAfterCloseDays',
  'auditRetentionDays',
];

function InboxPrivacyForm({ inbox, onSaved }: { inbox: InboxSettingsView; onSaved(): Promise<void> }) {
  const { t } = useI18n();
  const [retention, setRetention] = useState(inbox.settings.retention);
  const [media, setMedia] = useState(inbox.settings.media);
  const [noticeDe, setNoticeDe] = useState(inbox.settings.notice?.de ?? '');
  const [noticeEn, setNoticeEn] = useState(inbox.settings.notice?.en ?? '');
  const [automation, setAutomation] = useState(() => automationDraft(inbox.automation));
  const { run, view } = useAction();
  useEffect(() => {
    setRetention(inbox.settings.retention);
    setMedia(inbox.settings.media);
    setNoticeDe(inbox.settings.notice?.de ?? '');
    setNoticeEn(inbox.settings.notice?.en ?? '');
    setAutomation(automationDraft(inbox.automation));
  }, [inbox]);
  const save = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await put(`/admin/inboxes/${inbox.id}`, {
        retention,
        media,
        notice: { de: noticeDe.trim() || null, en: noticeEn.trim() || null },
        automation: automationFromDraft(automation),
      });
      await onSaved();
    }, t('saved'));
  };
  return (
    <form className="card form-grid" onSubmit={save} aria-labelledby={`inbox-${inbox.id}`}>
      <h2 id={`inbox-${inbox.id}`}>
        {t('inbox')}: {inbox.id} <span className="muted small">({inbox.labelPrefix} 1, 2, …)</span>
      </h2>
      <fieldset>
        <legend>{t('retention')}</legend>
        {RETENTION_FIELDS.map((f) => (
          <div key={f} className="form-row">
            <label htmlFor={`${inbox.id}-${f}`}>{t(f)}</label>
            <input
              id={`${inbox.id}-${f}`}
              type="number"
              min={f === 'auditRetentionDays' ? 1 : 0}
              step="any"
              required
              value={retention[f]}
              onChange={(e) => setRetention({ ...retention, [f]: Number(e.target.value) })}
              aria-describedby={`${inbox.id}-${f}-d`}
            />
            <span id={`${inbox.id}-${f}-d`} className="muted small">
              {t('defaultsFrom', { v: inbox.defaults.retention[f] })}
            </span>
          </div>
        ))}
      </fieldset>
      <fieldset>
        <legend>{t('mediaPolicy')}</legend>
        {(['strip', 'reject', 'allow'] as const).map((m) => (
          <label key={m} className="check">
            <input
              type="radio"
              name={`${inbox.id}-media`}
              value={m}
              checked={media === m}
              onChange={() => setMedia(m)}
            />
            {t(m === 'strip' ? 'mediaStrip' : m === 'reject' ? 'mediaReject' : 'mediaAllow')}
          </label>
        ))}
      </fieldset>
      <div className="form-row wide">
        <label htmlFor={`${inbox.id}-nde`}>{t('noticeDe')}</label>
        <textarea
          id={`${inbox.id}-nde`}
          rows={4}
          value={noticeDe}
          onChange={(e) => setNoticeDe(e.target.value)}
          aria-describedby={`${inbox.id}-nhint`}
        />
      </div>
      <div className="form-row wide">
        <label htmlFor={`${inbox.id}-nen`}>{t('noticeEn')}</label>
        <textarea
          id={`${inbox.id}-nen`}
          rows={4}
          value={noticeEn}
          onChange={(e) => setNoticeEn(e.target.value)}
          aria-describedby={`${inbox.id}-nhint`}
        />
        <span id={`${inbox.id}-nhint`} className="muted small">
          {t('noticeDefault')}
        </span>
      </div>
      <AutomationFields id={inbox.id} draft={automation} onChange={setAutomation} />
      {view}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary">
          {t('save')}
        </button>
        {inbox.overridden && (
          <button
            type="button"
            className="btn"
            onClick={() =>
              void run(
                async () => (await put(`/admin/inboxes/${inbox.id}`, { reset: true }), await onSaved()),
                t('saved'),
              )
            }
          >
            {t('resetDefaults')}
          </button>
        )}
      </div>
    </form>
  );
}

const WEEKDAYS: [Weekday, MessageKey][] = [
  ['mon', 'dayMon'],
  ['tue', 'dayTue'],
  ['wed', 'dayWed'],
  ['thu', 'dayThu'],
  ['fri', 'dayFri'],
  ['sat', 'daySat'],
  ['sun', 'daySun'],
];

/** The automation form as typed: hours as "08:00-12:00, 13:00-18:00" per day, holidays one per line. */
interface AutomationDraft {
  greeting: AutomationForm['greeting'];
  away: Omit<AutomationForm['away'], 'hours' | 'holidays'> & { hours: Record<Weekday, string>; holidays: string };
}

function automationDraft(form: AutomationForm): AutomationDraft {
  const hours = Object.fromEntries(WEEKDAYS.map(([d]) => [d, (form.away.hours[d] ?? []).join(', ')]));
  return {
    greeting: form.greeting,
    away: { ...form.away, hours: hours as Record<Weekday, string>, holidays: form.away.holidays.join('\n') },
  };
}

/** What the server checks: it answers a malformed interval, date or zone with an error naming the field. */
function automationFromDraft(draft: AutomationDraft): AutomationForm {
  const split = (text: string, by: RegExp) =>
    text
      .split(by)
      .map((v) => v.trim())
      .filter((v) => v !== '');
  const hours = Object.fromEntries(WEEKDAYS.map(([d]) => [d, split(draft.away.hours[d], /[,;]/)]));
  return {
    greeting: draft.greeting,
    away: {
      ...draft.away,
      hours: hours as Record<Weekday, string[]>,
      holidays: split(draft.away.holidays, /[\s,;]+/),
    },
  };
}

/** Zones the browser knows, offered as suggestions (the server decides). */
const TIME_ZONES: string[] = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
  } catch {
    return [];
  }
})();

function AutomationFields({
  id,
  draft,
  onChange,
}: {
  id: string;
  draft: AutomationDraft;
  onChange(next: AutomationDraft): void;
}) {
  const { t } = useI18n();
  const greeting = (patch: Partial<AutomationDraft['greeting']>) =>
    onChange({ ...draft, greeting: { ...draft.greeting, ...patch } });
  const away = (patch: Partial<AutomationDraft['away']>) => onChange({ ...draft, away: { ...draft.away, ...patch } });
  return (
    <fieldset className="wide">
      <legend>{t('automation')}</legend>
      <p className="muted small">{t('automationIntro')}</p>
      <label className="check">
        <input
          type="checkbox"
          checked={draft.greeting.enabled}
          onChange={(e) => greeting({ enabled: e.target.checked })}
        />
        {t('greetingOn')}
      </label>
      {(['de', 'en'] as const).map((lang) => (
        <div key={`g-${lang}`} className="form-row wide">
          <label htmlFor={`${id}-greeting-${lang}`}>{t(lang === 'de' ? 'greetingDe' : 'greetingEn')}</label>
          <textarea
            id={`${id}-greeting-${lang}`}
            rows={2}
            maxLength={2000}
            value={draft.greeting.text[lang]}
            onChange={(e) => greeting({ text: { ...draft.greeting.text, [lang]: e.target.value } })}
          />
        </div>
      ))}
      <label className="check">
        <input type="checkbox" checked={draft.away.enabled} onChange={(e) => away({ enabled: e.target.checked })} />
        {t('awayOn')}
      </label>
      {(['de', 'en'] as const).map((lang) => (
        <div key={`a-${lang}`} className="form-row wide">
          <label htmlFor={`${id}-away-${lang}`}>{t(lang === 'de' ? 'awayDe' : 'awayEn')}</label>
          <textarea
            id={`${id}-away-${lang}`}
            rows={2}
            maxLength={2000}
            value={draft.away.text[lang]}
            onChange={(e) => away({ text: { ...draft.away.text, [lang]: e.target.value } })}
          />
        </div>
      ))}
      <div className="form-row">
        <label htmlFor={`${id}-tz`}>{t('timeZone')}</label>
        <input
          id={`${id}-tz`}
          list={`${id}-tz-list`}
          required
          value={draft.away.timeZone}
          onChange={(e) => away({ timeZone: e.target.value })}
          aria-describedby={`${id}-tz-d`}
        />
        <datalist id={`${id}-tz-list`}>
          {TIME_ZONES.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        <span id={`${id}-tz-d`} className="muted small">
          {t('timeZoneHint')}
        </span>
      </div>
      <fieldset>
        <legend>{t('businessHours')}</legend>
        <p id={`${id}-hours-d`} className="muted small">
          {t('hoursHint')}
        </p>
        {WEEKDAYS.map(([day, label]) => (
          <div key={day} className="form-row">
            <label htmlFor={`${id}-hours-${day}`}>{t(label)}</label>
            <input
              id={`${id}-hours-${day}`}
              value={draft.away.hours[day]}
              placeholder="08:00-18:00"
              onChange={(e) => away({ hours: { ...draft.away.hours, [day]: e.target.value } })}
              aria-describedby={`${id}-hours-d`}
            />
          </div>
        ))}
      </fieldset>
      <div className="form-row">
        <label htmlFor={`${id}-holidays`}>{t('holidays')}</label>
        <textarea
          id={`${id}-holidays`}
          rows={3}
          value={draft.away.holidays}
          onChange={(e) => away({ holidays: e.target.value })}
          aria-describedby={`${id}-holidays-d`}
        />
        <span id={`${id}-holidays-d`} className="muted small">
          {t('holidaysHint')}
        </span>
      </div>
      <div className="form-row">
        <label htmlFor={`${id}-cooldown`}>{t('cooldownHours')}</label>
        <input
          id={`${id}-cooldown`}
          type="number"
          min={0.25}
          max={720}
          step="any"
          required
          value={draft.away.cooldownHours}
          onChange={(e) => away({ cooldownHours: Number(e.target.value) })}
        />
      </div>
    </fieldset>
  );
}

function QuickReplies() {
  const { t } = useI18n();
  const [items, setItems] = useState<QuickReply[]>([]);
  const [editing, setEditing] = useState<QuickReply | null>(null);
  const [form, setForm] = useState({ shortcut: '', title: '', text: '' });
  const { run, view } = useAction();
  const load = useCallback(async () => setItems((await get<{ items: QuickReply[] }>('/quick-replies')).items), []);
  useEffect(() => void load(), [load]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      if (editing) await put(`/quick-replies/${editing.id}`, form);
      else await post('/quick-replies', form);
      setEditing(null);
      setForm({ shortcut: '', title: '', text: '' });
      await load();
    }, t('saved'));
  };
  return (
    <div className="stack">
      <h1>{t('adminQuick')}</h1>
      {view}
      {items.length === 0 ? (
        <p className="muted">{t('noQuickReplies')}</p>
      ) : (
        <ul className="qr-list">
          {items.map((q) => (
            <li key={q.id} className="card qr-item">
              <div>
                <strong>/{q.shortcut}</strong> <span className="muted">{q.title}</span>
                <p className="pre">{q.text}</p>
              </div>
              <div className="actions">
                <button
                  type="button"
                  className="btn btn-small"
                  onClick={() => (setEditing(q), setForm({ shortcut: q.shortcut, title: q.title, text: q.text }))}
                >
                  {t('edit')}
                </button>
                <button
                  type="button"
                  className="btn btn-small btn-danger-outline"
                  onClick={() => void run(async () => (await del(`/quick-replies/${q.id}`), await load()))}
                >
                  {t('delete')}
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      <form className="card form-grid" onSubmit={submit}>
        <h2>{editing ? `${t('edit')}: /${editing.shortcut}` : t('addQuickReply')}</h2>
        <div className="form-row">
          <label htmlFor="qr-shortcut">{t('shortcut')}</label>
          <input
            id="qr-shortcut"
            required
            pattern="/?[a-zA-Z0-9][a-zA-Z0-9_-]{0,31}"
            value={form.shortcut}
            onChange={(e) => setForm({ ...form, shortcut: e.target.value })}
          />
        </div>
        <div className="form-row">
          <label htmlFor="qr-title">{t('title')}</label>
          <input
            id="qr-title"
            required
            maxLength={80}
            value={form.title}
            onChange={(e) => setForm({ ...form, title: e.target.value })}
          />
        </div>
        <div className="form-row wide">
          <label htmlFor="qr-text">{t('text')}</label>
          <textarea
            id="qr-text"
            required
            rows={4}
            maxLength={1024}
            value={form.text}
            onChange={(e) => setForm({ ...form, text: e.target.value })}
          />
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary">
            {t('save')}
          </button>
          {editing && (
            <button
              type="button"
              className="btn"
              onClick={() => (setEditing(null), setForm({ shortcut: '', title: '', text: '' }))}
            >
              {t('cancel')}
            </button>
          )}
        </div>
      </form>
    </div>
  );
}
