import { useCallback, useEffect, useState } from 'react';
import { call, get, post, put, type ChannelBalance, type ChannelInfo } from '../api.ts';
import {
  ChannelCreated,
  ChannelEditor,
  RemoveChannelDialog,
  type ChannelDetail,
  type ChannelKindForm,
  type CreatedChannel,
} from './ChannelForm.tsx';
import { useI18n, type Translate } from '../i18n/i18n.tsx';
import { errorText } from '../shared/error-text.ts';
import { CopyButton } from '../shared/CopyButton.tsx';
import { Notice } from '../shared/Notice.tsx';
import { useAction } from '../shared/use-action.tsx';
import { WebchatSettings } from './WebchatSettings.tsx';
import { WhatsAppAccount } from './WhatsAppAccount.tsx';

interface ChannelCheck {
  ok: boolean;
  detail: string;
  reason?: 'connected' | 'refused' | 'timeout' | 'unreachable' | 'unsupported';
  name?: string;
  httpStatus?: number;
}

function checkText(r: ChannelCheck, t: Translate): string {
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

/** The credits left at a provider that bills per message (Threema), with a warning below the threshold. */
function Balance({ channelId }: { channelId: string }) {
  const { t } = useI18n();
  const [balance, setBalance] = useState<ChannelBalance | 'failed' | undefined>();
  useEffect(() => {
    let live = true;
    get<ChannelBalance>(`/admin/channels/${channelId}/balance`)
      .then((b) => live && setBalance(b))
      .catch(() => live && setBalance('failed'));
    return () => {
      live = false;
    };
  }, [channelId]);
  if (balance === undefined) return <dd className="muted">{t('balanceLoading')}</dd>;
  if (balance === 'failed' || balance.credits === null) {
    return (
      <dd>
        <Notice kind="error">{t('balanceUnknown')}</Notice>
      </dd>
    );
  }
  return (
    <dd>
      <span data-testid={`credits-${channelId}`}>{t('balanceCredits', { n: balance.credits })}</span>
      {balance.low && <Notice kind="error">{t('balanceLow', { n: balance.credits, min: balance.warnBelow })}</Notice>}
    </dd>
  );
}

/** A channel as the configuration file declares it (docs/channels.md lists every kind). */
const CHANNEL_EXAMPLE = `channels:
  - id: wa-main
    kind: whatsapp-cloud
    inbox: service
    phoneNumberId: "1065…"
    accessToken: env:WA_TOKEN
    appSecret: env:WA_SECRET
    verifyToken: env:WA_VERIFY`;

/**
 * The channels: webhook URL to paste at the provider, on/off, a connection test; channels created here can be
 * changed and removed, those declared in the configuration file are read-only.
 */
export function Channels() {
  const { t } = useI18n();
  const [items, setItems] = useState<ChannelInfo[] | null>(null);
  const [results, setResults] = useState<Record<string, ChannelCheck | 'busy'>>({});
  const { run, view } = useAction();
  const [kinds, setKinds] = useState<ChannelKindForm[]>([]);
  const [inboxes, setInboxes] = useState<string[]>([]);
  /** The editor: closed, a new channel, or the channel being changed. */
  const [editing, setEditing] = useState<'new' | ChannelDetail | null>(null);
  const [created, setCreated] = useState<CreatedChannel | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const load = useCallback(async () => {
    const [list, forms] = await Promise.all([
      get<{ items: ChannelInfo[] }>('/admin/channels'),
      call('GET /admin/channel-kinds'),
    ]);
    setItems(list.items);
    setKinds(forms.items);
  }, []);
  useEffect(() => void load(), [load]);
  const openEditor = async (target: 'new' | string) => {
    setCreated(null);
    setInboxes((await call('GET /admin/inboxes')).items.map((x) => x.id));
    setEditing(target === 'new' ? 'new' : await call('GET /admin/channels/:id', { params: { id: target } }));
  };
  const test = async (id: string) => {
    setResults((r) => ({ ...r, [id]: 'busy' }));
    const res = await post<{ ok: boolean; detail: string }>(`/admin/channels/${id}/test`).catch((e: unknown) => ({
      ok: false,
      detail: errorText(e, t),
    }));
    setResults((r) => ({ ...r, [id]: res }));
  };
  return (
    <div className="stack">
      <div className="card-head">
        <h1>{t('adminChannels')}</h1>
        {!editing && (
          <button type="button" className="btn btn-primary" onClick={() => void run(() => openEditor('new'))}>
            {t('channelAdd')}
          </button>
        )}
      </div>
      {view}
      {items?.length === 0 && !editing && !created && (
        <section className="card" aria-labelledby="ch-none">
          <h2 id="ch-none">{t('channelsNone')}</h2>
          <p>{t('channelsNoneHow')}</p>
          <pre className="pre">
            <code>{CHANNEL_EXAMPLE}</code>
          </pre>
          <p className="muted small">{t('channelsNoneMore')}</p>
        </section>
      )}
      {editing && (
        <ChannelEditor
          kinds={kinds}
          inboxes={inboxes}
          {...(editing !== 'new' ? { existing: editing } : {})}
          onCancel={() => setEditing(null)}
          onSaved={(result) => {
            setEditing(null);
            if (result) setCreated(result);
            void run(load, result ? undefined : t('saved'));
          }}
        />
      )}
      {created && (
        <ChannelCreated
          created={created}
          kind={kinds.find((k) => k.kind === created.kind)}
          onClose={() => setCreated(null)}
        />
      )}
      {removing && (
        <RemoveChannelDialog
          channelId={removing}
          onCancel={() => setRemoving(null)}
          onRemoved={(result) => {
            setRemoving(null);
            void run(
              load,
              t('channelRemoved', { contacts: result.contactsErased, conversations: result.conversationsErased }),
            );
          }}
        />
      )}
      {(items ?? []).map((c) => {
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
              {/* The website chat has no provider calling a webhook: its embed code is below. */}
              {c.kind !== 'webchat' && (
                <>
                  <dt>{t('webhookUrl')}</dt>
                  <dd>
                    <code className="break">{c.webhookUrl}</code> <CopyButton value={c.webhookUrl} />
                  </dd>
                </>
              )}
              {c.verifyTokenHint && (
                <>
                  <dt>{t('verifyToken')}</dt>
                  <dd>{t('verifyTokenHint', { h: c.verifyTokenHint })}</dd>
                </>
              )}
              {c.hasBalance && (
                <>
                  <dt>{t('balance')}</dt>
                  <Balance channelId={c.id} />
                </>
              )}
              <dt>{t('inbox')}</dt>
              <dd>{c.inboxId}</dd>
              <dt>{t('source')}</dt>
              <dd>{c.source === 'config' ? t('sourceConfig') : t('sourceUi')}</dd>
            </dl>
            {c.kind === 'webchat' ? (
              <WebchatSettings channelId={c.id} />
            ) : (
              <div className="row">
                <button type="button" className="btn" onClick={() => void test(c.id)} disabled={r === 'busy'}>
                  {r === 'busy' ? t('testing') : t('testConnection')}
                </button>
                {kinds.find((k) => k.kind === c.kind)?.registersWebhook && (
                  <button
                    type="button"
                    className="btn"
                    onClick={() =>
                      void run(async () => {
                        const { url } = await call('POST /admin/channels/:id/register-webhook', {
                          params: { id: c.id },
                        });
                        return t('webhookRegistered', { url });
                      })
                    }
                  >
                    {t('registerWebhook')}
                  </button>
                )}
                {c.source === 'ui' && (
                  <>
                    <button type="button" className="btn" onClick={() => void run(() => openEditor(c.id))}>
                      {t('edit')}
                    </button>
                    <button type="button" className="btn btn-danger-outline" onClick={() => setRemoving(c.id)}>
                      {t('channelRemove')}
                    </button>
                  </>
                )}
                {r && r !== 'busy' && <Notice kind={r.ok ? 'ok' : 'error'}>{checkText(r, t)}</Notice>}
              </div>
            )}
            {(c.kind === 'whatsapp-cloud' || c.kind === 'dialog360') && <WhatsAppAccount channelId={c.id} />}
          </section>
        );
      })}
    </div>
  );
}
