import type { SessionUser } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { SectionSwitch } from '../shared/SectionSwitch.tsx';
import { Channels } from './Channels.tsx';
import { EmailSettings } from './EmailSettings.tsx';
import { Privacy } from './Privacy.tsx';
import { QuickReplies } from './QuickReplies.tsx';
import { SetupChecklist } from './SetupChecklist.tsx';
import { Users } from './Users.tsx';

/** Admin screens: team and invitations, channels, inbox privacy settings, quick replies. Loaded on demand. */
export function Admin({ path, self }: { path: string; self: SessionUser }) {
  const { t } = useI18n();
  return (
    <SectionSwitch
      base="/admin"
      path={path}
      label={t('adminNav')}
      sections={[
        {
          key: 'users',
          label: t('adminUsers'),
          // The admin start page: the first-run checklist above the team while a step is open.
          render: () => (
            <>
              <SetupChecklist />
              <Users self={self} />
            </>
          ),
        },
        { key: 'channels', label: t('adminChannels'), render: () => <Channels /> },
        { key: 'privacy', label: t('adminPrivacy'), render: () => <Privacy /> },
        { key: 'quick-replies', label: t('adminQuick'), render: () => <QuickReplies /> },
        { key: 'notifications', label: t('notify.smtp.nav'), render: () => <EmailSettings /> },
      ]}
    />
  );
}
