import { useEffect, useState, type FormEvent } from 'react';
import { get, post } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { useAction } from '../shared/use-action.tsx';
import { openBlob, postForFile, saveBlob } from './compliance-fetch.ts';

interface ChannelItem {
  id: string;
  kind: string;
  inboxId: string;
  enabled: boolean;
}

/** Access, portability and erasure for one person, found by channel and address (Art. 15, 20, 17). */
export function SubjectRequests() {
  const { t } = useI18n();
  const [channels, setChannels] = useState<ChannelItem[]>([]);
  const [form, setForm] = useState({ channelId: '', address: '', lang: 'de', reason: '' });
  const { run, view } = useAction();
  useEffect(
    () =>
      void run(async () => {
        const items = (await get<{ items: ChannelItem[] }>('/compliance/channels')).items;
        setChannels(items);
        setForm((f) => ({ ...f, channelId: f.channelId || items[0]?.id || '' }));
      }),
    [run],
  );
  const subject = { channelId: form.channelId, address: form.address };
  // An export reads every text of the person, an erasure destroys it: both need the request they answer.
  const ready = form.address.length > 0 && form.reason.trim().length >= 5;

  const exportJson = () =>
    run(async () => {
      const blob = await postForFile('/compliance/dsar/export', { ...subject, format: 'json', reason: form.reason });
      saveBlob(blob, 'sparsam-auskunft.json');
    });
  const exportHtml = () =>
    run(async () => {
      const blob = await postForFile('/compliance/dsar/export', {
        ...subject,
        format: 'html',
        lang: form.lang,
        reason: form.reason,
      });
      openBlob(new Blob([blob], { type: 'text/html;charset=utf-8' }));
    });
  const erase = (e: FormEvent) => {
    e.preventDefault();
    if (!window.confirm(t('compliance.eraseConfirm'))) return;
    void run(async () => {
      const { receipt } = await post<{
        receipt: { label: string | null; targetId: string; counts: Record<string, number>; auditSeq: number };
      }>('/compliance/dsar/erase', { ...subject, reason: form.reason });
      setForm({ ...form, address: '', reason: '' });
      return t('compliance.erased', {
        label: receipt.label ?? receipt.targetId,
        c: receipt.counts.conversations ?? 0,
        m: receipt.counts.messages ?? 0,
        f: receipt.counts.media ?? 0,
        seq: receipt.auditSeq,
      });
    });
  };

  return (
    <div className="stack">
      <h1>{t('compliance.dsar')}</h1>
      <p className="muted">{t('compliance.dsarIntro')}</p>
      {view}
      <form className="form" onSubmit={erase}>
        <label className="form-row">
          <span>{t('compliance.channel')}</span>
          <select value={form.channelId} onChange={(e) => setForm({ ...form, channelId: e.target.value })}>
            {channels.map((c) => (
              <option key={c.id} value={c.id}>
                {c.id} ({c.kind})
              </option>
            ))}
          </select>
        </label>
        <label className="form-row">
          <span>{t('compliance.address')}</span>
          <input
            value={form.address}
            autoComplete="off"
            required
            onChange={(e) => setForm({ ...form, address: e.target.value })}
          />
        </label>
        <label className="form-row">
          <span>{t('compliance.reason')}</span>
          <input
            value={form.reason}
            minLength={5}
            maxLength={200}
            required
            aria-describedby="dsar-reason-hint"
            onChange={(e) => setForm({ ...form, reason: e.target.value })}
          />
        </label>
        <p id="dsar-reason-hint" className="muted">
          {t('sec.dsarReasonHint')}
        </p>
        <label className="form-row">
          <span>{t('compliance.summaryLang')}</span>
          <select value={form.lang} onChange={(e) => setForm({ ...form, lang: e.target.value })}>
            <option value="de">Deutsch</option>
            <option value="en">English</option>
          </select>
        </label>
        <div className="form-actions">
          <button type="button" className="btn btn-primary" disabled={!ready} onClick={() => void exportJson()}>
            {t('compliance.exportJson')}
          </button>
          <button type="button" className="btn" disabled={!ready} onClick={() => void exportHtml()}>
            {t('compliance.exportHtml')}
          </button>
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-danger" disabled={!ready}>
            {t('compliance.erase')}
          </button>
        </div>
      </form>
    </div>
  );
}
