import { useCallback, useEffect, useState } from 'react';
import { get, post, put, type ChannelInfo } from '../api.ts';
import { useI18n, type Translate } from '../i18n/i18n.tsx';
import { errorText } from '../shared/error-text.ts';
import { CopyButton } from '../shared/CopyButton.tsx';
import { Notice } from '../shared/Notice.tsx';
import { useAction } from '../shared/use-action.tsx';
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

/** The channels: webhook URL to paste at the provider, on/off, and a connection test. */
export function Channels() {
  const { t } = useI18n();
  const [items, setItems] = useState<ChannelInfo[]>([]);
  const [results, setResults] = useState<Record<string, ChannelCheck | 'busy'>>({});
  const { run, view } = useAction();
  const load = useCallback(async () => setItems((await get<{ items: ChannelInfo[] }>('/admin/channels')).items), []);
  useEffect(() => void load(), [load]);
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
            {c.kind === 'whatsapp-cloud' && <WhatsAppAccount channelId={c.id} />}
          </section>
        );
      })}
    </div>
  );
}
