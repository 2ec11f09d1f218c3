import type { Role } from '../api.ts';
import { useI18n, type MessageKey } from '../i18n/i18n.tsx';

export const ROLE_KEYS: Record<Role, MessageKey> = { admin: 'roleAdmin', agent: 'roleAgent', dpo: 'roleDpo' };

/** A list of inbox ids with one id added or taken away, sorted. */
export const toggleInbox = (list: readonly string[], id: string, on: boolean): string[] =>
  on ? [...new Set([...list, id])].sort() : list.filter((x) => x !== id);

/**
 * The role of a new account or token, and for agents the inboxes it may work in (admins see every inbox, the data
 * protection officer none). Used by the invitation and the API token forms.
 */
export function RoleInboxFields(props: {
  idPrefix: string;
  role: Role;
  onRole(role: Role): void;
  inboxes: readonly string[];
  chosen: readonly string[];
  onChosen(ids: string[]): void;
  legend: string;
}) {
  const { t } = useI18n();
  return (
    <>
      <div className="form-row">
        <label htmlFor={`${props.idPrefix}-role`}>{t('role')}</label>
        <select id={`${props.idPrefix}-role`} value={props.role} onChange={(e) => props.onRole(e.target.value as Role)}>
          {(['agent', 'admin', 'dpo'] as Role[]).map((r) => (
            <option key={r} value={r}>
              {t(ROLE_KEYS[r])}
            </option>
          ))}
        </select>
      </div>
      {props.role === 'agent' && (
        <fieldset className="form-row inbox-choice">
          <legend>{props.legend}</legend>
          {props.inboxes.map((id) => (
            <label key={id} className="check">
              <input
                type="checkbox"
                checked={props.chosen.includes(id)}
                onChange={(e) => props.onChosen(toggleInbox(props.chosen, id, e.target.checked))}
              />
              {id}
            </label>
          ))}
        </fieldset>
      )}
    </>
  );
}
