import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { call, type WebhookDelivery, type WebhookEndpoint, type WebhookEventType, type LegalBasis } from '../api.ts';
import { useI18n, type Translate } from '../i18n/i18n.tsx';
import type { MessageKey } from '../i18n/messages.de.ts';
import { linkHandler } from '../router.ts';
import { CopyButton } from '../shared/CopyButton.tsx';
import { Notice } from '../shared/Notice.tsx';
import { useAction } from '../shared/use-action.tsx';

const LEGAL_BASES: readonly LegalBasis[] = ['art6-1a', 'art6-1b', 'art6-1c', 'art6-1d', 'art6-1e', 'art6-1f'];

interface Draft {
  name: string;
  url: string;
  inboxId: string;
  events: WebhookEventType[];
  allowPrivateTarget: boolean;
  includeContent: boolean;
  legalBasis: LegalBasis | '';
  legalBasisNote: string;
}

const EMPTY: Draft = {
  name: '',
  url: 'https://',
  inboxId: '',
  events: ['conversation.opened', 'message.received'],
  allowPrivateTarget: false,
  includeContent: false,
  legalBasis: '',
  legalBasisNote: '',
};

function draftOf(e: WebhookEndpoint): Draft {
  return {
    name: e.name,
    url: e.url,
    inboxId: e.inboxId ?? '',
    events: e.events,
    allowPrivateTarget: e.allowPrivateTarget,
    includeContent: e.includeContent,
    legalBasis: e.legalBasis ?? '',
    legalBasisNote: e.legalBasisNote ?? '',
  };
}

function eventLabel(t: Translate, type: string): string {
  return t(`webhooks.event.${type}` as MessageKey);
}

/** The banner on every admin screen while an endpoint is paused after persistent failure (the admins' notice). */
export function WebhookPausedBanner() {
  const { t } = useI18n();
  const [paused, setPaused] = useState<string[]>([]);
  useEffect(() => {
    let live = true;
    call('GET /admin/webhooks')
      .then((r) => {
        if (live) setPaused(r.items.filter((e) => e.pausedReason === 'failures').map((e) => e.name));
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);
  if (paused.length === 0) return null;
  return (
    <p className="banner banner-warn" role="alert">
      {t('webhooks.bannerPaused', { n: paused.length, names: paused.join(', ') })}{' '}
      <a href="/admin/webhooks" onClick={linkHandler('/admin/webhooks')}>
        {t('webhooks.bannerLink')}
      </a>
    </p>
  );
}

/** Outgoing webhooks: endpoints per inbox, events, content permission with legal basis, secrets, test, log. */
export function Webhooks() {
  const { t, formatDateTime } = useI18n();
  const [items, setItems] = useState<WebhookEndpoint[]>([]);
  // The event types in the server's order (the list endpoint names them): no third copy of the list here.
  const [eventTypes, setEventTypes] = useState<WebhookEventType[]>([]);
  const [inboxes, setInboxes] = useState<string[]>([]);
  const [editing, setEditing] = useState<WebhookEndpoint | null>(null);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [secret, setSecret] = useState<{ name: string; value: string } | null>(null);
  const [logs, setLogs] = useState<Record<string, WebhookDelivery[]>>({});
  const [tests, setTests] = useState<Record<string, WebhookDelivery | 'busy'>>({});
  const { run, view } = useAction();

  const load = useCallback(async () => {
    const r = await call('GET /admin/webhooks');
    setItems(r.items);
    setEventTypes(r.eventTypes);
  }, []);
  useEffect(() => {
    void load();
    void call('GET /admin/inboxes')
      .then((r) => setInboxes(r.items.map((i) => i.id)))
      .catch(() => undefined);
  }, [load]);

  const body = () => ({
    name: draft.name,
    url: draft.url,
    inboxId: draft.inboxId || null,
    events: draft.events,
    allowPrivateTarget: draft.allowPrivateTarget,
    includeContent: draft.includeContent,
    legalBasis: draft.includeContent && draft.legalBasis ? draft.legalBasis : null,
    legalBasisNote: draft.includeContent ? draft.legalBasisNote : null,
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      if (editing) {
        await call('PUT /admin/webhooks/:id', { params: { id: editing.id }, body: body() });
      } else {
        const created = await call('POST /admin/webhooks', { body: body() });
        setSecret({ name: created.endpoint.name, value: created.secret });
      }
      setEditing(null);
      setDraft(EMPTY);
      await load();
    }, t('saved'));
  };

  const showLog = async (id: string) => {
    if (logs[id]) {
      setLogs(({ [id]: _drop, ...rest }) => rest);
      return;
    }
    await run(async () => {
      const r = await call('GET /admin/webhooks/:id/deliveries', { params: { id }, query: { limit: 50 } });
      setLogs((l) => ({ ...l, [id]: r.items }));
    });
  };

  const test = async (id: string) => {
    setTests((r) => ({ ...r, [id]: 'busy' }));
    const ok = await run(async () => {
      const r = await call('POST /admin/webhooks/:id/test', { params: { id } });
      setTests((x) => ({ ...x, [id]: r.delivery }));
      if (logs[id]) {
        const log = await call('GET /admin/webhooks/:id/deliveries', { params: { id }, query: { limit: 50 } });
        setLogs((l) => ({ ...l, [id]: log.items }));
      }
    });
    if (!ok) setTests(({ [id]: _drop, ...rest }) => rest);
  };

  const toggleEvent = (type: WebhookEventType, on: boolean) =>
    setDraft((d) => ({
      ...d,
      events: on ? eventTypes.filter((x) => x === type || d.events.includes(x)) : d.events.filter((x) => x !== type),
    }));

  const failing = items.filter((e) => e.pausedReason === 'failures');

  return (
    <div className="stack">
      <h1>{t('webhooks.title')}</h1>
      <p className="muted">{t('webhooks.intro')}</p>
      {failing.length > 0 && (
        <p className="banner banner-warn" role="alert">
          {t('webhooks.bannerPaused', { n: failing.length, names: failing.map((e) => e.name).join(', ') })}
        </p>
      )}
      {view}
      {secret && (
        <section className="card secret-card" aria-labelledby="wh-secret">
          <h2 id="wh-secret">{t('webhooks.secretTitle', { name: secret.name })}</h2>
          <p>{t('webhooks.secretOnce')}</p>
          <p>
            <code className="break">{secret.value}</code> <CopyButton value={secret.value} />
          </p>
          <button type="button" className="btn btn-small" onClick={() => setSecret(null)}>
            {t('webhooks.secretDone')}
          </button>
        </section>
      )}
      {items.length === 0 && <p className="muted">{t('webhooks.none')}</p>}
      {items.map((e) => {
        const result = tests[e.id];
        const log = logs[e.id];
        return (
          <section key={e.id} className="card webhook-card" aria-labelledby={`wh-${e.id}`}>
            <div className="card-head">
              <h2 id={`wh-${e.id}`}>
                {e.name}{' '}
                <span className={`chip ${e.state === 'paused' ? 'chip-warn' : 'chip-label'}`}>
                  {e.state === 'active'
                    ? t('webhooks.stateActive')
                    : e.pausedReason === 'failures'
                      ? t('webhooks.statePausedFailures')
                      : t('webhooks.statePaused')}
                </span>
              </h2>
            </div>
            <dl className="facts">
              <dt>{t('webhooks.url')}</dt>
              <dd>
                <code className="break">{e.url}</code>
              </dd>
              <dt>{t('inbox')}</dt>
              <dd>{e.inboxId ?? t('webhooks.allInboxes')}</dd>
              <dt>{t('webhooks.events')}</dt>
              <dd className="chips">
                {e.events.map((type) => (
                  <span key={type} className="chip" title={type}>
                    {eventLabel(t, type)}
                  </span>
                ))}
              </dd>
              <dt>{t('webhooks.content')}</dt>
              <dd>
                {e.includeContent
                  ? t('webhooks.contentOn', { basis: t(`webhooks.basis.${e.legalBasis ?? 'art6-1f'}` as MessageKey) })
                  : t('webhooks.contentOff')}
              </dd>
              {e.allowPrivateTarget && (
                <>
                  <dt>{t('webhooks.target')}</dt>
                  <dd>{t('webhooks.privateAllowed')}</dd>
                </>
              )}
              <dt>{t('webhooks.health')}</dt>
              <dd>
                {e.failingSince
                  ? t('webhooks.failingSince', { n: e.consecutiveFailures, since: formatDateTime(e.failingSince) })
                  : e.lastSuccessAt
                    ? t('webhooks.lastSuccess', { at: formatDateTime(e.lastSuccessAt) })
                    : t('webhooks.noDeliveries')}
              </dd>
              {e.secretRotatedUntil && (
                <>
                  <dt>{t('webhooks.secret')}</dt>
                  <dd>{t('webhooks.rotatedUntil', { at: formatDateTime(e.secretRotatedUntil) })}</dd>
                </>
              )}
            </dl>
            <div className="row wrap">
              <button type="button" className="btn" onClick={() => void test(e.id)} disabled={result === 'busy'}>
                {result === 'busy' ? t('testing') : t('webhooks.test')}
              </button>
              <button
                type="button"
                className="btn"
                onClick={() => (setEditing(e), setDraft(draftOf(e)), setSecret(null))}
              >
                {t('edit')}
              </button>
              <button
                type="button"
                className="btn"
                onClick={() =>
                  void run(async () => {
                    if (e.state === 'active') await call('POST /admin/webhooks/:id/pause', { params: { id: e.id } });
                    else await call('POST /admin/webhooks/:id/resume', { params: { id: e.id } });
                    await load();
                  })
                }
              >
                {e.state === 'active' ? t('webhooks.pause') : t('webhooks.resume')}
              </button>
              <button
                type="button"
                className="btn"
                onClick={() => {
                  if (!window.confirm(t('webhooks.rotateConfirm'))) return;
                  void run(async () => {
                    const r = await call('POST /admin/webhooks/:id/rotate-secret', { params: { id: e.id } });
                    setSecret({ name: r.endpoint.name, value: r.secret });
                    await load();
                  });
                }}
              >
                {t('webhooks.rotate')}
              </button>
              <button type="button" className="btn" aria-expanded={Boolean(log)} onClick={() => void showLog(e.id)}>
                {log ? t('webhooks.hideLog') : t('webhooks.showLog')}
              </button>
              <button
                type="button"
                className="btn btn-danger-outline"
                onClick={() => {
                  if (!window.confirm(t('webhooks.deleteConfirm', { name: e.name }))) return;
                  void run(async () => {
                    await call('DELETE /admin/webhooks/:id', { params: { id: e.id } });
                    await load();
                  });
                }}
              >
                {t('delete')}
              </button>
            </div>
            {result && result !== 'busy' && (
              <Notice kind={result.state === 'delivered' ? 'ok' : 'error'}>
                {result.state === 'delivered'
                  ? t('webhooks.testOk', { status: result.statusCode ?? 0, ms: result.durationMs ?? 0 })
                  : t('webhooks.testFailed', { reason: result.error ?? `HTTP ${result.statusCode ?? '?'}` })}
              </Notice>
            )}
            {log && (
              <div className="table-wrap">
                <table className="table">
                  <caption className="sr-only">{t('webhooks.logCaption', { name: e.name })}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('webhooks.logTime')}</th>
                      <th scope="col">{t('webhooks.logEvent')}</th>
                      <th scope="col">{t('webhooks.logState')}</th>
                      <th scope="col">{t('webhooks.logStatus')}</th>
                      <th scope="col">{t('webhooks.logAttempts')}</th>
                      <th scope="col">{t('webhooks.logDuration')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {log.length === 0 && (
                      <tr>
                        <td colSpan={6} className="muted">
                          {t('webhooks.logEmpty')}
                        </td>
                      </tr>
                    )}
                    {log.map((d) => (
                      <tr key={d.id}>
                        <td>{formatDateTime(d.updatedAt)}</td>
                        <td>
                          <code>{d.eventType}</code>
                        </td>
                        <td>{t(`webhooks.delivery.${d.state}` as MessageKey)}</td>
                        <td>{d.statusCode ?? d.error ?? '–'}</td>
                        <td>{d.attempts}</td>
                        <td>{d.durationMs === null ? '–' : `${d.durationMs} ms`}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        );
      })}

      <form className="card form-grid webhook-form" onSubmit={submit}>
        <h2>{editing ? t('webhooks.editTitle', { name: editing.name }) : t('webhooks.addTitle')}</h2>
        <div className="form-row">
          <label htmlFor="wh-name">{t('webhooks.name')}</label>
          <input
            id="wh-name"
            required
            maxLength={80}
            value={draft.name}
            onChange={(e) => setDraft({ ...draft, name: e.target.value })}
          />
        </div>
        <div className="form-row">
          <label htmlFor="wh-url">{t('webhooks.url')}</label>
          <input
            id="wh-url"
            type="url"
            required
            value={draft.url}
            onChange={(e) => setDraft({ ...draft, url: e.target.value })}
          />
        </div>
        <div className="form-row">
          <label htmlFor="wh-inbox">{t('inbox')}</label>
          <select id="wh-inbox" value={draft.inboxId} onChange={(e) => setDraft({ ...draft, inboxId: e.target.value })}>
            <option value="">{t('webhooks.allInboxes')}</option>
            {inboxes.map((id) => (
              <option key={id} value={id}>
                {id}
              </option>
            ))}
          </select>
        </div>
        <label className="check">
          <input
            type="checkbox"
            checked={draft.allowPrivateTarget}
            onChange={(e) => setDraft({ ...draft, allowPrivateTarget: e.target.checked })}
          />
          {t('webhooks.allowPrivate')}
        </label>
        <fieldset>
          <legend>{t('webhooks.events')}</legend>
          {eventTypes.map((type) => (
            <label key={type} className="check check-event">
              <input
                type="checkbox"
                checked={draft.events.includes(type)}
                onChange={(e) => toggleEvent(type, e.target.checked)}
              />
              <span>
                {eventLabel(t, type)} <code className="muted">{type}</code>
              </span>
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>{t('webhooks.content')}</legend>
          <p className="muted wide-field">{t('webhooks.contentHint')}</p>
          <label className="check">
            <input
              type="checkbox"
              checked={draft.includeContent}
              onChange={(e) => setDraft({ ...draft, includeContent: e.target.checked })}
            />
            {t('webhooks.includeContent')}
          </label>
          {draft.includeContent && (
            <>
              <div className="form-row wide-field">
                <label htmlFor="wh-basis">{t('webhooks.legalBasis')}</label>
                <select
                  id="wh-basis"
                  required
                  value={draft.legalBasis}
                  onChange={(e) => setDraft({ ...draft, legalBasis: e.target.value as LegalBasis | '' })}
                >
                  <option value="">{t('webhooks.chooseBasis')}</option>
                  {LEGAL_BASES.map((b) => (
                    <option key={b} value={b}>
                      {t(`webhooks.basis.${b}` as MessageKey)}
                    </option>
                  ))}
                </select>
              </div>
              <div className="form-row wide-field">
                <label htmlFor="wh-note">{t('webhooks.legalBasisNote')}</label>
                <textarea
                  id="wh-note"
                  required
                  minLength={10}
                  maxLength={1000}
                  rows={3}
                  value={draft.legalBasisNote}
                  onChange={(e) => setDraft({ ...draft, legalBasisNote: e.target.value })}
                />
              </div>
            </>
          )}
        </fieldset>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={draft.events.length === 0}>
            {editing ? t('save') : t('webhooks.add')}
          </button>
          {editing && (
            <button type="button" className="btn" onClick={() => (setEditing(null), setDraft(EMPTY))}>
              {t('cancel')}
            </button>
          )}
        </div>
      </form>
    </div>
  );
}
