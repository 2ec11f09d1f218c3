import { defineChannelModule } from '../channel-module.ts';
import { WEBCHAT_CAPABILITIES, createWebchatChannel } from './webchat.channel.ts';
import { webchatConfigSchema } from './webchat.config.ts';

/**
 * Kind `webchat`: a chat window on the organisation's own website, served by sparsam (one `<script>` tag). No
 * provider, no cookies, no third parties: the visitor's browser talks to sparsam's `/webchat/:channelId/…` routes
 * (src/http/webchat/webchat.routes.ts), and the visitor's side lives in core (VisitorChatService).
 */
export const webchatModule = defineChannelModule({
  kind: 'webchat',
  displayName: 'Website-Chat / website chat',
  configSchema: webchatConfigSchema,
  configExamples: {
    allowedOrigins: '["https://www.autohaus.example"]',
    primaryColour: '"#0b5cad"',
    position: '"right"',
  },
  secretFields: [],
  webhook: {
    segment: 'webchat',
    providerName: 'website chat',
    methods: ['POST'],
    body: 'json',
  },
  capabilities: {
    addressIsPhoneNumber: false,
    of: () => WEBCHAT_CAPABILITIES,
  },
  // Nothing to connect to: sparsam is the provider.
  connectionProbe: () => undefined,
  setupHint:
    'Embed <script src="<baseUrl>/webchat/<channelId>/widget.js" async></script> in your site and list its origin ' +
    'in allowedOrigins',
  // No processor: messages never leave sparsam.
  processors: [],
  create: (config, deps) => createWebchatChannel(config, deps),
});
