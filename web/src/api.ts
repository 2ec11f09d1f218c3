/** The inbox's only way to talk to sparsam: JSON over /api/v1 with the session cookie and the CSRF header. */

export interface ApiErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;

/** Now, for the reply window and erase dates; one place to correct a staff PC's clock later. */
export function serverNow(): number {
  return Date.now();
}
let onUnauthenticated: (() => void) | undefined;

export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}
export function setUnauthenticatedHandler(fn: () => void): void {
  onUnauthenticated = fn;
}

export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  opts: { quiet401?: boolean } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => ({}))) as T & Partial<ApiErrorBody> & { csrfToken?: string };
  if (!res.ok) {
    const e = data.error ?? { code: 'HTTP', message: `HTTP ${res.status}` };
    if (res.status === 401 && !opts.quiet401) onUnauthenticated?.();
    throw new ApiError(res.status, e.code, e.message, e.details);
  }
  if (data.csrfToken) csrfToken = data.csrfToken;
  return data;
}

/**
 * Uploads a file as the raw request body (no multipart), with its name and an optional caption in percent-encoded
 * headers: the caption is message text and must not end up in a URL that access logs keep.
 */
export async function upload<T>(path: string, file: File, caption?: string): Promise<T> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    'content-type': file.type || 'application/octet-stream',
    'x-attachment-name': encodeURIComponent(file.name),
  };
  if (caption) headers['x-attachment-caption'] = encodeURIComponent(caption);
  if (csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(`/api/v1${path}`, { method: 'POST', headers, credentials: 'same-origin', body: file });
  const data = (await res.json().catch(() => ({}))) as T & Partial<ApiErrorBody>;
  if (!res.ok) {
    const e = data.error ?? { code: 'HTTP', message: `HTTP ${res.status}` };
    if (res.status === 401) onUnauthenticated?.();
    throw new ApiError(res.status, e.code, e.message, e.details);
  }
  return data;
}

export const get = <T>(path: string, opts?: { quiet401?: boolean }) => api<T>('GET', path, undefined, opts);
export const post = <T>(path: string, body: unknown = {}) => api<T>('POST', path, body);
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body);
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const del = <T>(path: string) => api<T>('DELETE', path);

// Shapes of the REST API (see /api/v1/openapi.json).

export type Role = 'admin' | 'agent' | 'dpo';
export type Lang = 'de' | 'en';

export interface SessionUser {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  language: Lang;
  totpEnabled: boolean;
}

export interface SessionInfo {
  step: 'done' | 'totp' | 'enrol';
  csrfToken: string;
  user: SessionUser | { language: Lang };
}

export interface Person {
  id: string;
  name: string;
}

export interface ConversationSummary {
  id: string;
  label: string;
  inboxId: string;
  channelId: string;
  channelKind: string;
  state: 'open' | 'closed';
  assignee: Person | null;
  labels: string[];
  unread: number;
  lastActivityAt: string;
  windowClosesAt: string | null;
  /** The channel sends files from agents. */
  canSendFiles: boolean;
  /** The longest reply the channel takes, in characters; longer answers 422 TEXT_TOO_LONG. */
  maxTextChars: number;
  eraseAt: string | null;
}

export interface Message {
  id: string;
  direction: 'in' | 'out' | 'note' | 'system';
  kind: string;
  text: string | null;
  status: string;
  error: { code: string; reason: string } | null;
  media: { id: string; mimeType: string; size: number; url: string; state?: string } | null;
  author: Person | null;
  createdAt: string;
  edited?: boolean;
  deleted?: boolean;
  buttons?: { id: string; title: string }[];
  template?: { name: string; language: string; parameters: string[] };
}

export interface ConversationDetail {
  conversation: ConversationSummary & { eraseAfterCloseDays: number };
  messages: Message[];
}

export interface Template {
  name: string;
  language: string;
  category: string;
  body: string;
}

export interface QuickReply {
  id: string;
  shortcut: string;
  title: string;
  text: string;
}

export interface StaffMember {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  language: Lang;
  totpEnabled: boolean;
  disabled: boolean;
  locked: boolean;
  invitationPending: boolean;
}

export interface ChannelInfo {
  id: string;
  kind: string;
  inboxId: string;
  enabled: boolean;
  source: string;
  webhookUrl: string;
  verifyTokenHint: string | null;
  phoneNumberId: string | null;
}

export interface InboxPrivacy {
  retention: {
    consentTimeoutHours: number;
    autoCloseAfterDays: number;
    eraseAfterCloseDays: number;
    auditRetentionDays: number;
  };
  media: 'strip' | 'reject' | 'allow';
  notice: { de?: string; en?: string } | null;
  stopKeywords: string[];
}

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** Greeting and away message of an inbox as the admin screen edits them (GET/PUT /admin/inboxes). */
export interface AutomationForm {
  greeting: { enabled: boolean; text: { de: string; en: string } };
  away: {
    enabled: boolean;
    text: { de: string; en: string };
    timeZone: string;
    hours: Record<Weekday, string[]>;
    holidays: string[];
    cooldownHours: number;
  };
}

export interface InboxSettingsView {
  id: string;
  labelPrefix: string;
  language: string;
  settings: InboxPrivacy;
  defaults: InboxPrivacy;
  overridden: boolean;
  automation: AutomationForm;
}
