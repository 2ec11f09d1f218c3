import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { get, patch, post, type SessionInfo } from '../api.ts';
import { formatDate, formatTime, useI18n } from '../i18n.ts';
import { Notice, SubNav } from '../screens/parts.tsx';
import { useComplianceText, type ComplianceKey } from './compliance-i18n.ts';

/** The data protection officer's screens: audit log, subject requests, documents, breach register. */

interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  result: string;
  details: Record<string, unknown>;
}

interface ChannelItem {
  id: string;
  kind: string;
  inboxId: string;
  enabled: boolean;
}

interface Breach {
  id: string;
  description: string;
  risk: 'none' | 'risk' | 'high';
  labels: string[];
  discoveredAt: string;
  deadline: string;
  notifiedAt: string | null;
  remainingMs: number | null;
  overdue: boolean;
}

interface Reveal {
  seq: number;
  at: string;
  actor: string;
  label: string | null;
  reason: string | null;
}

const SECTIONS: [string, ComplianceKey][] = [
  ['audit', 'audit'],
  ['dsar', 'dsar'],
  ['documents', 'documents'],
  ['breaches', 'breaches'],
  ['reveals', 'reveals'],
  ['statistics', 'statistics'],
];

export function Compliance({ path }: { path: string }) {
  const ct = useComplianceText();
  const section = path.split('/')[2] ?? 'audit';
  return (
    <div className="admin">
      <SubNav
        base="/compliance"
        current={section}
        label={ct('subnav')}
        items={SECTIONS.map(([key, label]) => ({ key, label: ct(label) }))}
      />
      <div className="admin-body">
        {section === 'dsar' ? (
          <SubjectRequests />
        ) : section === 'documents' ? (
          <Documents />
        ) : section === 'breaches' ? (
          <Breaches />
        ) : section === 'reveals' ? (
          <Reveals />
        ) : section === 'statistics' ? (
          <Statistics />
        ) : (
          <AuditLog />
        )}
      </div>
    </div>
  );
}

function useAction() {
  const ct = useComplianceText();
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const run = useCallback(
    async (fn: () => Promise<string | void>) => {
      try {
        const ok = await fn();
        setMessage(ok ? { kind: 'ok', text: ok } : null);
        return true;
      } catch (e) {
        setMessage({ kind: 'error', text: ct('failed', { m: (e as Error).message }) });
        return false;
      }
    },
    [ct],
  );
  const view = message ? <Notice kind={message.kind}>{message.text}</Notice> : null;
  return { run, view, setMessage };
}

/** Saves a blob under a file name (the browser's download). */
function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A POST whose answer is a file (not JSON): same cookie and CSRF header as the inbox's api(). */
async function postForFile(path: string, body: unknown): Promise<Blob> {
  const session = await get<SessionInfo>('/auth/session');
  const res = await fetch(`/api/v1${path}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
    body: JSON.stringify(body),
  });
  if (!res.ok) {
    const data = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
    throw new Error(data.error?.message ?? `HTTP ${res.status}`);
  }
  return res.blob();
}

function query(params: Record<string, string>): string {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== ''));
  return q.toString();
}

function AuditLog() {
  const ct = useComplianceText();
  const { lang } = useI18n();
  const [filter, setFilter] = useState({ action: '', actor: '', targetId: '', from: '', to: '' });
  const [applied, setApplied] = useState(filter);
  const [items, setItems] = useState<AuditEntry[]>([]);
  const [done, setDone] = useState(false);
  const { run, view, setMessage } = useAction();

  const params = useCallback(
    (f: typeof filter) =>
      query({
        action: f.action,
        actor: f.actor,
        targetId: f.targetId,
        from: f.from ? new Date(f.from).toISOString() : '',
        to: f.to ? new Date(f.to).toISOString() : '',
      }),
    [],
  );
  const load = useCallback(
    async (f: typeof filter, offset: number) => {
      const res = await get<{ items: AuditEntry[] }>(`/compliance/audit?${params(f)}&limit=100&offset=${offset}`);
      setItems((prev) => (offset === 0 ? res.items : [...prev, ...res.items]));
      setDone(res.items.length < 100);
    },
    [params],
  );
  useEffect(() => void run(() => load(applied, 0)), [applied, load, run]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setApplied(filter);
  };
  const verify = () =>
    run(async () => {
      const r = await post<{ ok: boolean; checked: number; firstBroken?: { seq: number; reason: string } }>(
        '/compliance/audit/verify',
      );
      if (r.ok) return ct('verifyOk', { n: r.checked });
      setMessage({
        kind: 'error',
        text: ct('verifyBroken', { seq: r.firstBroken?.seq ?? '?', reason: r.firstBroken?.reason ?? '' }),
      });
    });

  return (
    <div className="stack">
      <h1>{ct('audit')}</h1>
      {view}
      <form className="form filters" onSubmit={submit}>
        <div className="form-grid">
          {(['action', 'actor', 'targetId'] as const).map((k) => (
            <label key={k} className="form-row">
              <span>{ct(k === 'targetId' ? 'target' : k)}</span>
              <input value={filter[k]} onChange={(e) => setFilter({ ...filter, [k]: e.target.value })} />
            </label>
          ))}
          {(['from', 'to'] as const).map((k) => (
            <label key={k} className="form-row">
              <span>{ct(k)}</span>
              <input
                type="datetime-local"
                value={filter[k]}
                onChange={(e) => setFilter({ ...filter, [k]: e.target.value })}
              />
            </label>
          ))}
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary">
            {ct('filter')}
          </button>
          <button type="button" className="btn" onClick={() => void verify()}>
            {ct('verify')}
          </button>
          <a className="btn" href={`/api/v1/compliance/audit.csv?${params(applied)}`} download="sparsam-audit.csv">
            {ct('csv')}
          </a>
        </div>
      </form>
      {items.length === 0 ? (
        <p className="muted">{ct('none')}</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">{ct('time')}</th>
                <th scope="col">{ct('actor')}</th>
                <th scope="col">{ct('action')}</th>
                <th scope="col">{ct('target')}</th>
                <th scope="col">{ct('result')}</th>
                <th scope="col">{ct('details')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((a) => (
                <tr key={a.seq}>
                  <td>{a.seq}</td>
                  <td>{formatTime(a.at, lang)}</td>
                  <td>{a.actor}</td>
                  <td>{a.action}</td>
                  <td>{a.targetId ? `${a.targetType ?? ''} ${a.targetId}` : '–'}</td>
                  <td>{a.result}</td>
                  <td className="small">{JSON.stringify(a.details)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {!done && items.length > 0 ? (
        <button type="button" className="btn" onClick={() => void run(() => load(applied, items.length))}>
          {ct('more')}
        </button>
      ) : null}
    </div>
  );
}

function SubjectRequests() {
  const ct = useComplianceText();
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

  const exportJson = () =>
    run(async () => {
      const blob = await postForFile('/compliance/dsar/export', { ...subject, format: 'json' });
      saveBlob(blob, 'sparsam-auskunft.json');
    });
  const exportHtml = () =>
    run(async () => {
      const blob = await postForFile('/compliance/dsar/export', { ...subject, format: 'html', lang: form.lang });
      saveBlob(new Blob([blob], { type: 'text/html' }), `sparsam-auskunft-${form.lang}.html`);
    });
  const erase = (e: FormEvent) => {
    e.preventDefault();
    if (!window.confirm(ct('eraseConfirm'))) return;
    void run(async () => {
      const { receipt } = await post<{
        receipt: { label: string | null; targetId: string; counts: Record<string, number>; auditSeq: number };
      }>('/compliance/dsar/erase', { ...subject, reason: form.reason });
      setForm({ ...form, address: '', reason: '' });
      return ct('erased', {
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
      <h1>{ct('dsar')}</h1>
      <p className="muted">{ct('dsarIntro')}</p>
      {view}
      <form className="form" onSubmit={erase}>
        <label className="form-row">
          <span>{ct('channel')}</span>
          <select value={form.channelId} onChange={(e) => setForm({ ...form, channelId: e.target.value })}>
            {channels.map((c) => (
              <option key={c.id} value={c.id}>
                {c.id} ({c.kind})
              </option>
            ))}
          </select>
        </label>
        <label className="form-row">
          <span>{ct('address')}</span>
          <input
            value={form.address}
            autoComplete="off"
            required
            onChange={(e) => setForm({ ...form, address: e.target.value })}
          />
        </label>
        <label className="form-row">
          <span>{ct('summaryLang')}</span>
          <select value={form.lang} onChange={(e) => setForm({ ...form, lang: e.target.value })}>
            <option value="de">Deutsch</option>
            <option value="en">English</option>
          </select>
        </label>
        <div className="form-actions">
          <button type="button" className="btn btn-primary" disabled={!form.address} onClick={() => void exportJson()}>
            {ct('exportJson')}
          </button>
          <button type="button" className="btn" disabled={!form.address} onClick={() => void exportHtml()}>
            {ct('exportHtml')}
          </button>
        </div>
        <label className="form-row">
          <span>{ct('reason')}</span>
          <input value={form.reason} minLength={5} onChange={(e) => setForm({ ...form, reason: e.target.value })} />
        </label>
        <div className="form-actions">
          <button type="submit" className="btn btn-danger" disabled={!form.address || form.reason.trim().length < 5}>
            {ct('erase')}
          </button>
        </div>
      </form>
    </div>
  );
}

function Documents() {
  const ct = useComplianceText();
  const { lang: uiLang } = useI18n();
  const [doc, setDoc] = useState<'ropa' | 'privacy-notice'>('ropa');
  const [lang, setLang] = useState<string>(uiLang);
  const [format, setFormat] = useState('md');
  const [preview, setPreview] = useState('');
  const { run, view } = useAction();
  useEffect(
    () =>
      void run(async () => {
        const res = await fetch(`/api/v1/compliance/${doc}?lang=${lang}&format=md`, { credentials: 'same-origin' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        setPreview(await res.text());
      }),
    [doc, lang, run],
  );
  return (
    <div className="stack">
      <h1>{ct('documents')}</h1>
      {view}
      <div className="form-grid">
        <label className="form-row">
          <span>{ct('documents')}</span>
          <select value={doc} onChange={(e) => setDoc(e.target.value as 'ropa' | 'privacy-notice')}>
            <option value="ropa">{ct('ropa')}</option>
            <option value="privacy-notice">{ct('notice')}</option>
          </select>
        </label>
        <label className="form-row">
          <span>{ct('docLang')}</span>
          <select value={lang} onChange={(e) => setLang(e.target.value)}>
            <option value="de">Deutsch</option>
            <option value="en">English</option>
          </select>
        </label>
        <label className="form-row">
          <span>{ct('format')}</span>
          <select value={format} onChange={(e) => setFormat(e.target.value)}>
            <option value="md">Markdown</option>
            <option value="html">HTML</option>
            <option value="pdf">PDF</option>
          </select>
        </label>
      </div>
      <div className="form-actions">
        <a className="btn btn-primary" href={`/api/v1/compliance/${doc}?lang=${lang}&format=${format}`} download>
          {ct('download')}
        </a>
      </div>
      <pre className="pre">{preview}</pre>
    </div>
  );
}

function Breaches() {
  const ct = useComplianceText();
  const { lang } = useI18n();
  const [items, setItems] = useState<Breach[]>([]);
  const [, setTick] = useState(0);
  const [form, setForm] = useState({ description: '', risk: 'risk', labels: '', discoveredAt: '' });
  const { run, view } = useAction();
  const load = useCallback(async () => {
    setItems((await get<{ items: Breach[] }>('/compliance/breaches')).items);
  }, []);
  useEffect(() => void run(load), [load, run]);
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), 60_000);
    return () => clearInterval(timer);
  }, []);

  const record = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await post('/compliance/breaches', {
        description: form.description,
        risk: form.risk,
        labels: form.labels
          .split(',')
          .map((l) => l.trim())
          .filter(Boolean),
        discoveredAt: new Date(form.discoveredAt || Date.now()).toISOString(),
      });
      setForm({ description: '', risk: 'risk', labels: '', discoveredAt: '' });
      await load();
      return ct('saved');
    });
  };
  const markNotified = (id: string) =>
    run(async () => {
      await patch(`/compliance/breaches/${id}`, { notifiedAt: new Date().toISOString() });
      await load();
      return ct('saved');
    });
  const riskKey: Record<Breach['risk'], ComplianceKey> = { none: 'riskNone', risk: 'riskRisk', high: 'riskHigh' };

  return (
    <div className="stack">
      <h1>{ct('breaches')}</h1>
      {view}
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{ct('discoveredAt')}</th>
              <th scope="col">{ct('description')}</th>
              <th scope="col">{ct('risk')}</th>
              <th scope="col">{ct('deadline')}</th>
              <th scope="col">{ct('notifiedAt')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((b) => {
              const left = new Date(b.deadline).getTime() - Date.now();
              return (
                <tr key={b.id} className={!b.notifiedAt && left < 0 ? 'error' : undefined}>
                  <td>{formatTime(b.discoveredAt, lang)}</td>
                  <td>
                    {b.description}
                    {b.labels.length > 0 ? <div className="small muted">{b.labels.join(', ')}</div> : null}
                  </td>
                  <td>{ct(riskKey[b.risk])}</td>
                  <td>
                    {formatTime(b.deadline, lang)}
                    <div className="small">
                      {b.notifiedAt
                        ? ct('notified', { d: formatDate(b.notifiedAt, lang) })
                        : left < 0
                          ? ct('overdue')
                          : ct('remaining', { h: Math.floor(left / 3_600_000) })}
                    </div>
                  </td>
                  <td>
                    {b.notifiedAt ? (
                      formatDate(b.notifiedAt, lang)
                    ) : (
                      <button type="button" className="btn btn-small" onClick={() => void markNotified(b.id)}>
                        {ct('markNotified')}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <form className="form card" onSubmit={record}>
        <h2>{ct('breachNew')}</h2>
        <label className="form-row">
          <span>{ct('description')}</span>
          <textarea
            value={form.description}
            required
            minLength={3}
            onChange={(e) => setForm({ ...form, description: e.target.value })}
          />
        </label>
        <label className="form-row">
          <span>{ct('risk')}</span>
          <select value={form.risk} onChange={(e) => setForm({ ...form, risk: e.target.value })}>
            <option value="none">{ct('riskNone')}</option>
            <option value="risk">{ct('riskRisk')}</option>
            <option value="high">{ct('riskHigh')}</option>
          </select>
        </label>
        <label className="form-row">
          <span>{ct('labels')}</span>
          <input value={form.labels} onChange={(e) => setForm({ ...form, labels: e.target.value })} />
        </label>
        <label className="form-row">
          <span>{ct('discoveredAt')}</span>
          <input
            type="datetime-local"
            value={form.discoveredAt}
            onChange={(e) => setForm({ ...form, discoveredAt: e.target.value })}
          />
        </label>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary">
            {ct('record')}
          </button>
        </div>
      </form>
    </div>
  );
}

function Reveals() {
  const ct = useComplianceText();
  const { lang } = useI18n();
  const [items, setItems] = useState<Reveal[]>([]);
  const { run, view } = useAction();
  useEffect(() => void run(async () => setItems((await get<{ items: Reveal[] }>('/compliance/reveals')).items)), [run]);
  return (
    <div className="stack">
      <h1>{ct('reveals')}</h1>
      {view}
      {items.length === 0 ? (
        <p className="muted">{ct('none')}</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{ct('time')}</th>
                <th scope="col">{ct('actor')}</th>
                <th scope="col">{ct('target')}</th>
                <th scope="col">{ct('reasonCol')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.seq}>
                  <td>{formatTime(r.at, lang)}</td>
                  <td>{r.actor}</td>
                  <td>{r.label ?? '–'}</td>
                  <td>{r.reason ?? '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

interface Stats {
  conversations: { started: number; waitingForConsent: number; open: number; closed: number };
  messages: { inbound: number; staffReplies: number; otherOutbound: number; notes: number };
  firstResponseMinutes: { conversations: number; median: number | null; p90: number | null };
  consent: { serviceGranted: number; serviceWithdrawn: number };
  erasures: { conversations: number; contacts: number };
  days: { day: string; conversations: number; inbound: number }[];
}

function Statistics() {
  const ct = useComplianceText();
  const [days, setDays] = useState(30);
  const [stats, setStats] = useState<Stats | null>(null);
  const { run, view } = useAction();
  useEffect(
    () =>
      void run(async () => {
        const to = new Date();
        const from = new Date(to.getTime() - days * 86_400_000);
        setStats(await get<Stats>(`/statistics?${query({ from: from.toISOString(), to: to.toISOString() })}`));
      }),
    [days, run],
  );
  const minutes = (m: number | null) => (m === null ? '–' : ct('statsMinutes', { m }));
  const max = Math.max(1, ...(stats?.days.map((d) => d.inbound) ?? [1]));
  return (
    <div className="stack">
      <h1>{ct('statistics')}</h1>
      <p className="muted">{ct('statsIntro')}</p>
      {view}
      <label className="form-row">
        <span>{ct('statsDay')}</span>
        <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
          {[7, 30, 90, 365].map((n) => (
            <option key={n} value={n}>
              {ct('statsPeriod', { n })}
            </option>
          ))}
        </select>
      </label>
      {stats ? (
        <>
          <dl className="facts">
            <dt>{ct('statsStarted')}</dt>
            <dd>
              {stats.conversations.started} ({ct('statsOpen')} {stats.conversations.open}, {ct('statsWaiting')}{' '}
              {stats.conversations.waitingForConsent})
            </dd>
            <dt>{ct('statsInbound')}</dt>
            <dd>{stats.messages.inbound}</dd>
            <dt>{ct('statsReplies')}</dt>
            <dd>{stats.messages.staffReplies}</dd>
            <dt>{ct('statsOther')}</dt>
            <dd>{stats.messages.otherOutbound}</dd>
            <dt>{ct('statsFirstResponse')}</dt>
            <dd>
              {minutes(stats.firstResponseMinutes.median)} / {minutes(stats.firstResponseMinutes.p90)}
            </dd>
            <dt>{ct('statsConsent')}</dt>
            <dd>
              {stats.consent.serviceGranted} / {stats.consent.serviceWithdrawn}
            </dd>
            <dt>{ct('statsErased')}</dt>
            <dd>{stats.erasures.conversations}</dd>
          </dl>
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">{ct('statsDay')}</th>
                  <th scope="col">{ct('statsStarted')}</th>
                  <th scope="col">{ct('statsInbound')}</th>
                </tr>
              </thead>
              <tbody>
                {stats.days
                  .filter((d) => d.inbound > 0 || d.conversations > 0)
                  .map((d) => (
                    <tr key={d.day}>
                      <td>{d.day}</td>
                      <td>{d.conversations}</td>
                      <td>
                        <span
                          aria-hidden="true"
                          style={{
                            display: 'inline-block',
                            width: `${Math.round((d.inbound / max) * 120)}px`,
                            height: '0.7em',
                            background: 'currentColor',
                            opacity: 0.35,
                            marginRight: '0.5em',
                          }}
                        />
                        {d.inbound}
                      </td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </div>
  );
}
