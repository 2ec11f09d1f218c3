/** The inbox's only way to talk to sparsam: JSON over /api/v1 with the session cookie and the CSRF header. */
// The shapes come from the server's contract (src/http/contract), as types only: nothing of it reaches the bundle,
// and a change of a server shape fails `tsc -p web/tsconfig.json` wherever the inbox has not followed.
import type { z } from 'zod';
import type * as contract from '../../src/http/contract/index.ts';

export type ApiErrorBody = z.infer<typeof contract.ErrorSchema>;

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
export async function upload<T>(
  path: string,
  file: File,
  caption?: string,
  options: { voice?: boolean } = {},
): Promise<T> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    'content-type': file.type || 'application/octet-stream',
    'x-attachment-name': encodeURIComponent(file.name),
  };
  if (caption) headers['x-attachment-caption'] = encodeURIComponent(caption);
  // A recording from the microphone button: sent as a voice message where the channel has them.
  if (options.voice) headers['x-attachment-voice'] = '1';
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

/**
 * Calls one operation of the contract by its key (e.g. `'PATCH /users/:id'`): the path parameters, query and body
 * are typed by the contract, and so is the answer.
 */
export async function call<K extends Endpoint>(
  endpoint: K,
  ...[input]: keyof CallInput<K> extends never ? [input?: CallInput<K>] : [input: CallInput<K>]
): Promise<Endpoints[K]['response']> {
  const space = endpoint.indexOf(' ');
  const method = endpoint.slice(0, space);
  const given = (input ?? {}) as { params?: Record<string, string>; query?: Record<string, unknown>; body?: unknown };
  let path = endpoint
    .slice(space + 1)
    .replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => encodeURIComponent(given.params?.[name] ?? ''));
  if (given.query) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(given.query)) if (value !== undefined) search.set(key, String(value));
    const text = search.toString();
    if (text) path += `?${text}`;
  }
  const body = given.body ?? (method === 'GET' || method === 'DELETE' ? undefined : {});
  return api<Endpoints[K]['response']>(method, path, body);
}

// Shapes of the REST API (see /api/v1/openapi.json), all from the contract.

/** Every operation by its key, `"METHOD /path"` without the /api/v1 prefix, with its params, query, body, answer. */
export type Endpoints = contract.Endpoints;
export type Endpoint = keyof Endpoints;
/** What {@link call} needs for an operation: the path parameters, the query (optional) and the body it takes. */
export type CallInput<K extends Endpoint> = ([Endpoints[K]['params']] extends [never]
  ? unknown
  : { params: Endpoints[K]['params'] }) &
  ([Endpoints[K]['query']] extends [never] ? unknown : { query?: Endpoints[K]['query'] }) &
  ([Endpoints[K]['body']] extends [never] ? unknown : { body: Endpoints[K]['body'] });

export type Role = contract.Role;
export type Lang = contract.Lang;
export type Weekday = z.infer<typeof contract.WeekdaySchema>;

export type SessionUser = z.infer<typeof contract.SessionUserSchema>;
export type SessionInfo = z.infer<typeof contract.SessionSchema>;

export type Person = z.infer<typeof contract.PersonSchema>;
export type ConversationSummary = z.infer<typeof contract.ConversationSummarySchema>;
export type TeamReport = z.infer<typeof contract.TeamReportSchema>;
export type SearchResult = z.infer<typeof contract.SearchResultSchema>;
export type ConversationSearchHit = SearchResult['items'][number];
export type Message = z.infer<typeof contract.MessageSchema>;
export type ConversationDetail = z.infer<typeof contract.ConversationDetailSchema>;
export type Template = z.infer<typeof contract.TemplateSchema>;
export type QuickReply = z.infer<typeof contract.QuickReplySchema>;
export type LabelEntry = z.infer<typeof contract.LabelEntrySchema>;
export type TeamMember = z.infer<typeof contract.TeamMemberSchema>;

export type StaffMember = z.infer<typeof contract.StaffMemberSchema>;
export type Availability = z.infer<typeof contract.AvailabilitySchema>;
export type Presence = z.infer<typeof contract.PresenceSchema>;
export type Mention = z.infer<typeof contract.MentionSchema>;
export type AssignmentSettings = z.infer<typeof contract.AssignmentSettingsSchema>;
export type ApiToken = z.infer<typeof contract.ApiTokenSchema>;
export type Invitation = z.infer<typeof contract.InvitationSchema>;
export type ChannelInfo = z.infer<typeof contract.ChannelInfoSchema>;
export type WebhookEndpoint = z.infer<typeof contract.WebhookEndpointSchema>;
export type WebhookDelivery = z.infer<typeof contract.WebhookDeliverySchema>;
export type WebhookEventType = z.infer<typeof contract.WebhookEventTypeSchema>;
export type LegalBasis = z.infer<typeof contract.LegalBasisSchema>;
export type ChannelCheck = z.infer<typeof contract.ChannelCheckSchema>;
export type ChannelBalance = z.infer<typeof contract.ChannelBalanceSchema>;
export type InboxPrivacy = z.infer<typeof contract.InboxPrivacySchema>;
/** Greeting and away message of an inbox as the admin screen edits them (GET/PUT /admin/inboxes). */
export type AutomationForm = z.infer<typeof contract.AutomationFormSchema>;
export type InboxSettingsView = z.infer<typeof contract.InboxSettingsSchema>;
/** A website chat's look, embed code and page (GET/PUT /admin/channels/:id/webchat). */
export type WebchatSettings = z.infer<typeof contract.WebchatSettingsSchema>;

export type AuditEntry = z.infer<typeof contract.AuditEntrySchema>;
export type AuditVerdict = z.infer<typeof contract.AuditVerdictSchema>;
export type ErasureReceipt = z.infer<typeof contract.ReceiptSchema>;
export type Breach = z.infer<typeof contract.BreachSchema>;
export type Reveal = z.infer<typeof contract.RevealSchema>;
export type RevealEntry = z.infer<typeof contract.RevealEntrySchema>;
export type ComplianceChannel = z.infer<typeof contract.ComplianceChannelSchema>;
export type Campaign = z.infer<typeof contract.CampaignSchema>;

// WhatsApp account (templates, health, business profile)
export type ChannelTemplate = z.infer<typeof contract.ChannelTemplateSchema>;
export type TemplateButton = z.infer<typeof contract.TemplateButtonSchema>;
export type ChannelHealthView = z.infer<typeof contract.ChannelHealthSchema>;
export type BusinessProfileView = z.infer<typeof contract.BusinessProfileSchema>;
export type PhoneNumberInfoView = z.infer<typeof contract.PhoneNumberInfoSchema>;
