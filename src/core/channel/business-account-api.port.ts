import type { TemplateCategory, TemplateContent } from '../ports/business-account.port.ts';

/** A template as the provider lists it. */
export interface ProviderTemplate extends TemplateContent {
  providerId: string | undefined;
  name: string;
  language: string;
  category: string;
  status: string;
  reason: string | undefined;
}

/** A new template to submit for review. */
export interface TemplateDraft extends TemplateContent {
  name: string;
  language: string;
  category: TemplateCategory;
}

/** A file given with a draft whose header is an image, document or video (Meta's review needs a sample). */
export interface SampleFile {
  data: Buffer;
  mimeType: string;
  fileName: string;
}

/** What the provider knows of the business phone number (Cloud API: GET /{phone-number-id}). */
export interface PhoneNumberInfo {
  verifiedName: string | undefined;
  displayPhoneNumber: string | undefined;
  qualityRating: string | undefined;
  messagingLimit: string | undefined;
  nameStatus: string | undefined;
  /** Whether the number may send now (`health_status.can_send_message`: AVAILABLE, LIMITED, BLOCKED), where known. */
  messagingStatus?: string;
}

/** The WhatsApp business profile of a phone number. */
export interface BusinessProfile {
  about: string;
  description: string;
  address: string;
  email: string;
  websites: string[];
  vertical: string;
  /** Short-lived URL of the profile photo at Meta (shown as a link, never fetched by sparsam's pages). */
  profilePictureUrl: string | undefined;
}

export type BusinessProfilePatch = Partial<Omit<BusinessProfile, 'profilePictureUrl'>>;

/**
 * The account management a WhatsApp channel offers besides messaging (Graph API): templates of its WhatsApp
 * Business Account, the phone number's info and business profile. Throws ChannelApiError / ChannelNetworkError
 * (./channel-errors.ts) like `send`.
 */
export interface BusinessAccountApi {
  /** Whether template calls are possible (the channel has a `businessAccountId`). */
  readonly hasBusinessAccount: boolean;
  /** Every template of the account, all pages. */
  listTemplates(): Promise<ProviderTemplate[]>;
  /** Submits a template for review; answers Meta's id, status and category. */
  createTemplate(
    draft: TemplateDraft,
    sample?: SampleFile,
  ): Promise<{ providerId: string; status: string; category: string }>;
  /** Deletes a template name (every language). */
  deleteTemplate(name: string): Promise<void>;
  phoneNumberInfo(): Promise<PhoneNumberInfo>;
  getProfile(): Promise<BusinessProfile>;
  /** Updates the given fields; a photo (already cleaned) is uploaded and set as the profile picture. */
  updateProfile(patch: BusinessProfilePatch, photo?: SampleFile): Promise<void>;
}
