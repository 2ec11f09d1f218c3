import { AppError } from '../../shared/app-error.ts';

/**
 * WhatsApp's limits for an interactive list message
 * (https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/interactive-list-messages/):
 * body 1024 characters, the button that opens the list 20, at most 10 sections and 10 rows across all of them, a
 * row title 24, a row description 72, a row id 200, a section title 24 (required when there is more than one).
 */
export const LIST_LIMITS = Object.freeze({
  text: 1024,
  button: 20,
  sections: 10,
  rows: 10,
  rowTitle: 24,
  rowDescription: 72,
  rowId: 200,
  sectionTitle: 24,
});

/** A list as an agent asks for it (row ids optional: sparsam numbers the rows `row-1` … where none is given). */
export interface ListInput {
  button: string;
  sections: {
    title?: string | undefined;
    rows: { id?: string | undefined; title: string; description?: string | undefined }[];
  }[];
}

/** A list as it is stored and sent: trimmed, every row with an id. */
export interface InteractiveList {
  button: string;
  sections: { title?: string; rows: { id: string; title: string; description?: string }[] }[];
}

/**
 * Why a list was refused: `details.reason` of the VALIDATION error (with `field: 'list'` and, where it helps,
 * `limit`). Stable: the inbox has a German and an English text for each.
 */
export const LIST_ERROR_REASONS = [
  'list_unsupported',
  'list_text_too_long',
  'list_button',
  'list_sections',
  'list_rows',
  'list_empty_section',
  'list_section_title',
  'list_row_title',
  'list_row_description',
  'list_row_id',
  'list_row_duplicate',
  'list_with_buttons',
  'list_with_quote',
] as const;

export type ListErrorReason = (typeof LIST_ERROR_REASONS)[number];

function refuse(reason: ListErrorReason, message: string, limit?: number): AppError {
  return new AppError('VALIDATION', message, { field: 'list', reason, ...(limit !== undefined ? { limit } : {}) });
}

const length = (s: string): number => [...s].length;

/**
 * Checks an agent's list against WhatsApp's limits ({@link LIST_LIMITS}) and the channel's capability, and returns
 * it trimmed with an id on every row. Nothing is cut: anything over a limit is refused with VALIDATION, `field:
 * 'list'` and a stable `reason` ({@link LIST_ERROR_REASONS}).
 */
export function interactiveList(input: ListInput, textLength: number, supported: boolean): InteractiveList {
  if (!supported) throw refuse('list_unsupported', 'this channel has no list messages');
  if (textLength > LIST_LIMITS.text) {
    throw refuse(
      'list_text_too_long',
      `a message with a list has at most ${LIST_LIMITS.text} characters`,
      LIST_LIMITS.text,
    );
  }
  const button = input.button.trim();
  if (length(button) === 0 || length(button) > LIST_LIMITS.button) {
    throw refuse('list_button', `the list's button has 1-${LIST_LIMITS.button} characters`, LIST_LIMITS.button);
  }
  if (input.sections.length === 0 || input.sections.length > LIST_LIMITS.sections) {
    throw refuse('list_sections', `a list has 1-${LIST_LIMITS.sections} sections`, LIST_LIMITS.sections);
  }
  const total = input.sections.reduce((sum, s) => sum + s.rows.length, 0);
  if (total > LIST_LIMITS.rows) {
    throw refuse('list_rows', `a list has at most ${LIST_LIMITS.rows} rows in all`, LIST_LIMITS.rows);
  }
  const ids = new Set<string>();
  const titles = new Set<string>();
  let counter = 0;
  const sections = input.sections.map((section) => {
    const title = section.title?.trim() ?? '';
    if (length(title) > LIST_LIMITS.sectionTitle || (title === '' && input.sections.length > 1)) {
      throw refuse(
        'list_section_title',
        `a section title has at most ${LIST_LIMITS.sectionTitle} characters, and each section needs one when there are several`,
        LIST_LIMITS.sectionTitle,
      );
    }
    if (section.rows.length === 0) throw refuse('list_empty_section', 'every section of a list has a row');
    const rows = section.rows.map((row) => {
      counter += 1;
      const rowTitle = row.title.trim();
      if (length(rowTitle) === 0 || length(rowTitle) > LIST_LIMITS.rowTitle) {
        throw refuse('list_row_title', `a row title has 1-${LIST_LIMITS.rowTitle} characters`, LIST_LIMITS.rowTitle);
      }
      const description = row.description?.trim() ?? '';
      if (length(description) > LIST_LIMITS.rowDescription) {
        throw refuse(
          'list_row_description',
          `a row description has at most ${LIST_LIMITS.rowDescription} characters`,
          LIST_LIMITS.rowDescription,
        );
      }
      const id = row.id ?? `row-${counter}`;
      if (id.length === 0 || id.length > LIST_LIMITS.rowId || id !== id.trim()) {
        throw refuse(
          'list_row_id',
          `a row id has 1-${LIST_LIMITS.rowId} characters without outer spaces`,
          LIST_LIMITS.rowId,
        );
      }
      const folded = rowTitle.toLowerCase();
      if (ids.has(id) || titles.has(folded)) throw refuse('list_row_duplicate', 'the rows of a list must differ');
      ids.add(id);
      titles.add(folded);
      return { id, title: rowTitle, ...(description ? { description } : {}) };
    });
    return { ...(title ? { title } : {}), rows };
  });
  return { button, sections };
}
