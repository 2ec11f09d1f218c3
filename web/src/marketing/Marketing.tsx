import { useCallback, useEffect, useState } from 'react';
import { get, post } from '../api.ts';
import { useI18n } from '../i18n.ts';

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

const TEXT = {
  de: {
    title: 'Marketing-Kampagnen',
    intro:
      'Eine Kampagne schickt eine freigegebene MARKETING-Vorlage an alle Kontakte des Kanals, deren Einwilligung in Werbung jetzt gilt. Alle anderen werden übersprungen.',
    channel: 'Kanal',
    template: 'Vorlage',
    parameter: 'Platzhalter {n}',
    send: 'Kampagne senden',
    confirm: 'Die Vorlage an alle eingewilligten Kontakte senden?',
    sent: 'Kampagne in der Warteschlange: {n} Empfänger, {s} ohne Einwilligung übersprungen.',
    none: 'Noch keine Kampagnen.',
    noTemplates: 'Dieser Kanal hat keine freigegebene MARKETING-Vorlage.',
    when: 'Zeit',
    recipients: 'Empfänger',
    skipped: 'Übersprungen',
    queued: 'Wartend',
    delivered: 'Zugestellt',
    read: 'Gelesen',
    failed: 'Fehlgeschlagen',
    optedOut: 'Abgemeldet',
    sentCol: 'Gesendet',
    failedLoad: 'Fehler: {m}',
  },
  en: {
    title: 'Marketing campaigns',
    intro:
      'A campaign sends an approved MARKETING template to every contact of the channel whose marketing consent is valid now. Everybody else is skipped.',
    channel: 'Channel',
    template: 'Template',
    parameter: 'Placeholder {n}',
    send: 'Send campaign',
    confirm: 'Send the template to every contact who opted in?',
    sent: 'Campaign queued: {n} recipients, {s} skipped without consent.',
    none: 'No campaigns yet.',
    noTemplates: 'This channel has no approved MARKETING template.',
    when: 'Time',
    recipients: 'Recipients',
    skipped: 'Skipped',
    queued: 'Waiting',
    delivered: 'Delivered',
    read: 'Read',
    failed: 'Failed',
    optedOut: 'Opted out',
    sentCol: 'Sent',
    failedLoad: 'Error: {m}',
  },
} as const;

type Key = keyof (typeof TEXT)['de'];

function fill(text: string, vars: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}

/** Admin screen: send a broadcast and read the campaigns' delivery counts. */
export function Marketing() {
  const { lang } = useI18n();
  const tt = useCallback(
    (k: Key, vars: Record<string, string | number> = {}) => fill(TEXT[lang === 'en' ? 'en' : 'de'][k], vars),
    [lang],
  );
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
      setNotice({ kind: 'error', text: tt('failedLoad', { m: (e as Error).message }) });
    }
  }, [tt]);

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
    if (!chosen || !window.confirm(tt('confirm'))) return;
    try {
      const { campaign } = await post<{ campaign: Campaign }>('/marketing/broadcasts', {
        channelId,
        template: { name: chosen.name, language: chosen.language, parameters: params.slice(0, arity) },
      });
      setNotice({ kind: 'ok', text: tt('sent', { n: campaign.recipients, s: campaign.skipped }) });
      await load();
    } catch (err) {
      setNotice({ kind: 'error', text: tt('failedLoad', { m: (err as Error).message }) });
    }
  }

  return (
    <div className="stack">
      <h1>{tt('title')}</h1>
      <p className="muted">{tt('intro')}</p>
      {notice ? (
        <p role="status" className={notice.kind === 'error' ? 'error' : 'ok'}>
          {notice.text}
        </p>
      ) : null}
      <form className="form" onSubmit={(e) => void send(e)}>
        <div className="form-grid">
          <label className="form-row">
            <span>{tt('channel')}</span>
            <select value={channelId} onChange={(e) => setChannelId(e.target.value)}>
              {channels.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.id} ({c.kind})
                </option>
              ))}
            </select>
          </label>
          <label className="form-row">
            <span>{tt('template')}</span>
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
              <span>{tt('parameter', { n: i + 1 })}</span>
              <input
                value={params[i] ?? ''}
                onChange={(e) => setParams((p) => Object.assign([...p], { [i]: e.target.value }))}
                required
              />
            </label>
          ))}
        </div>
        {chosen ? <p className="muted">{chosen.body}</p> : <p className="muted">{tt('noTemplates')}</p>}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={!chosen}>
            {tt('send')}
          </button>
        </div>
      </form>
      {campaigns && campaigns.length === 0 ? <p className="muted">{tt('none')}</p> : null}
      {campaigns && campaigns.length > 0 ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{tt('when')}</th>
              <th scope="col">{tt('template')}</th>
              <th scope="col">{tt('recipients')}</th>
              <th scope="col">{tt('skipped')}</th>
              <th scope="col">{tt('queued')}</th>
              <th scope="col">{tt('sentCol')}</th>
              <th scope="col">{tt('delivered')}</th>
              <th scope="col">{tt('read')}</th>
              <th scope="col">{tt('failed')}</th>
              <th scope="col">{tt('optedOut')}</th>
            </tr>
          </thead>
          <tbody>
            {campaigns.map((c) => (
              <tr key={c.id}>
                <td>{new Date(c.createdAt).toLocaleString(lang === 'en' ? 'en-GB' : 'de-DE')}</td>
                <td>
                  {c.template.name} ({c.template.language}) · {c.channelId}
                </td>
                <td>{c.recipients}</td>
                <td>{c.skipped}</td>
                <td>{c.queued}</td>
                <td>{c.sent}</td>
                <td>{c.delivered}</td>
                <td>{c.read}</td>
                <td>{c.failed}</td>
                <td>{c.optedOut}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

/** The top navigation's label. */
export const marketingNavLabel = (lang: string) => (lang === 'en' ? 'Campaigns' : 'Kampagnen');
