import type { NoticeLanguage } from './notices.ts';

/** Prefix of the answer buttons' ids: `csat:<survey id>:<score>`. */
export const CSAT_PREFIX = 'csat:';
/** How many days after the question an answer still counts. */
export const CSAT_ANSWER_DAYS = 7;
/** Reply options the question needs (1 to 5). */
export const CSAT_OPTIONS = 5;

const TEXTS: Record<NoticeLanguage, { question: string; list: string; titles: string[] }> = {
  de: {
    question: 'Wie zufrieden waren Sie? 1–5',
    list: 'Bewerten',
    titles: ['1 – unzufrieden', '2', '3', '4', '5 – sehr zufrieden'],
  },
  en: {
    question: 'How satisfied were you? 1–5',
    list: 'Rate',
    titles: ['1 – unsatisfied', '2', '3', '4', '5 – very satisfied'],
  },
};

/**
 * The satisfaction question in the inbox's language: its text, five answer buttons whose ids name the survey and
 * the score (titles at most 20 characters: WhatsApp's and Telegram's limits), and the label of the button that opens
 * them where a channel shows more than three answers as a list (WhatsApp).
 */
export function csatQuestion(
  surveyId: string,
  language: NoticeLanguage,
): { text: string; buttons: { id: string; title: string }[]; listButton: string } {
  const t = TEXTS[language] ?? TEXTS.de;
  return {
    text: t.question,
    buttons: t.titles.map((title, i) => ({ id: `${CSAT_PREFIX}${surveyId}:${i + 1}`, title })),
    listButton: t.list,
  };
}

/** Reads a tapped button's id as an answer to a satisfaction question; undefined for any other id. */
export function csatAnswerOf(buttonId: string | undefined): { surveyId: string; score: number } | undefined {
  if (!buttonId?.startsWith(CSAT_PREFIX)) return undefined;
  const match = /^csat:([0-9a-f-]{36}):([1-5])$/.exec(buttonId);
  return match ? { surveyId: match[1]!, score: Number(match[2]) } : undefined;
}

/** True for ids that look like an answer button's (also malformed or forged ones, which are dropped). */
export const isCsatButton = (buttonId: string | undefined): boolean => buttonId?.startsWith(CSAT_PREFIX) === true;
