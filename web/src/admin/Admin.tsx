import type { SessionUser } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { SectionSwitch } from '../shared/SectionSwitch.tsx';
import { Assignment } from './Assignment.tsx';
import { Channels } from './Channels.tsx';
import { ContentReads } from './ContentReads.tsx';
import { EmailSettings } from './EmailSettings.tsx';
import { Labels } from './Labels.tsx';
import { Privacy } from './Privacy.tsx';
import { QuickReplies } from './QuickReplies.tsx';
import { SetupChecklist } from './SetupChecklist.tsx';
import { Tokens } from './Tokens.tsx';
import { Users } from './Users.tsx';
import { WebhookPausedBanner, Webhooks } from './Webhooks.tsx';

/**
 * Admin screens: team and invitations, channels, inbox privacy settings, quick replies, outgoing webhooks. Loaded on
 * demand. The start page and the channels show a banner while a webhook endpoint is paused after failures.
 */
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
              <WebhookPausedBanner />
              <SetupChecklist />
              <ContentReads />
              <Users self={self} />
            </>
          ),
        },
        {
          key: 'channels',
          label: t('adminChannels'),
          render: () => (
            <>
              <WebhookPausedBanner />
              <Channels />
            </>
          ),
        },
        { key: 'privacy', label: t('adminPrivacy'), render: () => <Privacy /> },
        { key: 'assignment', label: t('teams.assignmentNav'), render: () => <Assignment /> },
        { key: 'quick-replies', label: t('adminQuick'), render: () => <QuickReplies /> },
        { key: 'labels', label: t('labelList.nav'), render: () => <Labels /> },
        { key: 'webhooks', label: t('adminWebhooks'), render: () => <Webhooks /> },
        { key: 'tokens', label: t('teams.tokens'), render: () => <Tokens /> },
        { key: 'notifications', label: t('notify.smtp.nav'), render: () => <EmailSettings /> },
      ]}
    />
  );
}
