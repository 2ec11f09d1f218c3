import { useCallback, useState, type ReactNode } from 'react';
import { useI18n } from '../i18n/i18n.tsx';
import { Notice } from './Notice.tsx';
import { errorText } from './error-text.ts';

export interface ActionMessage {
  kind: 'ok' | 'error';
  text: string;
}

/**
 * Runs a screen's action and shows its outcome: the action's own message when it returns one (a text is success),
 * else `ok`, else nothing; a thrown error becomes "Das hat nicht geklappt: …". `run` is stable while the language stays.
 */
export function useAction(): {
  run(fn: () => Promise<unknown>, ok?: string): Promise<boolean>;
  view: ReactNode;
  setMessage(message: ActionMessage | null): void;
} {
  const { t } = useI18n();
  const [message, setMessage] = useState<ActionMessage | null>(null);
  const run = useCallback(
    async (fn: () => Promise<unknown>, ok?: string) => {
      try {
        const result = await fn();
        if (isActionMessage(result)) setMessage(result);
        else {
          const text = typeof result === 'string' ? result : ok;
          setMessage(text ? { kind: 'ok', text } : null);
        }
        return true;
      } catch (e) {
        setMessage({ kind: 'error', text: t('errorGeneric', { m: errorText(e, t) }) });
        return false;
      }
    },
    [t],
  );
  const view = message ? <Notice kind={message.kind}>{message.text}</Notice> : null;
  return { run, view, setMessage };
}

function isActionMessage(value: unknown): value is ActionMessage {
  return typeof value === 'object' && value !== null && 'kind' in value && 'text' in value;
}
