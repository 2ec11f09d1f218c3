import { useCallback, useEffect, useState } from 'react';
import { get, post } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { errorText } from '../shared/error-text.ts';

/** A broadcast's report as GET /api/v1/marketing/broadcasts answers it (counts only, no addresses). */
interface Campaign {
  id: string;
  channelId: string;
  template: { name: string; language: string };
  createdAt: string;
  recipients: number;
  skipped: number;
  queued: number;
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  erased: number;
  optedOut: number;
}

interface Template {
  name: string;
  language: string;
  category: string;
  body: string;
}

/** Admin screen: send a broadcast and read the campaigns' delivery counts. */
export function Marketing() {
  const { t: text, formatDateTime, formatNumber } = useI18n();
  const [campaigns, setCampaigns] = useState<Campaign[] | null>(null);
  const [channels, setChannels] = useState<{ id: string; kind: string }[]>([]);
  const [channelId, setChannelId] = useState('');
  const [templates, setTemplates] = useState<Template[]>([]);
  const [template, setTemplate] = useState('');
  const [params, setParams] = useState<string[]>([]);
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);

  const load = useCallback(async () => {
    try {
      setCampaigns((await get<{ items: Campaign[] }>('/marketing/broadcasts')).items);
    } catch (e) {
      setNotice({ kind: 'error', text: text('marketing.failedLoad', { m: errorText(e, text) }) });
    }
  }, [text]);

  useEffect(() => {
    void load();
    get<{ items: { id: string; kind: string }[] }>('/compliance/channels')
      .then((r) => {
        setChannels(r.items);
        setChannelId((c) => c || r.items[0]?.id || '');
      })
      .catch(() => undefined);
  }, [load]);

  useEffect(() => {
    if (!channelId) return;
    get<{ items: Template[] }>(`/channels/${channelId}/templates`)
      .then((r) => {
        const marketing = r.items.filter((t) => t.category === 'MARKETING');
        setTemplates(marketing);
        setTemplate(marketing[0] ? `${marketing[0].name}|${marketing[0].language}` : '');
      })
      .catch(() => setTemplates([]));
  }, [channelId]);

  const chosen = templates.find((t) => `${t.name}|${t.language}` === template);
  const arity = chosen ? Math.max(0, ...[...chosen.body.matchAll(/\{\{(\d+)\}\}/g)].map((m) => Number(m[1]))) : 0;

  async function send(e: React.FormEvent) {
    e.preventDefault();
    if (!chosen || !window.confirm(text('marketing.confirm'))) return;
    try {
      const { campaign } = await post<{ campaign: Campaign }>('/marketing/broadcasts', {
        channelId,
        template: { name: chosen.name, language: chosen.language, parameters: params.slice(0, arity) },
      });
      setNotice({ kind: 'ok', text: text('marketing.sent', { n: campaign.recipients, s: campaign.skipped }) });
      await load();
    } catch (err) {
      setNotice({ kind: 'error', text: text('marketing.failedLoad', { m: errorText(err, text) }) });
    }
  }

  return (
    <div className="stack page">
      <h1>{text('marketing.title')}</h1>
      <p className="muted">{text('marketing.intro')}</p>
      {notice ? (
        <p role="status" className={notice.kind === 'error' ? 'error' : 'ok'}>
          {notice.text}
        </p>
      ) : null}
      <form className="form" onSubmit={(e) => void send(e)}>
        <div className="form-grid">
          <label className="form-row">
            <span>{text('marketing.channel')}</span>
            <select value={channelId} onChange={(e) => setChannelId(e.target.value)}>
              {channels.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.id} ({c.kind})
                </option>
              ))}
            </select>
          </label>
          <label className="form-row">
            <span>{text('marketing.template')}</span>
            <select value={template} onChange={(e) => setTemplate(e.target.value)}>
              {templates.map((t) => (
                <option key={`${t.name}|${t.language}`} value={`${t.name}|${t.language}`}>
                  {t.name} ({t.language})
                </option>
              ))}
            </select>
          </label>
          {Array.from({ length: arity }, (_, i) => (
            <label key={i} className="form-row">
              <span>{text('marketing.parameter', { n: i + 1 })}</span>
              <input
                value={params[i] ?? ''}
                onChange={(e) => setParams((p) => Object.assign([...p], { [i]: e.target.value }))}
                required
              />
            </label>
          ))}
        </div>
        {chosen ? <p className="muted">{chosen.body}</p> : <p className="muted">{text('marketing.noTemplates')}</p>}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={!chosen}>
            {text('marketing.send')}
          </button>
        </div>
      </form>
      {campaigns && campaigns.length === 0 ? <p className="muted">{text('marketing.none')}</p> : null}
      {campaigns && campaigns.length > 0 ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{text('marketing.when')}</th>
              <th scope="col">{text('marketing.template')}</th>
              <th scope="col">{text('marketing.recipients')}</th>
              <th scope="col">{text('marketing.skipped')}</th>
              <th scope="col">{text('marketing.queued')}</th>
              <th scope="col">{text('marketing.sentCol')}</th>
              <th scope="col">{text('marketing.delivered')}</th>
              <th scope="col">{text('marketing.read')}</th>
              <th scope="col">{text('marketing.failed')}</th>
              <th scope="col">{text('marketing.optedOut')}</th>
            </tr>
          </thead>
          <tbody>
            {campaigns.map((c) => (
              <tr key={c.id}>
                <td>{formatDateTime(c.createdAt)}</td>
                <td>
                  {c.template.name} ({c.template.language}) · {c.channelId}
                </td>
                <td>{formatNumber(c.recipients)}</td>
                <td>{formatNumber(c.skipped)}</td>
                <td>{formatNumber(c.queued)}</td>
                <td>{formatNumber(c.sent)}</td>
                <td>{formatNumber(c.delivered)}</td>
                <td>{formatNumber(c.read)}</td>
                <td>{formatNumber(c.failed)}</td>
                <td>{formatNumber(c.optedOut)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
