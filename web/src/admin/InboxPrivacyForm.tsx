import { useEffect, useState, type FormEvent } from 'react';
import { put, type InboxPrivacy, type InboxSettingsView } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { useAction } from '../shared/use-action.tsx';
import { automationDraft, automationFromDraft } from './automation-draft.ts';
import { AutomationFields } from './AutomationFields.tsx';

const RETENTION_FIELDS: (keyof InboxPrivacy['retention'])[] = [
  'consentTimeoutHours',
  'autoCloseAfterDays',
  'eraseAfterCloseDays',
  'auditRetentionDays',
];

export function InboxPrivacyForm({ inbox, onSaved }: { inbox: InboxSettingsView; onSaved(): Promise<void> }) {
  const { t } = useI18n();
  const [retention, setRetention] = useState(inbox.settings.retention);
  const [media, setMedia] = useState(inbox.settings.media);
  // Without a text of its own the inbox sends sparsam's default: the boxes show it, ready to be adapted.
  const [noticeDe, setNoticeDe] = useState(inbox.settings.notice?.de ?? inbox.defaultNotice.de);
  const [noticeEn, setNoticeEn] = useState(inbox.settings.notice?.en ?? inbox.defaultNotice.en);
  const [automation, setAutomation] = useState(() => automationDraft(inbox.automation));
  const [team, setTeam] = useState(inbox.settings.team ?? '');
  const [csat, setCsat] = useState(inbox.settings.csat.enabled);
  const { run, view } = useAction();
  useEffect(() => {
    setRetention(inbox.settings.retention);
    setMedia(inbox.settings.media);
    setNoticeDe(inbox.settings.notice?.de ?? inbox.defaultNotice.de);
    setNoticeEn(inbox.settings.notice?.en ?? inbox.defaultNotice.en);
    setAutomation(automationDraft(inbox.automation));
    setTeam(inbox.settings.team ?? '');
    setCsat(inbox.settings.csat.enabled);
  }, [inbox]);
  const save = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await put(`/admin/inboxes/${inbox.id}`, {
        retention,
        media,
        // The default left as it is stays the default (it follows the retention settings and the organisation).
        notice: {
          de: noticeDe.trim() === inbox.defaultNotice.de.trim() ? null : noticeDe.trim() || null,
          en: noticeEn.trim() === inbox.defaultNotice.en.trim() ? null : noticeEn.trim() || null,
        },
        automation: automationFromDraft(automation),
        team: team.trim() || null,
        csat: { enabled: csat },
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
          rows={9}
          value={noticeDe}
          onChange={(e) => setNoticeDe(e.target.value)}
          aria-describedby={`${inbox.id}-nhint`}
        />
      </div>
      <div className="form-row wide">
        <label htmlFor={`${inbox.id}-nen`}>{t('noticeEn')}</label>
        <textarea
          id={`${inbox.id}-nen`}
          rows={9}
          value={noticeEn}
          onChange={(e) => setNoticeEn(e.target.value)}
          aria-describedby={`${inbox.id}-nhint`}
        />
        <span id={`${inbox.id}-nhint`} className="muted small">
          {t('noticeDefault')}
        </span>
      </div>
      <AutomationFields id={inbox.id} draft={automation} onChange={setAutomation} />
      <fieldset>
        <legend>{t('inboxReports')}</legend>
        <div className="form-row">
          <label htmlFor={`${inbox.id}-team`}>{t('inboxTeam')}</label>
          <input
            id={`${inbox.id}-team`}
            value={team}
            maxLength={60}
            placeholder={inbox.id}
            onChange={(e) => setTeam(e.target.value)}
            aria-describedby={`${inbox.id}-team-d`}
          />
          <span id={`${inbox.id}-team-d`} className="muted small">
            {t('inboxTeamHint')}
          </span>
        </div>
        <label className="check">
          <input type="checkbox" checked={csat} onChange={(e) => setCsat(e.target.checked)} />
          {t('csatEnabled')}
        </label>
        <span className="muted small">{t('csatHint')}</span>
      </fieldset>
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
