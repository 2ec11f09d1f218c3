import { useState } from 'react';
import { useI18n } from '../i18n/i18n.tsx';

/** Copies `value` to the clipboard and says so for 1.5 s. */
export function CopyButton({ value }: { value: string }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="btn btn-small"
      onClick={() => {
        void navigator.clipboard?.writeText(value).then(() => {
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        });
      }}
    >
      {copied ? t('copied') : t('copy')}
    </button>
  );
}
