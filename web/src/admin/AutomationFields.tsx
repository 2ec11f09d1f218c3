import { useI18n } from '../i18n/i18n.tsx';
import { WEEKDAYS, type AutomationDraft } from './automation-draft.ts';

/** Zones the browser knows, offered as suggestions (the server decides). */
const TIME_ZONES: string[] = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
  } catch {
    return [];
  }
})();

/** The greeting and away message of an inbox, with business hours, holidays and the away cooldown. */
export function AutomationFields({
  id,
  draft,
  onChange,
}: {
  id: string;
  draft: AutomationDraft;
  onChange(next: AutomationDraft): void;
}) {
  const { t } = useI18n();
  const greeting = (patch: Partial<AutomationDraft['greeting']>) =>
    onChange({ ...draft, greeting: { ...draft.greeting, ...patch } });
  const away = (patch: Partial<AutomationDraft['away']>) => onChange({ ...draft, away: { ...draft.away, ...patch } });
  return (
    <fieldset className="wide">
      <legend>{t('automation')}</legend>
      <p className="muted small">{t('automationIntro')}</p>
      <label className="check">
        <input
          type="checkbox"
          checked={draft.greeting.enabled}
          onChange={(e) => greeting({ enabled: e.target.checked })}
        />
        {t('greetingOn')}
      </label>
      {(['de', 'en'] as const).map((lang) => (
        <div key={`g-${lang}`} className="form-row wide">
          <label htmlFor={`${id}-greeting-${lang}`}>{t(lang === 'de' ? 'greetingDe' : 'greetingEn')}</label>
          <textarea
            id={`${id}-greeting-${lang}`}
            rows={2}
            maxLength={2000}
            value={draft.greeting.text[lang]}
            onChange={(e) => greeting({ text: { ...draft.greeting.text, [lang]: e.target.value } })}
          />
        </div>
      ))}
      <label className="check">
        <input type="checkbox" checked={draft.away.enabled} onChange={(e) => away({ enabled: e.target.checked })} />
        {t('awayOn')}
      </label>
      {(['de', 'en'] as const).map((lang) => (
        <div key={`a-${lang}`} className="form-row wide">
          <label htmlFor={`${id}-away-${lang}`}>{t(lang === 'de' ? 'awayDe' : 'awayEn')}</label>
          <textarea
            id={`${id}-away-${lang}`}
            rows={2}
            maxLength={2000}
            value={draft.away.text[lang]}
            onChange={(e) => away({ text: { ...draft.away.text, [lang]: e.target.value } })}
          />
        </div>
      ))}
      <div className="form-row">
        <label htmlFor={`${id}-tz`}>{t('timeZone')}</label>
        <input
          id={`${id}-tz`}
          list={`${id}-tz-list`}
          required
          value={draft.away.timeZone}
          onChange={(e) => away({ timeZone: e.target.value })}
          aria-describedby={`${id}-tz-d`}
        />
        <datalist id={`${id}-tz-list`}>
          {TIME_ZONES.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        <span id={`${id}-tz-d`} className="muted small">
          {t('timeZoneHint')}
        </span>
      </div>
      <fieldset>
        <legend>{t('businessHours')}</legend>
        <p id={`${id}-hours-d`} className="muted small">
          {t('hoursHint')}
        </p>
        {WEEKDAYS.map(([day, label]) => (
          <div key={day} className="form-row">
            <label htmlFor={`${id}-hours-${day}`}>{t(label)}</label>
            <input
              id={`${id}-hours-${day}`}
              value={draft.away.hours[day]}
              placeholder="08:00-18:00"
              onChange={(e) => away({ hours: { ...draft.away.hours, [day]: e.target.value } })}
              aria-describedby={`${id}-hours-d`}
            />
          </div>
        ))}
      </fieldset>
      <div className="form-row">
        <label htmlFor={`${id}-holidays`}>{t('holidays')}</label>
        <textarea
          id={`${id}-holidays`}
          rows={3}
          value={draft.away.holidays}
          onChange={(e) => away({ holidays: e.target.value })}
          aria-describedby={`${id}-holidays-d`}
        />
        <span id={`${id}-holidays-d`} className="muted small">
          {t('holidaysHint')}
        </span>
      </div>
      <div className="form-row">
        <label htmlFor={`${id}-cooldown`}>{t('cooldownHours')}</label>
        <input
          id={`${id}-cooldown`}
          type="number"
          min={0.25}
          max={720}
          step="any"
          required
          value={draft.away.cooldownHours}
          onChange={(e) => away({ cooldownHours: Number(e.target.value) })}
        />
      </div>
    </fieldset>
  );
}
