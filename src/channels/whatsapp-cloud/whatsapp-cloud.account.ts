import type {
  BusinessAccountApi,
  BusinessProfile,
  BusinessProfilePatch,
  PhoneNumberInfo,
  ProviderTemplate,
  SampleFile,
  TemplateDraft,
} from '../../core/channel/business-account-api.port.ts';
import { ChannelApiError } from '../../core/channel/channel-errors.ts';
import type { TemplateButton, TemplateContent, TemplateHeader } from '../../core/ports/business-account.port.ts';
import type { WhatsAppClient } from './whatsapp-cloud.client.ts';

/** Where the account calls go: the Graph root (base + version), the number, the account and the app. */
export interface WhatsAppAccountTarget {
  graphRoot: string;
  phoneNumberId: string;
  businessAccountId: string | undefined;
  appId: string | undefined;
  accessToken: string;
}

/** Pages fetched at most when listing templates (100 each): a runaway `paging` cannot loop forever. */
const MAX_PAGES = 50;

/**
 * The Graph API calls of a Cloud API channel's account management (docs/channels.md lists the sources):
 *
 * - templates: `GET /{waba-id}/message_templates?fields=…&limit=100`, paged by `paging.cursors.after` while
 *   `paging.next` is given (the cursor goes to the configured Graph root, never to the URL Meta put in `next`);
 *   `POST /{waba-id}/message_templates` with `name`, `language`, `category`, `components`;
 *   `DELETE /{waba-id}/message_templates?name=…` (every language of the name);
 * - the phone number: `GET /{phone-number-id}?fields=verified_name,display_phone_number,quality_rating,…`;
 * - the profile: `GET|POST /{phone-number-id}/whatsapp_business_profile`; a photo goes through the Resumable
 *   Upload API (`POST /{app-id}/uploads` then `POST /{upload-session-id}` with `file_offset: 0`), and its handle is
 *   set as `profile_picture_handle`. A template header's sample file takes the same way (`header_handle`).
 */
export class WhatsAppAccountApi implements BusinessAccountApi {
  constructor(
    private readonly client: WhatsAppClient,
    private readonly target: WhatsAppAccountTarget,
  ) {}

  get hasBusinessAccount(): boolean {
    return this.target.businessAccountId !== undefined;
  }

  #waba(): string {
    if (!this.target.businessAccountId) {
      throw new ChannelApiError(
        'invalid_request',
        'set businessAccountId on the channel to manage templates',
        400,
        false,
      );
    }
    return `${this.target.graphRoot}/${this.target.businessAccountId}`;
  }

  async listTemplates(): Promise<ProviderTemplate[]> {
    const templates: ProviderTemplate[] = [];
    let after: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const query = new URLSearchParams({
        fields: 'id,name,language,status,category,components,rejected_reason',
        limit: '100',
      });
      if (after) query.set('after', after);
      const answer = (await this.client.call(`${this.#waba()}/message_templates?${query}`, { method: 'GET' })) as
        { data?: unknown[]; paging?: { next?: unknown; cursors?: { after?: unknown } } } | undefined;
      for (const item of answer?.data ?? []) {
        const parsed = fromGraphTemplate(item);
        if (parsed) templates.push(parsed);
      }
      const next = answer?.paging?.next;
      const cursor = answer?.paging?.cursors?.after;
      if (typeof next !== 'string' || typeof cursor !== 'string' || cursor === after) break;
      after = cursor;
    }
    return templates;
  }

  async createTemplate(draft: TemplateDraft, sample?: SampleFile) {
    const handle = sample && draft.header && draft.header.format !== 'TEXT' ? await this.#upload(sample) : undefined;
    const answer = (await this.client.call(`${this.#waba()}/message_templates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: draft.name,
        language: draft.language,
        category: draft.category,
        components: toGraphComponents(draft, handle),
      }),
    })) as { id?: unknown; status?: unknown; category?: unknown } | undefined;
    if (typeof answer?.id !== 'string' && typeof answer?.id !== 'number') {
      throw new ChannelApiError('unexpected_answer', 'WhatsApp Cloud API gave no template id', 502, true);
    }
    return {
      providerId: String(answer.id),
      status: typeof answer.status === 'string' ? answer.status : 'PENDING',
      category: typeof answer.category === 'string' ? answer.category : draft.category,
    };
  }

  async deleteTemplate(name: string): Promise<void> {
    await this.client.call(`${this.#waba()}/message_templates?name=${encodeURIComponent(name)}`, {
      method: 'DELETE',
    });
  }

  async phoneNumberInfo(): Promise<PhoneNumberInfo> {
    const fields = 'verified_name,display_phone_number,quality_rating,messaging_limit_tier,name_status';
    const answer = (await this.client.call(`${this.target.graphRoot}/${this.target.phoneNumberId}?fields=${fields}`, {
      method: 'GET',
    })) as Record<string, unknown> | undefined;
    const str = (key: string) => (typeof answer?.[key] === 'string' ? (answer[key] as string) : undefined);
    return {
      verifiedName: str('verified_name'),
      displayPhoneNumber: str('display_phone_number'),
      qualityRating: str('quality_rating'),
      messagingLimit: str('messaging_limit_tier'),
      nameStatus: str('name_status'),
    };
  }

  async getProfile(): Promise<BusinessProfile> {
    return parseGraphProfile(
      await this.client.call(
        `${this.target.graphRoot}/${this.target.phoneNumberId}/whatsapp_business_profile?fields=${PROFILE_FIELDS}`,
        { method: 'GET' },
      ),
    );
  }

  async updateProfile(patch: BusinessProfilePatch, photo?: SampleFile): Promise<void> {
    const handle = photo ? await this.#upload(photo) : undefined;
    await this.client.call(`${this.target.graphRoot}/${this.target.phoneNumberId}/whatsapp_business_profile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        messaging_product: 'whatsapp',
        ...patch,
        ...(handle ? { profile_picture_handle: handle } : {}),
      }),
    });
  }

  /** The Resumable Upload API: a session for the file, then its bytes; answers the file handle. */
  async #upload(file: SampleFile): Promise<string> {
    if (!this.target.appId) {
      throw new ChannelApiError('invalid_request', 'set appId on the channel to upload files to Meta', 400, false);
    }
    const query = new URLSearchParams({
      file_name: file.fileName,
      file_length: String(file.data.length),
      file_type: file.mimeType,
    });
    const session = (await this.client.call(`${this.target.graphRoot}/${this.target.appId}/uploads?${query}`, {
      method: 'POST',
    })) as { id?: unknown } | undefined;
    if (typeof session?.id !== 'string' || !/^upload:[\w.=:-]+$/.test(session.id)) {
      throw new ChannelApiError('unexpected_answer', 'WhatsApp Cloud API gave no upload session', 502, true);
    }
    const done = (await this.client.call(`${this.target.graphRoot}/${session.id}`, {
      method: 'POST',
      // The upload step authenticates with "OAuth <token>" (Meta's Resumable Upload API guide).
      headers: { authorization: `OAuth ${this.target.accessToken}`, file_offset: '0' },
      body: new Uint8Array(file.data),
    })) as { h?: unknown } | undefined;
    if (typeof done?.h !== 'string' || done.h.length === 0) {
      throw new ChannelApiError('unexpected_answer', 'WhatsApp Cloud API gave no file handle', 502, true);
    }
    return done.h;
  }
}

/** The profile fields read from `whatsapp_business_profile`. */
export const PROFILE_FIELDS = 'about,address,description,email,profile_picture_url,websites,vertical';

/** Meta's profile answer (`{ data: [ { about, … } ] }`) as a {@link BusinessProfile}; missing fields are empty. */
export function parseGraphProfile(answer: unknown): BusinessProfile {
  const p = (answer as { data?: Record<string, unknown>[] } | undefined)?.data?.[0] ?? {};
  const str = (key: string) => (typeof p[key] === 'string' ? (p[key] as string) : '');
  return {
    about: str('about'),
    description: str('description'),
    address: str('address'),
    email: str('email'),
    websites: Array.isArray(p.websites) ? p.websites.filter((w): w is string => typeof w === 'string') : [],
    vertical: str('vertical'),
    profilePictureUrl: str('profile_picture_url') || undefined,
  };
}

/** A draft as Meta's `components` (positional parameters with their examples). */
export function toGraphComponents(content: TemplateContent, headerHandle?: string): Record<string, unknown>[] {
  const components: Record<string, unknown>[] = [];
  const header = content.header;
  if (header?.format === 'TEXT') {
    components.push({
      type: 'HEADER',
      format: 'TEXT',
      text: header.text,
      ...(header.example ? { example: { header_text: [header.example] } } : {}),
    });
  } else if (header) {
    components.push({
      type: 'HEADER',
      format: header.format,
      ...(headerHandle ? { example: { header_handle: [headerHandle] } } : {}),
    });
  }
  const examples = content.bodyExamples ?? [];
  components.push({
    type: 'BODY',
    text: content.body,
    ...(examples.length > 0 ? { example: { body_text: [examples] } } : {}),
  });
  if (content.footer) components.push({ type: 'FOOTER', text: content.footer });
  if (content.buttons.length > 0) {
    components.push({
      type: 'BUTTONS',
      buttons: content.buttons.map((b) => {
        if (b.type === 'URL') {
          return { type: 'URL', text: b.text, url: b.url, ...(b.example ? { example: [b.example] } : {}) };
        }
        if (b.type === 'PHONE_NUMBER') return { type: 'PHONE_NUMBER', text: b.text, phone_number: b.phoneNumber };
        return { type: 'QUICK_REPLY', text: b.text };
      }),
    });
  }
  return components;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** One item of Meta's template list; undefined when it lacks a name or language. */
export function fromGraphTemplate(item: unknown): ProviderTemplate | undefined {
  if (!item || typeof item !== 'object') return undefined;
  const t = item as Record<string, unknown>;
  const name = str(t.name);
  const language = str(t.language);
  if (!name || !language) return undefined;
  let header: TemplateHeader | undefined;
  let body = '';
  let bodyExamples: string[] | undefined;
  let footer: string | undefined;
  const buttons: TemplateButton[] = [];
  for (const c of Array.isArray(t.components) ? (t.components as Record<string, unknown>[]) : []) {
    const type = str(c.type)?.toUpperCase();
    if (type === 'HEADER') {
      const format = str(c.format)?.toUpperCase();
      if (format === 'TEXT') {
        const example = (c.example as { header_text?: unknown[] } | undefined)?.header_text?.[0];
        header = { format: 'TEXT', text: str(c.text) ?? '', ...(typeof example === 'string' ? { example } : {}) };
      } else if (format === 'IMAGE' || format === 'DOCUMENT' || format === 'VIDEO') {
        header = { format };
      }
    } else if (type === 'BODY') {
      body = str(c.text) ?? '';
      const examples = (c.example as { body_text?: unknown[][] } | undefined)?.body_text?.[0];
      if (Array.isArray(examples)) bodyExamples = examples.filter((e): e is string => typeof e === 'string');
    } else if (type === 'FOOTER') {
      footer = str(c.text);
    } else if (type === 'BUTTONS' && Array.isArray(c.buttons)) {
      for (const b of c.buttons as Record<string, unknown>[]) {
        const text = str(b.text) ?? '';
        const bType = str(b.type)?.toUpperCase();
        if (bType === 'URL') {
          const example = Array.isArray(b.example) ? str(b.example[0]) : undefined;
          buttons.push({ type: 'URL', text, url: str(b.url) ?? '', ...(example ? { example } : {}) });
        } else if (bType === 'PHONE_NUMBER') {
          buttons.push({ type: 'PHONE_NUMBER', text, phoneNumber: str(b.phone_number) ?? '' });
        } else if (bType === 'QUICK_REPLY') {
          buttons.push({ type: 'QUICK_REPLY', text });
        }
      }
    }
  }
  const reason = str(t.rejected_reason);
  return {
    providerId: typeof t.id === 'string' || typeof t.id === 'number' ? String(t.id) : undefined,
    name,
    language,
    category: str(t.category) ?? 'UTILITY',
    status: str(t.status) ?? 'PENDING',
    reason: reason && reason !== 'NONE' ? reason : undefined,
    body,
    buttons,
    ...(header ? { header } : {}),
    ...(footer ? { footer } : {}),
    ...(bodyExamples ? { bodyExamples } : {}),
  };
}
