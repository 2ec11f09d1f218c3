import { AppError } from '../../shared/app-error.ts';
import type { TemplateDraft } from '../channel/business-account-api.port.ts';
import type { TemplateButton, TemplateContent } from '../ports/business-account.port.ts';

/**
 * Meta's documented limits for message templates (developers.facebook.com/documentation/business-messaging/whatsapp/
 * templates/components; docs/channels.md lists the sources): name lower-case letters, digits and _ up to 512;
 * header text 60 characters with at most one placeholder; body 1024; footer 60; at most 10 buttons, of them at most
 * 2 URL buttons and 1 phone-number button; button texts 25; URLs 2000 with at most one placeholder, at the end;
 * phone numbers 20 characters.
 */
export const TEMPLATE_LIMITS = Object.freeze({
  name: 512,
  headerText: 60,
  body: 1024,
  footer: 60,
  buttons: 10,
  urlButtons: 2,
  phoneButtons: 1,
  buttonText: 25,
  url: 2000,
  phoneNumber: 20,
  example: 200,
});

const length = (s: string) => [...s].length;

/** The placeholder numbers of a text, in order of appearance ({{1}} … {{n}}). */
export function placeholders(text: string): number[] {
  return [...text.matchAll(/\{\{\s*(\d+)\s*\}\}/g)].map((m) => Number(m[1]));
}

/** How many positional parameters a text takes: the highest n of its {{n}}. */
export function parameterCount(text: string | undefined): number {
  return text ? Math.max(0, ...placeholders(text)) : 0;
}

/** Fills {{n}} with `values[n-1]` (an unfilled placeholder stays visible as {{n}}). */
export function fillPlaceholders(text: string, values: readonly string[]): string {
  return text.replace(/\{\{\s*(\d+)\s*\}\}/g, (all, n: string) => values[Number(n) - 1] ?? all);
}

function refuse(field: string, message: string, extra: Record<string, unknown> = {}): never {
  throw new AppError('VALIDATION', message, { field, ...extra });
}

/** Placeholders must be {{1}} … {{n}} without gaps, each a plain number. */
function checkPlaceholders(field: string, text: string, max: number): number {
  const numbers = placeholders(text);
  if (/\{\{(?!\s*\d+\s*\}\})/.test(text)) refuse(field, `${field}: placeholders are written {{1}}, {{2}} …`);
  const highest = Math.max(0, ...numbers);
  if (highest > max) refuse(field, `${field}: at most ${max} placeholder(s)`, { limit: max });
  for (let n = 1; n <= highest; n++) {
    if (!numbers.includes(n)) refuse(field, `${field}: placeholders are numbered {{1}} to {{${highest}}} without gaps`);
  }
  return highest;
}

/**
 * Checks a draft against Meta's limits before anything is sent, so that the admin learns at once what to change.
 * @throws AppError('VALIDATION') naming the field.
 */
export function checkTemplateDraft(draft: TemplateDraft): void {
  if (!/^[a-z0-9_]+$/.test(draft.name) || draft.name.length > TEMPLATE_LIMITS.name) {
    refuse('name', 'the name is lower-case letters, digits and _ (at most 512)');
  }
  if (!/^[a-z]{2,3}(_[A-Z]{2})?$/.test(draft.language))
    refuse('language', 'the language is a code such as de or en_US');
  checkContent(draft);
}

export function checkContent(content: TemplateContent): void {
  const body = content.body;
  if (body.trim().length === 0) refuse('body', 'the body is empty');
  if (length(body) > TEMPLATE_LIMITS.body) refuse('body', 'the body is too long', { limit: TEMPLATE_LIMITS.body });
  const bodyParams = checkPlaceholders('body', body, 100);
  // Meta refuses bodies that start or end with a placeholder.
  if (bodyParams > 0 && (/^\s*\{\{/.test(body) || /\}\}\s*$/.test(body))) {
    refuse('body', 'the body may not start or end with a placeholder');
  }
  const examples = content.bodyExamples ?? [];
  if (examples.length !== bodyParams || examples.some((e) => e.trim().length === 0)) {
    refuse('bodyExamples', `give one example for each of the ${bodyParams} body placeholder(s)`, {
      expected: bodyParams,
    });
  }
  if (examples.some((e) => length(e) > TEMPLATE_LIMITS.example)) refuse('bodyExamples', 'an example is too long');
  const header = content.header;
  if (header?.format === 'TEXT') {
    if (header.text.trim().length === 0) refuse('header', 'the header text is empty');
    if (length(header.text) > TEMPLATE_LIMITS.headerText) {
      refuse('header', 'the header text is too long', { limit: TEMPLATE_LIMITS.headerText });
    }
    const n = checkPlaceholders('header', header.text, 1);
    if (n === 1 && !header.example?.trim()) refuse('header', 'give an example for the header placeholder');
  }
  if (content.footer !== undefined) {
    if (content.footer.trim().length === 0) refuse('footer', 'the footer is empty');
    if (length(content.footer) > TEMPLATE_LIMITS.footer) {
      refuse('footer', 'the footer is too long', { limit: TEMPLATE_LIMITS.footer });
    }
    if (placeholders(content.footer).length > 0) refuse('footer', 'the footer cannot have placeholders');
  }
  checkButtons(content.buttons);
}

function checkButtons(buttons: readonly TemplateButton[]): void {
  if (buttons.length > TEMPLATE_LIMITS.buttons) refuse('buttons', 'at most 10 buttons', { limit: 10 });
  const count = (type: TemplateButton['type']) => buttons.filter((b) => b.type === type).length;
  if (count('URL') > TEMPLATE_LIMITS.urlButtons) refuse('buttons', 'at most 2 URL buttons');
  if (count('PHONE_NUMBER') > TEMPLATE_LIMITS.phoneButtons) refuse('buttons', 'at most 1 phone number button');
  // Meta: quick replies and the other buttons are grouped, never interleaved.
  const firstQuick = buttons.findIndex((b) => b.type === 'QUICK_REPLY');
  const lastQuick = buttons.findLastIndex((b) => b.type === 'QUICK_REPLY');
  if (firstQuick >= 0 && buttons.slice(firstQuick, lastQuick + 1).some((b) => b.type !== 'QUICK_REPLY')) {
    refuse('buttons', 'quick-reply buttons are grouped together, before or after the other buttons');
  }
  for (const b of buttons) {
    if (b.text.trim().length === 0 || length(b.text) > TEMPLATE_LIMITS.buttonText) {
      refuse('buttons', 'a button text is 1-25 characters', { limit: TEMPLATE_LIMITS.buttonText });
    }
    if (b.type === 'URL') {
      if (!/^https?:\/\/[^\s]+$/.test(b.url) || b.url.length > TEMPLATE_LIMITS.url) {
        refuse('buttons', 'a URL button needs an http(s) address of at most 2000 characters');
      }
      const n = checkPlaceholders('buttons', b.url, 1);
      if (n === 1 && !/\{\{\s*1\s*\}\}$/.test(b.url)) refuse('buttons', 'the URL placeholder {{1}} must be at its end');
      if (n === 1 && !b.example?.trim()) refuse('buttons', 'give an example for the URL placeholder');
    }
    if (b.type === 'PHONE_NUMBER' && !/^\+?[0-9]{4,19}$/.test(b.phoneNumber.replace(/[\s-]/g, ''))) {
      refuse('buttons', 'a phone number button needs a number in international format (at most 20 characters)');
    }
  }
}

/** The values an agent fills in for one send of a template. */
export interface TemplateFill {
  parameters: string[];
  headerText?: string | undefined;
  headerLink?: string | undefined;
  buttonParameters?: string[] | undefined;
}

/** The URL buttons with a placeholder, with their index among all buttons (Meta's `index` parameter). */
export function dynamicUrlButtons(content: TemplateContent): { index: number; button: TemplateButton }[] {
  return content.buttons
    .map((button, index) => ({ index, button }))
    .filter(({ button }) => button.type === 'URL' && parameterCount(button.url) === 1);
}

/**
 * Checks that an agent's values fill the template: one per body placeholder, the header placeholder or file, one
 * per URL button with a placeholder. @throws AppError('VALIDATION') naming what is missing.
 */
export function checkTemplateFill(content: TemplateContent, fill: TemplateFill): void {
  const expected = parameterCount(content.body);
  if (fill.parameters.length !== expected || fill.parameters.some((p) => p.trim().length === 0)) {
    throw new AppError('VALIDATION', `the template needs ${expected} parameter(s), got ${fill.parameters.length}`, {
      field: 'template.parameters',
      expected,
    });
  }
  const header = content.header;
  if (header?.format === 'TEXT' && parameterCount(header.text) === 1 && !fill.headerText?.trim()) {
    refuse('template.headerText', 'the template header needs a value');
  }
  if (header && header.format !== 'TEXT' && !/^https:\/\/\S+$/.test(fill.headerLink ?? '')) {
    refuse('template.headerLink', 'the template header needs the https address of the file');
  }
  const buttons = dynamicUrlButtons(content);
  const given = fill.buttonParameters ?? [];
  if (given.length !== buttons.length || given.some((p) => p.trim().length === 0)) {
    refuse('template.buttonParameters', `the template's link buttons need ${buttons.length} value(s)`, {
      expected: buttons.length,
    });
  }
}
