import type { Role } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import type { Section } from '../shared/SectionSwitch.tsx';
import { SectionSwitch } from '../shared/SectionSwitch.tsx';
import { AuditLog } from './AuditLog.tsx';
import { Breaches } from './Breaches.tsx';
import { Documents } from './Documents.tsx';
import { Reports } from './Reports.tsx';
import { Reveals } from './Reveals.tsx';
import { Statistics } from './Statistics.tsx';
import { SubjectRequests } from './SubjectRequests.tsx';

/** The data protection officer's screens: audit log, subject requests, documents, breaches, reveals, statistics. */
export function Compliance({ path, role }: { path: string; role: Role }) {
  const { t } = useI18n();
  // Subject access and erasure (Art. 15, 17) are the DPO's alone: an admin would only meet "not allowed" there.
  const dsar: Section[] =
    role === 'dpo' ? [{ key: 'dsar', label: t('compliance.dsar'), render: () => <SubjectRequests /> }] : [];
  return (
    <SectionSwitch
      base="/compliance"
      path={path}
      label={t('compliance.subnav')}
      sections={[
        { key: 'audit', label: t('compliance.audit'), render: () => <AuditLog /> },
        ...dsar,
        { key: 'documents', label: t('compliance.documents'), render: () => <Documents /> },
        { key: 'breaches', label: t('compliance.breaches'), render: () => <Breaches /> },
        { key: 'reveals', label: t('compliance.reveals'), render: () => <Reveals /> },
        { key: 'statistics', label: t('compliance.statistics'), render: () => <Statistics /> },
        { key: 'reports', label: t('reports.title'), render: () => <Reports /> },
      ]}
    />
  );
}
