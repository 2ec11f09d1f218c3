import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { get, put, type AssignmentSettings, type InboxSettingsView, type StaffMember } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { useAction } from '../shared/use-action.tsx';

/** Per inbox: round-robin auto-assignment, the maximum of open conversations per member, the offline rule. */
export function Assignment() {
  const { t } = useI18n();
  const [inboxes, setInboxes] = useState<InboxSettingsView[]>([]);
  const [users, setUsers] = useState<StaffMember[]>([]);
  const load = useCallback(async () => {
    setInboxes((await get<{ items: InboxSettingsView[] }>('/admin/inboxes')).items);
    setUsers((await get<{ items: StaffMember[] }>('/users')).items);
  }, []);
  useEffect(() => void load(), [load]);
  return (
    <div className="stack">
      <h1>{t('teams.assignmentNav')}</h1>
      {inboxes.map((inbox) => (
        <AssignmentForm
          key={inbox.id}
          inboxId={inbox.id}
          members={users.filter((u) => !u.disabled && u.role === 'agent' && u.inboxIds.includes(inbox.id))}
        />
      ))}
    </div>
  );
}

function AssignmentForm({ inboxId, members }: { inboxId: string; members: StaffMember[] }) {
  const { t } = useI18n();
  const [form, setForm] = useState<AssignmentSettings | null>(null);
  const { run, view } = useAction();
  useEffect(() => {
    void get<AssignmentSettings>(`/admin/inboxes/${encodeURIComponent(inboxId)}/assignment`).then(setForm);
  }, [inboxId]);
  if (!form) return null;
  const save = (e: FormEvent) => {
    e.preventDefault();
    void run(
      async () =>
        setForm(await put<AssignmentSettings>(`/admin/inboxes/${encodeURIComponent(inboxId)}/assignment`, form)),
      t('saved'),
    );
  };
  const field = `asg-${inboxId}`;
  return (
    <form
      className="card form-grid assignment-form"
      onSubmit={save}
      aria-label={t('teams.assignmentTitle', { inbox: inboxId })}
    >
      <h2>{t('teams.assignmentTitle', { inbox: inboxId })}</h2>
      <p className="muted small">
        {members.length > 0
          ? t('teams.members', { names: members.map((m) => m.displayName).join(', ') })
          : t('teams.noMembers')}
      </p>
      <label className="check">
        <input type="checkbox" checked={form.auto} onChange={(e) => setForm({ ...form, auto: e.target.checked })} />
        {t('teams.autoAssign')}
      </label>
      <div className="form-row">
        <label htmlFor={`${field}-max`}>{t('teams.maxOpen')}</label>
        <input
          id={`${field}-max`}
          type="number"
          min={0}
          max={1000}
          className="narrow"
          value={form.maxOpenPerAgent}
          onChange={(e) => setForm({ ...form, maxOpenPerAgent: Number(e.target.value) })}
        />
      </div>
      <div className="form-row">
        <label htmlFor={`${field}-offline`}>{t('teams.offline')}</label>
        <select
          id={`${field}-offline`}
          value={form.offline}
          onChange={(e) => setForm({ ...form, offline: e.target.value as AssignmentSettings['offline'] })}
        >
          <option value="keep">{t('teams.offlineKeep')}</option>
          <option value="unassign">{t('teams.offlineUnassign')}</option>
        </select>
      </div>
      {form.offline === 'unassign' && (
        <div className="form-row">
          <label htmlFor={`${field}-after`}>{t('teams.offlineAfter')}</label>
          <input
            id={`${field}-after`}
            type="number"
            min={1}
            max={10080}
            className="narrow"
            value={form.offlineAfterMinutes}
            onChange={(e) => setForm({ ...form, offlineAfterMinutes: Number(e.target.value) })}
          />
        </div>
      )}
      {view}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary">
          {t('teams.save')}
        </button>
      </div>
    </form>
  );
}
