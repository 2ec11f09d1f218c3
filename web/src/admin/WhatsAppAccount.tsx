import { useCallback, useEffect, useState, type FormEvent } from 'react';
import {
  del,
  get,
  post,
  upload,
  type BusinessProfileView,
  type ChannelHealthView,
  type ChannelTemplate,
  type TemplateButton,
} from '../api.ts';
import { useI18n, type Translate } from '../i18n/i18n.tsx';
import type { MessageKey } from '../i18n/messages.de.ts';
import { errorText } from '../shared/error-text.ts';
import { Notice } from '../shared/Notice.tsx';
import { TemplatePreview } from '../shared/TemplatePreview.tsx';
import { reasonText } from '../shared/wa-health-text.ts';

/** Account health, templates and business profile of a WhatsApp Cloud API channel (admin screen). */
export function WhatsAppAccount({ channelId }: { channelId: string }) {
  const { t } = useI18n();
  return (
    <div className="wa-account stack">
      <Health channelId={channelId} t={t} />
      <details className="wa-section">
        <summary>{t('wa.templates')}</summary>
        <Templates channelId={channelId} t={t} />
      </details>
      <details className="wa-section">
        <summary>{t('wa.profile')}</summary>
        <Profile channelId={channelId} t={t} />
      </details>
    </div>
  );
}

function Health({ channelId, t }: { channelId: string; t: Translate }) {
  const [health, setHealth] = useState<ChannelHealthView | null>(null);
  useEffect(() => {
    get<ChannelHealthView>(`/admin/channels/${channelId}/whatsapp/health`)
      .then(setHealth)
      .catch(() => setHealth(null));
  }, [channelId]);
  if (!health) return null;
  return (
    <section aria-label={t('wa.health')} className={health.needsAttention ? 'wa-health wa-health-bad' : 'wa-health'}>
      <h3>{t('wa.health')}</h3>
      {health.needsAttention ? (
        <Notice kind="error">{health.reasons.map((r) => reasonText(r, t)).join(' · ')}</Notice>
      ) : (
        <p className="muted">{health.updatedAt ? t('wa.healthGood') : t('wa.healthNone')}</p>
      )}
      <dl className="facts">
        <dt>{t('wa.quality')}</dt>
        <dd>
          {health.qualityRating ?? '–'}
          {health.qualityEvent ? ` (${health.qualityEvent})` : ''}
        </dd>
        <dt>{t('wa.limit')}</dt>
        <dd>{health.messagingLimit ?? '–'}</dd>
        {health.violationType && (
          <>
            <dt>{t('wa.violation')}</dt>
            <dd>{health.violationType}</dd>
          </>
        )}
        {health.banState && (
          <>
            <dt>{t('wa.ban')}</dt>
            <dd>{health.banState}</dd>
          </>
        )}
        {health.restrictions.length > 0 && (
          <>
            <dt>{t('wa.restrictions')}</dt>
            <dd>
              {health.restrictions
                .map((r) => (r.expiresAt ? `${r.type} (${t('wa.until', { d: r.expiresAt.slice(0, 10) })})` : r.type))
                .join(', ')}
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}

const STATUS_CLASS: Record<string, string> = {
  APPROVED: 'chip-ok',
  REJECTED: 'chip-bad',
  DISABLED: 'chip-bad',
  PAUSED: 'chip-warn',
  PENDING: 'chip-warn',
};

/** Template states that change by themselves (Meta's review), so the list is refreshed while one is shown. */
const UNDER_REVIEW = new Set(['PENDING', 'SUBMITTED', 'IN_APPEAL', 'PENDING_DELETION']);

function Templates({ channelId, t }: { channelId: string; t: Translate }) {
  const [items, setItems] = useState<ChannelTemplate[] | null>(null);
  const [hasAccount, setHasAccount] = useState(true);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [creating, setCreating] = useState(false);
  const load = useCallback(async () => {
    const r = await get<{ items: ChannelTemplate[]; businessAccount: boolean }>(
      `/admin/channels/${channelId}/whatsapp/templates`,
    );
    setItems(r.items);
    setHasAccount(r.businessAccount);
  }, [channelId]);
  useEffect(() => void load().catch(() => setItems([])), [load]);
  // While Meta reviews a template, its status arrives by webhook: the list (sparsam's own copy, no call to the
  // provider) is read again every 10 seconds until no template is under review.
  const reviewing = (items ?? []).some((x) => UNDER_REVIEW.has(x.status));
  useEffect(() => {
    if (!reviewing) return undefined;
    const timer = setInterval(() => void load().catch(() => undefined), 10_000);
    return () => clearInterval(timer);
  }, [reviewing, load]);
  const sync = async () => {
    setBusy(true);
    try {
      const r = await post<{ items: ChannelTemplate[] }>(`/admin/channels/${channelId}/whatsapp/templates/sync`);
      setItems(r.items);
      setMessage({ kind: 'ok', text: t('wa.synced', { n: r.items.filter((x) => x.status !== 'CONFIGURED').length }) });
    } catch (e) {
      setMessage({ kind: 'error', text: errorText(e, t) });
    } finally {
      setBusy(false);
    }
  };
  const remove = async (name: string) => {
    if (!window.confirm(t('wa.deleteConfirm', { name }))) return;
    try {
      await del(`/admin/channels/${channelId}/whatsapp/templates/${encodeURIComponent(name)}`);
      setMessage({ kind: 'ok', text: t('wa.deleted', { name }) });
      await load();
    } catch (e) {
      setMessage({ kind: 'error', text: errorText(e, t) });
    }
  };
  return (
    <div className="stack">
      {!hasAccount && <Notice kind="info">{t('wa.noAccount')}</Notice>}
      <div className="row">
        <button type="button" className="btn" onClick={() => void sync()} disabled={busy || !hasAccount}>
          {busy ? t('wa.syncing') : t('wa.sync')}
        </button>
        <button type="button" className="btn" onClick={() => setCreating(!creating)} disabled={!hasAccount}>
          {t('wa.newTemplate')}
        </button>
      </div>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {creating && (
        <TemplateForm
          channelId={channelId}
          t={t}
          onDone={async (name) => {
            setCreating(false);
            setMessage({ kind: 'ok', text: t('wa.submitted', { name }) });
            // Meta's review answers by webhook: the list is read again while the template is under review.
            await load();
          }}
        />
      )}
      {items && items.length === 0 && <p className="muted">{t('wa.noTemplates')}</p>}
      <ul className="wa-templates">
        {(items ?? []).map((x) => (
          <li key={`${x.name}|${x.language}`} className="wa-template">
            <div className="wa-template-head">
              <strong>{x.name}</strong> <span className="muted">{x.language}</span>{' '}
              <span className="chip">{x.category}</span>{' '}
              <span className={`chip ${STATUS_CLASS[x.status] ?? ''}`}>{x.status}</span>
              {x.status !== 'CONFIGURED' && (
                <button
                  type="button"
                  className="btn btn-small btn-danger-outline"
                  onClick={() => void remove(x.name)}
                  aria-label={t('wa.deleteNamed', { name: x.name })}
                >
                  {t('wa.delete')}
                </button>
              )}
            </div>
            {x.reason && <Notice kind="error">{t('wa.rejectedReason', { reason: x.reason })}</Notice>}
            {x.body && (
              <TemplatePreview
                header={x.header ?? undefined}
                body={x.body}
                footer={x.footer ?? undefined}
                buttons={x.buttons}
                values={x.bodyExamples}
              />
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

type HeaderKind = 'NONE' | 'TEXT' | 'IMAGE' | 'DOCUMENT';

function TemplateForm({ channelId, t, onDone }: { channelId: string; t: Translate; onDone(name: string): void }) {
  const [name, setName] = useState('');
  const [language, setLanguage] = useState('de');
  const [category, setCategory] = useState<'UTILITY' | 'MARKETING' | 'AUTHENTICATION'>('UTILITY');
  const [headerKind, setHeaderKind] = useState<HeaderKind>('NONE');
  const [headerText, setHeaderText] = useState('');
  const [headerExample, setHeaderExample] = useState('');
  const [sample, setSample] = useState<File | null>(null);
  const [body, setBody] = useState('');
  const [examples, setExamples] = useState<string[]>([]);
  const [footer, setFooter] = useState('');
  const [buttons, setButtons] = useState<TemplateButton[]>([]);
  const [error, setError] = useState<string | null>(null);
  const count = Math.max(0, ...[...body.matchAll(/\{\{(\d+)\}\}/g)].map((m) => Number(m[1])));
  useEffect(() => setExamples((e) => Array.from({ length: count }, (_, i) => e[i] ?? '')), [count]);
  const headerHasVar = /\{\{1\}\}/.test(headerText);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      let headerSample: { data: string; mimeType: string; fileName: string } | undefined;
      if (headerKind === 'IMAGE' || headerKind === 'DOCUMENT') {
        if (!sample) throw new Error(t('wa.sampleNeeded'));
        const bytes = new Uint8Array(await sample.arrayBuffer());
        let bin = '';
        for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
        headerSample = { data: btoa(bin), mimeType: sample.type, fileName: sample.name };
      }
      await post(`/admin/channels/${channelId}/whatsapp/templates`, {
        name,
        language,
        category,
        ...(headerKind === 'TEXT'
          ? { header: { format: 'TEXT', text: headerText, ...(headerHasVar ? { example: headerExample } : {}) } }
          : headerKind === 'NONE'
            ? {}
            : { header: { format: headerKind }, headerSample }),
        body,
        bodyExamples: examples,
        ...(footer ? { footer } : {}),
        buttons,
      });
      onDone(name);
    } catch (err) {
      setError(err instanceof Error && !('code' in err) ? err.message : errorText(err, t));
    }
  };
  const setButton = (i: number, patch: Partial<TemplateButton>) =>
    setButtons(buttons.map((b, j) => (j === i ? ({ ...b, ...patch } as TemplateButton) : b)));
  return (
    <form className="wa-template-form card stack" onSubmit={submit} aria-label={t('wa.newTemplate')}>
      <div className="wa-form-grid">
        <div className="form-row">
          <label htmlFor={`tn-${channelId}`}>{t('wa.name')}</label>
          <input
            id={`tn-${channelId}`}
            value={name}
            onChange={(e) => setName(e.target.value.toLowerCase().replace(/[^a-z0-9_]/g, '_'))}
            maxLength={512}
            required
          />
          <small className="muted">{t('wa.nameHint')}</small>
        </div>
        <div className="form-row">
          <label htmlFor={`tl-${channelId}`}>{t('wa.language')}</label>
          <input id={`tl-${channelId}`} value={language} onChange={(e) => setLanguage(e.target.value)} required />
        </div>
        <div className="form-row">
          <label htmlFor={`tc-${channelId}`}>{t('wa.category')}</label>
          <select
            id={`tc-${channelId}`}
            value={category}
            onChange={(e) => setCategory(e.target.value as typeof category)}
          >
            <option value="UTILITY">UTILITY</option>
            <option value="MARKETING">MARKETING</option>
            <option value="AUTHENTICATION">AUTHENTICATION</option>
          </select>
        </div>
        <div className="form-row">
          <label htmlFor={`th-${channelId}`}>{t('wa.header')}</label>
          <select
            id={`th-${channelId}`}
            value={headerKind}
            onChange={(e) => setHeaderKind(e.target.value as HeaderKind)}
          >
            <option value="NONE">{t('wa.headerNone')}</option>
            <option value="TEXT">{t('wa.headerText')}</option>
            <option value="IMAGE">{t('wa.headerImage')}</option>
            <option value="DOCUMENT">{t('wa.headerDocument')}</option>
          </select>
        </div>
      </div>
      {headerKind === 'TEXT' && (
        <div className="form-row">
          <label htmlFor={`tht-${channelId}`}>{t('wa.headerText')}</label>
          <input
            id={`tht-${channelId}`}
            value={headerText}
            maxLength={60}
            onChange={(e) => setHeaderText(e.target.value)}
          />
          {headerHasVar && (
            <input
              aria-label={t('wa.headerExample')}
              placeholder={t('wa.headerExample')}
              value={headerExample}
              onChange={(e) => setHeaderExample(e.target.value)}
              required
            />
          )}
        </div>
      )}
      {(headerKind === 'IMAGE' || headerKind === 'DOCUMENT') && (
        <div className="form-row">
          <label htmlFor={`ths-${channelId}`}>{t('wa.sample')}</label>
          <input
            id={`ths-${channelId}`}
            type="file"
            accept={headerKind === 'IMAGE' ? 'image/jpeg,image/png' : 'application/pdf'}
            onChange={(e) => setSample(e.target.files?.[0] ?? null)}
          />
        </div>
      )}
      <div className="form-row">
        <label htmlFor={`tb-${channelId}`}>{t('wa.body')}</label>
        <textarea
          id={`tb-${channelId}`}
          value={body}
          rows={4}
          maxLength={1024}
          onChange={(e) => setBody(e.target.value)}
          required
        />
        <small className="muted">{t('wa.bodyHint', { n: [...body].length })}</small>
      </div>
      {examples.map((value, i) => (
        <div key={i} className="form-row">
          <label htmlFor={`tx-${channelId}-${i}`}>{t('wa.exampleFor', { n: i + 1 })}</label>
          <input
            id={`tx-${channelId}-${i}`}
            value={value}
            onChange={(e) => setExamples(examples.map((x, j) => (j === i ? e.target.value : x)))}
            required
          />
        </div>
      ))}
      <div className="form-row">
        <label htmlFor={`tf-${channelId}`}>{t('wa.footer')}</label>
        <input id={`tf-${channelId}`} value={footer} maxLength={60} onChange={(e) => setFooter(e.target.value)} />
      </div>
      <fieldset className="wa-buttons">
        <legend>{t('wa.buttons')}</legend>
        {buttons.map((b, i) => (
          <div key={i} className="row wa-button-row">
            <span className="chip">{t(`wa.button.${b.type}` as MessageKey)}</span>
            <input
              aria-label={t('wa.buttonText')}
              placeholder={t('wa.buttonText')}
              value={b.text}
              maxLength={25}
              onChange={(e) => setButton(i, { text: e.target.value })}
              required
            />
            {b.type === 'URL' && (
              <>
                <input
                  aria-label="URL"
                  placeholder="https://…/{{1}}"
                  value={b.url}
                  onChange={(e) => setButton(i, { url: e.target.value })}
                  required
                />
                {/\{\{1\}\}$/.test(b.url) && (
                  <input
                    aria-label={t('wa.urlExample')}
                    placeholder={t('wa.urlExample')}
                    value={b.example ?? ''}
                    onChange={(e) => setButton(i, { example: e.target.value })}
                    required
                  />
                )}
              </>
            )}
            {b.type === 'PHONE_NUMBER' && (
              <input
                aria-label={t('wa.phone')}
                placeholder="+49…"
                value={b.phoneNumber}
                onChange={(e) => setButton(i, { phoneNumber: e.target.value })}
                required
              />
            )}
            <button
              type="button"
              className="btn btn-small btn-ghost"
              onClick={() => setButtons(buttons.filter((_, j) => j !== i))}
              aria-label={t('wa.removeButton')}
            >
              ×
            </button>
          </div>
        ))}
        <div className="row">
          <button
            type="button"
            className="btn btn-small"
            disabled={buttons.length >= 10}
            onClick={() => setButtons([...buttons, { type: 'QUICK_REPLY', text: '' }])}
          >
            + {t('wa.button.QUICK_REPLY')}
          </button>
          <button
            type="button"
            className="btn btn-small"
            disabled={buttons.filter((b) => b.type === 'URL').length >= 2}
            onClick={() => setButtons([...buttons, { type: 'URL', text: '', url: 'https://' }])}
          >
            + {t('wa.button.URL')}
          </button>
          <button
            type="button"
            className="btn btn-small"
            disabled={buttons.some((b) => b.type === 'PHONE_NUMBER')}
            onClick={() => setButtons([...buttons, { type: 'PHONE_NUMBER', text: '', phoneNumber: '' }])}
          >
            + {t('wa.button.PHONE_NUMBER')}
          </button>
        </div>
      </fieldset>
      {body && (
        <div>
          <h4>{t('wa.preview')}</h4>
          <TemplatePreview
            header={
              headerKind === 'TEXT'
                ? { format: 'TEXT', text: headerText }
                : headerKind === 'NONE'
                  ? undefined
                  : { format: headerKind }
            }
            body={body}
            footer={footer || undefined}
            buttons={buttons}
            values={examples}
            headerValue={headerExample}
          />
        </div>
      )}
      {error && <Notice kind="error">{error}</Notice>}
      <div className="row">
        <button type="submit" className="btn btn-primary">
          {t('wa.submit')}
        </button>
      </div>
    </form>
  );
}

const VERTICALS = [
  'OTHER',
  'AUTO',
  'BEAUTY',
  'APPAREL',
  'EDU',
  'ENTERTAIN',
  'EVENT_PLAN',
  'FINANCE',
  'GROCERY',
  'GOVT',
  'HOTEL',
  'HEALTH',
  'NONPROFIT',
  'PROF_SERVICES',
  'RETAIL',
  'TRAVEL',
  'RESTAURANT',
];

function Profile({ channelId, t }: { channelId: string; t: Translate }) {
  const [profile, setProfile] = useState<BusinessProfileView | null>(null);
  const [privacyUrl, setPrivacyUrl] = useState<string | null>(null);
  const [draft, setDraft] = useState<BusinessProfileView | null>(null);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const load = useCallback(async () => {
    const r = await get<{ profile: BusinessProfileView; privacyNoticeUrl: string | null }>(
      `/admin/channels/${channelId}/whatsapp/profile`,
    );
    setProfile(r.profile);
    setDraft(r.profile);
    setPrivacyUrl(r.privacyNoticeUrl);
  }, [channelId]);
  useEffect(() => void load().catch((e: unknown) => setMessage({ kind: 'error', text: errorText(e, t) })), [load, t]);
  if (!draft || !profile) return message ? <Notice kind={message.kind}>{message.text}</Notice> : null;
  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const r = await post<{ profile: BusinessProfileView }>(`/admin/channels/${channelId}/whatsapp/profile`, {
        about: draft.about,
        description: draft.description,
        address: draft.address,
        email: draft.email,
        websites: draft.websites.filter((w) => w.trim() !== ''),
        vertical: draft.vertical,
      });
      setProfile(r.profile);
      setDraft(r.profile);
      setMessage({ kind: 'ok', text: t('wa.profileSaved') });
    } catch (err) {
      setMessage({ kind: 'error', text: errorText(err, t) });
    }
  };
  const privacy = async () => {
    try {
      const r = await post<{ profile: BusinessProfileView; placed: string }>(
        `/admin/channels/${channelId}/whatsapp/profile/privacy-link`,
        {},
      );
      setProfile(r.profile);
      setDraft(r.profile);
      setMessage({ kind: 'ok', text: t(`wa.privacyPlaced.${r.placed}` as MessageKey) });
    } catch (err) {
      setMessage({ kind: 'error', text: errorText(err, t) });
    }
  };
  const photo = async (file: File | undefined) => {
    if (!file) return;
    try {
      const r = await upload<{ profile: BusinessProfileView }>(
        `/admin/channels/${channelId}/whatsapp/profile/photo`,
        file,
      );
      setProfile(r.profile);
      setMessage({ kind: 'ok', text: t('wa.photoSaved') });
    } catch (err) {
      setMessage({ kind: 'error', text: errorText(err, t) });
    }
  };
  const field = (key: 'about' | 'description' | 'address' | 'email', max: number, multi = false) => (
    <div className="form-row">
      <label htmlFor={`p-${key}-${channelId}`}>{t(`wa.p.${key}` as MessageKey)}</label>
      {multi ? (
        <textarea
          id={`p-${key}-${channelId}`}
          value={draft[key]}
          maxLength={max}
          rows={3}
          onChange={(e) => setDraft({ ...draft, [key]: e.target.value })}
        />
      ) : (
        <input
          id={`p-${key}-${channelId}`}
          value={draft[key]}
          maxLength={max}
          type={key === 'email' ? 'email' : 'text'}
          onChange={(e) => setDraft({ ...draft, [key]: e.target.value })}
        />
      )}
      <small className="muted">{t('wa.chars', { n: [...draft[key]].length, max })}</small>
    </div>
  );
  const websites = [draft.websites[0] ?? '', draft.websites[1] ?? ''];
  return (
    <form className="stack" onSubmit={save} aria-label={t('wa.profile')}>
      {field('about', 139)}
      {field('description', 512, true)}
      {field('address', 256)}
      {field('email', 128)}
      {websites.map((w, i) => (
        <div key={i} className="form-row">
          <label htmlFor={`p-web${i}-${channelId}`}>{t('wa.p.website', { n: i + 1 })}</label>
          <input
            id={`p-web${i}-${channelId}`}
            value={w}
            maxLength={256}
            type="url"
            onChange={(e) => setDraft({ ...draft, websites: websites.map((x, j) => (j === i ? e.target.value : x)) })}
          />
        </div>
      ))}
      <div className="form-row">
        <label htmlFor={`p-vertical-${channelId}`}>{t('wa.p.vertical')}</label>
        <select
          id={`p-vertical-${channelId}`}
          value={draft.vertical || 'OTHER'}
          onChange={(e) => setDraft({ ...draft, vertical: e.target.value })}
        >
          {VERTICALS.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      </div>
      <div className="form-row">
        <label htmlFor={`p-photo-${channelId}`}>{t('wa.p.photo')}</label>
        <input
          id={`p-photo-${channelId}`}
          type="file"
          accept="image/jpeg,image/png"
          onChange={(e) => void photo(e.target.files?.[0])}
        />
        <small className="muted">{t('wa.photoHint')}</small>
      </div>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      <div className="row">
        <button type="submit" className="btn btn-primary">
          {t('wa.saveProfile')}
        </button>
        <button type="button" className="btn" onClick={() => void privacy()} disabled={!privacyUrl}>
          {t('wa.privacyLink')}
        </button>
      </div>
      {!privacyUrl && <small className="muted">{t('wa.privacyMissing')}</small>}
    </form>
  );
}
