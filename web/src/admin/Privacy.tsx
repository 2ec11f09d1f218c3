import { useCallback, useEffect, useState } from 'react';
import { get, type InboxSettingsView } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { InboxPrivacyForm } from './InboxPrivacyForm.tsx';

/** Each inbox's privacy settings: retention, media policy, privacy notice, automated messages. */
export function Privacy() {
  const { t } = useI18n();
  const [items, setItems] = useState<InboxSettingsView[]>([]);
  const load = useCallback(
    async () => setItems((await get<{ items: InboxSettingsView[] }>('/admin/inboxes')).items),
    [],
  );
  useEffect(() => void load(), [load]);
  return (
    <div className="stack">
      <h1>{t('adminPrivacy')}</h1>
      {items.map((inbox) => (
        <InboxPrivacyForm key={inbox.id} inbox={inbox} onSaved={load} />
      ))}
    </div>
  );
}
