import { useEffect, useState } from 'react';
import { get } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { linkHandler } from '../router.ts';
import { reasonText } from '../shared/wa-health-text.ts';

/** For admins: a banner while Meta reports something about a WhatsApp account that needs attention. */
export function HealthBanner() {
  const { t } = useI18n();
  const [alerts, setAlerts] = useState<{ channelId: string; reasons: string[] }[]>([]);
  useEffect(() => {
    let stop = false;
    const load = () =>
      get<{ items: { channelId: string; reasons: string[] }[] }>('/admin/whatsapp/alerts')
        .then((r) => !stop && setAlerts(r.items))
        .catch(() => undefined);
    void load();
    const timer = setInterval(load, 5 * 60_000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, []);
  if (alerts.length === 0) return null;
  return (
    <div className="banner banner-health" role="alert">
      <strong>{t('wa.bannerTitle')}</strong>{' '}
      {alerts.map((a) => (
        <span key={a.channelId}>
          {t('wa.bannerChannel', { id: a.channelId, reasons: a.reasons.map((r) => reasonText(r, t)).join(', ') })}{' '}
        </span>
      ))}
      <a href="/admin/channels" onClick={linkHandler('/admin/channels')}>
        {t('wa.bannerLink')}
      </a>
    </div>
  );
}
