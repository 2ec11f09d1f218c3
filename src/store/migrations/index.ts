import type { SparsamMigration } from './migration.ts';
import { foundation } from './main.001-foundation.ts';
import { privacy } from './main.002-privacy.ts';
import { inbox } from './main.003-inbox.ts';
import { keystore } from './keys.001-keystore.ts';
import { keystorePrivacy } from './keys.002-privacy.ts';
import { web } from './main.005-web.ts';
import { compliance } from './main.007-compliance.ts';
import { marketing } from './main.008-marketing.ts';
import { totpSteps } from './main.009-totp-steps.ts';
import { sendPacing } from './main.010-send-pacing.ts';
import { parkedStatuses } from './main.011-parked-statuses.ts';
import { inboundReceipts } from './main.012-inbound-receipts.ts';
import { webhooks } from './main.016-webhooks.ts';
import { labelCatalogue } from './main.023-label-catalogue.ts';
import { dailyCounts } from './main.018-daily-counts.ts';
import { publicKeyPins } from './main.014-public-key-pins.ts';
import { keystoreSealedSecrets } from './keys.004-sealed-secrets.ts';
import { security } from './main.017-security.ts';
import { teams } from './main.020-teams.ts';
import { whatsappAccount } from './main.019-whatsapp-account.ts';
import { notifications } from './main.021-notifications.ts';
import { reportFacts } from './main.022-report-facts.ts';
import { conversationPriority } from './main.024-priority.ts';
import { snooze } from './main.025-snooze.ts';
import { savedViews } from './main.026-saved-views.ts';
import { csatSurveys } from './main.027-csat.ts';
import { messageIndexes } from './main.028-message-indexes.ts';
import { campaignQueue } from './main.029-campaign-queue.ts';

/**
 * Migrations of the main database, in order. Names are numbered and never change once released; a new table or
 * column is a new file, run on both dialects by test/store/migrations.test.ts.
 */
export const mainMigrations: readonly SparsamMigration[] = [
  foundation,
  privacy,
  inbox,
  web,
  compliance,
  marketing,
  totpSteps,
  sendPacing,
  parkedStatuses,
  inboundReceipts,
  publicKeyPins,
  webhooks,
  security,
  dailyCounts,
  whatsappAccount,
  teams,
  notifications,
  reportFacts,
  labelCatalogue,
  conversationPriority,
  snooze,
  savedViews,
  csatSurveys,
  messageIndexes,
  campaignQueue,
];

/** Migrations of the key store. */
export const keystoreMigrations: readonly SparsamMigration[] = [keystore, keystorePrivacy, keystoreSealedSecrets];
