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
import {
  fromGraphTemplate,
  parseGraphProfile,
  toGraphComponents,
  PROFILE_FIELDS,
} from '../whatsapp-cloud/whatsapp-cloud.account.ts';
import type { WhatsAppClient } from '../whatsapp-cloud/whatsapp-cloud.client.ts';

/** Templates asked for per page, and pages at most (a provider that never ends its list cannot loop forever). */
const PAGE_SIZE = 100;
const MAX_PAGES = 50;

/**
 * The account management of a number hosted by 360dialog (docs/channels.md lists the sources). The API key belongs
 * to one number and its WhatsApp Business Account, so no account id is needed in the paths:
 *
 * - templates: `GET {api}/v1/configs/templates?limit=…&offset=…` answers `{ count, total, waba_templates: [...] }`
 *   with Meta's template objects (status and category in lower case); `POST {api}/v1/configs/templates` takes Meta's body (`name`, `language`,
 *   `category`, `components`); `DELETE {api}/v1/configs/templates/{name}` deletes every language of the name;
 * - the profile: `GET|POST {api}/whatsapp_business_profile`, Meta's fields and answer;
 * - the number's state: `GET {api}/health_status` (`health_status.can_send_message`: AVAILABLE, LIMITED or
 *   BLOCKED). 360dialog does not pass on Meta's quality rating or messaging limit here; they arrive by webhook
 *   (`phone_number_quality_update`) like on the Cloud API.
 *
 * Files for Meta's review (a template header sample, a profile photo) go through Meta's Resumable Upload API with
 * the app's id, which a 360dialog customer does not hold: those two are refused with a clear message, the rest of
 * the draft or profile can be sent without them.
 */
export class Dialog360AccountApi implements BusinessAccountApi {
  readonly hasBusinessAccount = true;
  readonly #root: string;

  constructor(
    private readonly client: WhatsAppClient,
    apiBaseUrl: string,
  ) {
    this.#root = apiBaseUrl.replace(/\/+$/, '');
  }

  async listTemplates(): Promise<ProviderTemplate[]> {
    const templates: ProviderTemplate[] = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(page * PAGE_SIZE) });
      const answer = (await this.client.call(`${this.#root}/v1/configs/templates?${query}`, { method: 'GET' })) as
        { waba_templates?: unknown; total?: unknown } | undefined;
      const items = Array.isArray(answer?.waba_templates) ? (answer.waba_templates as unknown[]) : [];
      for (const item of items) {
        const parsed = fromGraphTemplate(item);
        // 360dialog writes status and category in lower case ("approved", "utility").
        if (parsed)
          templates.push({ ...parsed, status: parsed.status.toUpperCase(), category: parsed.category.toUpperCase() });
      }
      const total = typeof answer?.total === 'number' ? answer.total : undefined;
      if (items.length < PAGE_SIZE || (total !== undefined && (page + 1) * PAGE_SIZE >= total)) break;
    }
    return templates;
  }

  async createTemplate(draft: TemplateDraft, sample?: SampleFile) {
    if (sample && draft.header && draft.header.format !== 'TEXT') throw noUpload('a template header sample');
    const answer = (await this.client.call(`${this.#root}/v1/configs/templates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: draft.name,
        language: draft.language,
        category: draft.category,
        components: toGraphComponents(draft),
      }),
    })) as { id?: unknown; status?: unknown; category?: unknown } | undefined;
    if (typeof answer?.id !== 'string' && typeof answer?.id !== 'number') {
      throw new ChannelApiError('unexpected_answer', '360dialog gave no template id', 502, true);
    }
    return {
      providerId: String(answer.id),
      status: typeof answer.status === 'string' ? answer.status.toUpperCase() : 'PENDING',
      category: typeof answer.category === 'string' ? answer.category.toUpperCase() : draft.category,
    };
  }

  async deleteTemplate(name: string): Promise<void> {
    await this.client.call(`${this.#root}/v1/configs/templates/${encodeURIComponent(name)}`, { method: 'DELETE' });
  }

  async phoneNumberInfo(): Promise<PhoneNumberInfo> {
    const answer = (await this.client.call(`${this.#root}/health_status`, { method: 'GET' })) as
      { health_status?: { can_send_message?: unknown } } | undefined;
    const canSend = answer?.health_status?.can_send_message;
    return {
      verifiedName: undefined,
      displayPhoneNumber: undefined,
      qualityRating: undefined,
      messagingLimit: undefined,
      nameStatus: undefined,
      messagingStatus: typeof canSend === 'string' ? canSend : undefined,
    };
  }

  async getProfile(): Promise<BusinessProfile> {
    return parseGraphProfile(
      await this.client.call(`${this.#root}/whatsapp_business_profile?fields=${PROFILE_FIELDS}`, { method: 'GET' }),
    );
  }

  async updateProfile(patch: BusinessProfilePatch, photo?: SampleFile): Promise<void> {
    if (photo) throw noUpload('a profile photo');
    await this.client.call(`${this.#root}/whatsapp_business_profile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messaging_product: 'whatsapp', ...patch }),
    });
  }
}

function noUpload(what: string): ChannelApiError {
  return new ChannelApiError(
    'invalid_request',
    `360dialog: ${what} cannot be uploaded from sparsam (Meta's upload needs the app id); set it in the 360dialog Hub`,
    400,
    false,
  );
}
