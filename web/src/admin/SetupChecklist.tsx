import { useEffect, useState } from 'react';
import { get, type ChannelInfo, type Endpoints, type InboxSettingsView, type StaffMember } from '../api.ts';
import { useI18n, type MessageKey } from '../i18n/i18n.tsx';
import { linkHandler } from '../router.ts';

type SetupFacts = Endpoints['GET /admin/setup']['response'];

interface Step {
  key: string;
  done: boolean;
  text: MessageKey;
  href?: string;
}

/**
 * The first-run checklist on the admin start page: what a fresh install still lacks before customers write (the
 * controller and DPO contact in the configuration file, a channel, the privacy notice, 2FA for staff). It disappears
 * once every step is done.
 */
export function SetupChecklist() {
  const { t } = useI18n();
  const [steps, setSteps] = useState<Step[] | null>(null);
  useEffect(() => {
    let live = true;
    void Promise.all([
      get<SetupFacts>('/admin/setup'),
      get<{ items: ChannelInfo[] }>('/admin/channels'),
      get<{ items: InboxSettingsView[] }>('/admin/inboxes'),
      get<{ items: StaffMember[] }>('/users'),
      get<{ require2fa: boolean }>('/admin/security'),
    ])
      .then(([setup, channels, inboxes, users, security]) => {
        if (!live) return;
        const staff = users.items.filter((u) => !u.disabled && !u.invitationPending);
        setSteps([
          { key: 'organisation', done: setup.organisation.placeholders.length === 0, text: 'setup.organisation' },
          { key: 'dpo', done: setup.organisation.dpoContact, text: 'setup.dpo' },
          { key: 'channel', done: channels.items.length > 0, text: 'setup.channel', href: '/admin/channels' },
          {
            key: 'notice',
            done: inboxes.items.length > 0 && inboxes.items.every((i) => i.overridden),
            text: 'setup.notice',
            href: '/admin/privacy',
          },
          {
            key: '2fa',
            done: security.require2fa || (staff.length > 0 && staff.every((u) => u.totpEnabled)),
            text: 'setup.twoFactor',
          },
        ]);
      })
      .catch(() => live && setSteps(null));
    return () => {
      live = false;
    };
  }, []);
  if (!steps || steps.every((s) => s.done)) return null;
  const open = steps.filter((s) => !s.done).length;
  return (
    <section className="card setup-checklist" aria-labelledby="setup-title">
      <h2 id="setup-title">{t('setup.title')}</h2>
      <p className="muted">{t('setup.intro', { n: open })}</p>
      <ul>
        {steps.map((s) => (
          <li key={s.key} className={s.done ? 'done' : 'open'}>
            <span className="setup-mark" aria-hidden="true">
              {s.done ? '✓' : '○'}
            </span>
            <span className="sr-only">{s.done ? t('setup.done') : t('setup.open')}</span>
            {s.href && !s.done ? (
              <a href={s.href} onClick={linkHandler(s.href)}>
                {t(s.text)}
              </a>
            ) : (
              <span>{t(s.text)}</span>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
