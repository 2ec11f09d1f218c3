import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useIntl } from 'react-intl';
import { call, type Endpoints } from '../api.ts';
import { useI18n, type MessageKey } from '../i18n/i18n.tsx';
import { CopyButton } from '../shared/CopyButton.tsx';
import { Notice } from '../shared/Notice.tsx';
import { errorText } from '../shared/error-text.ts';

export type ChannelKindForm = Endpoints['GET /admin/channel-kinds']['response']['items'][number];
export type ChannelDetail = Endpoints['GET /admin/channels/:id']['response'];
export type CreatedChannel = Endpoints['POST /admin/channels']['response'] & { kind: string };
type FieldValue = string | number | boolean;

/** The label of a kind's setting: translated where the catalogue knows the key, else the key itself. */
function useFieldLabel(): (name: string) => string {
  const { t } = useI18n();
  const intl = useIntl();
  return (name) => {
    const key = `channelField.${name}`;
    return key in intl.messages ? t(key as MessageKey) : name;
  };
}

/** The provider's set-up steps for a kind, translated where known, else the module's hint. */
export function useSetupSteps(): (kind: ChannelKindForm | undefined) => string {
  const { t } = useI18n();
  const intl = useIntl();
  return (kind) => {
    if (!kind) return '';
    const key = `channelSetup.${kind.kind}`;
    return key in intl.messages ? t(key as MessageKey) : kind.setupHint;
  };
}

/**
 * Creates a channel (kind, id, inbox, then the kind's own settings and secrets) or changes one created here. The
 * fields come from the kind's configuration on the server; secrets are password fields that are never filled in
 * again: left empty on edit, they keep their value.
 */
export function ChannelEditor({
  kinds,
  inboxes,
  existing,
  onSaved,
  onCancel,
}: {
  kinds: ChannelKindForm[];
  inboxes: string[];
  existing?: ChannelDetail;
  onSaved(created?: CreatedChannel): void;
  onCancel(): void;
}) {
  const { t } = useI18n();
  const label = useFieldLabel();
  const setupSteps = useSetupSteps();
  const formId = useId();
  const [kindName, setKindName] = useState(existing?.kind ?? kinds[0]?.kind ?? '');
  const [id, setId] = useState(existing?.id ?? '');
  const [inbox, setInbox] = useState(existing?.inboxId ?? inboxes[0] ?? '');
  const [values, setValues] = useState<Record<string, FieldValue>>(() => ({
    ...(existing?.settings as Record<string, FieldValue> | undefined),
  }));
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLSelectElement & HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  const kind = kinds.find((k) => k.kind === kindName);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!kind) return;
    setBusy(true);
    setError(null);
    const settings: Record<string, FieldValue> = {};
    for (const f of kind.fields) {
      if (f.type === 'secret') continue;
      const v = values[f.name];
      if (v === undefined || v === '') continue;
      settings[f.name] = f.type === 'number' ? Number(v) : v;
    }
    const given = Object.fromEntries(Object.entries(secrets).filter(([, v]) => v !== ''));
    try {
      if (existing) {
        await call('PUT /admin/channels/:id', {
          params: { id: existing.id },
          body: { inboxId: inbox, settings, secrets: given },
        });
        onSaved();
      } else {
        const created = await call('POST /admin/channels', {
          body: { id, kind: kind.kind, inboxId: inbox, settings, secrets: given },
        });
        onSaved({ ...created, kind: kind.kind });
      }
    } catch (err) {
      setError(t('errorGeneric', { m: errorText(err, t) }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="card form-grid channel-editor"
      onSubmit={(e) => void submit(e)}
      aria-labelledby={`${formId}-title`}
    >
      <h2 id={`${formId}-title`}>{existing ? t('channelEditTitle', { id: existing.id }) : t('channelAddTitle')}</h2>
      {!existing && (
        <div className="form-row">
          <label htmlFor={`${formId}-kind`}>{t('channelKind')}</label>
          <select id={`${formId}-kind`} ref={first} value={kindName} onChange={(e) => setKindName(e.target.value)}>
            {kinds.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.displayName}
              </option>
            ))}
          </select>
        </div>
      )}
      {!existing && (
        <div className="form-row">
          <label htmlFor={`${formId}-id`}>{t('channelId')}</label>
          <input
            id={`${formId}-id`}
            value={id}
            required
            pattern="[a-z0-9][a-z0-9\-]{0,62}"
            placeholder="wa-service"
            aria-describedby={`${formId}-id-hint`}
            onChange={(e) => setId(e.target.value)}
          />
          <small id={`${formId}-id-hint`} className="muted">
            {t('channelIdHint')}
          </small>
        </div>
      )}
      <div className="form-row">
        <label htmlFor={`${formId}-inbox`}>{t('inbox')}</label>
        <select
          id={`${formId}-inbox`}
          ref={existing ? first : undefined}
          value={inbox}
          onChange={(e) => setInbox(e.target.value)}
          required
        >
          {inboxes.map((i) => (
            <option key={i} value={i}>
              {i}
            </option>
          ))}
        </select>
      </div>
      {kind?.fields.map((f) => {
        const fieldId = `${formId}-${f.name}`;
        if (f.type === 'secret') {
          const isSet = existing?.secretsSet.includes(f.name) ?? false;
          const generated = !existing && kind.verifySecretField === f.name;
          return (
            <div key={f.name} className="form-row">
              <label htmlFor={fieldId}>
                {label(f.name)} {f.required && !isSet && !generated ? '*' : ''}
              </label>
              <input
                id={fieldId}
                type="password"
                autoComplete="new-password"
                value={secrets[f.name] ?? ''}
                required={f.required && !isSet && !generated}
                placeholder={isSet ? t('secretKeep') : generated ? t('secretGenerated') : ''}
                onChange={(e) => setSecrets((s) => ({ ...s, [f.name]: e.target.value }))}
              />
            </div>
          );
        }
        if (f.type === 'boolean') {
          return (
            <label key={f.name} className="check wide">
              <input
                type="checkbox"
                checked={Boolean(values[f.name] ?? f.default)}
                onChange={(e) => setValues((v) => ({ ...v, [f.name]: e.target.checked }))}
              />
              {label(f.name)}
            </label>
          );
        }
        if (f.type === 'select') {
          return (
            <div key={f.name} className="form-row">
              <label htmlFor={fieldId}>{label(f.name)}</label>
              <select
                id={fieldId}
                value={String(values[f.name] ?? f.default ?? f.options?.[0] ?? '')}
                onChange={(e) => setValues((v) => ({ ...v, [f.name]: e.target.value }))}
              >
                {f.options?.map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </select>
            </div>
          );
        }
        return (
          <div key={f.name} className="form-row">
            <label htmlFor={fieldId}>
              {label(f.name)} {f.required ? '*' : ''}
            </label>
            <input
              id={fieldId}
              type={f.type === 'number' ? 'number' : f.type === 'url' ? 'url' : 'text'}
              inputMode={f.type === 'number' ? 'numeric' : undefined}
              min={f.min}
              max={f.max}
              required={f.required}
              value={String(values[f.name] ?? '')}
              placeholder={f.default !== undefined ? String(f.default) : (f.example ?? '')}
              onChange={(e) => setValues((v) => ({ ...v, [f.name]: e.target.value }))}
            />
          </div>
        );
      })}
      {kind && <p className="muted wide">{setupSteps(kind)}</p>}
      {error && <Notice kind="error">{error}</Notice>}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy || !kind}>
          {existing ? t('save') : t('channelCreate')}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}

/** Shown once after a channel was created: where to send the provider, and the secrets sparsam generated. */
export function ChannelCreated({
  created,
  kind,
  onClose,
}: {
  created: CreatedChannel;
  kind: ChannelKindForm | undefined;
  onClose(): void;
}) {
  const { t } = useI18n();
  const label = useFieldLabel();
  const setupSteps = useSetupSteps();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section className="card stack" aria-labelledby="channel-created-title">
      <h2 id="channel-created-title" ref={heading} tabIndex={-1}>
        {t('channelCreated', { id: created.id })}
      </h2>
      <dl className="facts">
        <dt>{t('webhookUrl')}</dt>
        <dd>
          <code className="break">{created.webhookUrl}</code> <CopyButton value={created.webhookUrl} />
        </dd>
        {Object.entries(created.generated).map(([name, value]) => (
          <div key={name} className="facts-row">
            <dt>{label(name)}</dt>
            <dd>
              <code className="break">{value}</code> <CopyButton value={value} />
            </dd>
          </div>
        ))}
      </dl>
      {Object.keys(created.generated).length > 0 && <Notice kind="ok">{t('channelSecretOnce')}</Notice>}
      <p>{setupSteps(kind)}</p>
      <div className="row">
        <button type="button" className="btn" onClick={onClose}>
          {t('close')}
        </button>
      </div>
    </section>
  );
}

/** Removal of a channel created here, after its id was typed; says what will be erased. */
export function RemoveChannelDialog({
  channelId,
  onRemoved,
  onCancel,
}: {
  channelId: string;
  onRemoved(result: { contactsErased: number; conversationsErased: number }): void;
  onCancel(): void;
}) {
  const { t } = useI18n();
  const ref = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  const remove = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      const result = await call('DELETE /admin/channels/:id', { params: { id: channelId }, body: { confirm: typed } });
      onRemoved(result);
    } catch (err) {
      setError(t('errorGeneric', { m: errorText(err, t) }));
      setBusy(false);
    }
  };
  return (
    <dialog ref={ref} className="dialog" aria-labelledby="remove-channel-title" onCancel={onCancel}>
      <form method="dialog" className="stack" onSubmit={(e) => void remove(e)}>
        <h2 id="remove-channel-title">{t('channelRemoveTitle', { id: channelId })}</h2>
        <p>{t('channelRemoveWarning')}</p>
        <div className="form-row">
          <label htmlFor="remove-channel-confirm">{t('channelRemoveType', { id: channelId })}</label>
          <input
            id="remove-channel-confirm"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            autoComplete="off"
            autoFocus
          />
        </div>
        {error && <Notice kind="error">{error}</Notice>}
        <div className="row">
          <button type="submit" className="btn btn-danger" disabled={busy || typed !== channelId}>
            {t('channelRemove')}
          </button>
          <button type="button" className="btn" onClick={onCancel}>
            {t('cancel')}
          </button>
        </div>
      </form>
    </dialog>
  );
}
