/**
 * The /api/v1 contract: every operation's request and response shapes and roles, written once as zod schemas. The
 * server registers and documents its routes from these definitions; the web inbox imports the types only.
 */
import type { ApiRoute, BodyOf, ParamsOf, QueryOf, ResponseOf } from './api-route.ts';
import { adminApi } from './admin.contract.ts';
import { channelAdminApi } from './channel-admin.contract.ts';
import { authApi, meApi } from './auth.contract.ts';
import { complianceApi } from './compliance.contract.ts';
import { conversationsApi } from './conversations.contract.ts';
import { marketingApi } from './marketing.contract.ts';
import { metaApi } from './meta.contract.ts';
import { notificationsApi } from './notifications.contract.ts';
import { quickRepliesApi, savedViewsApi, teamApi } from './team.contract.ts';
import { reportsApi } from './reports.contract.ts';
import { usersApi } from './users.contract.ts';
import { webhooksApi } from './webhooks.contract.ts';
import { teamsApi } from './teams.contract.ts';
import { whatsappAccountApi } from './whatsapp-account.contract.ts';

export * from './api-route.ts';
export * from './admin.contract.ts';
export * from './channel-admin.contract.ts';
export * from './auth.contract.ts';
export * from './compliance.contract.ts';
export * from './conversations.contract.ts';
export * from './marketing.contract.ts';
export * from './meta.contract.ts';
export * from './notifications.contract.ts';
export * from './team.contract.ts';
export * from './reports.contract.ts';
export * from './users.contract.ts';
export * from './webhooks.contract.ts';
export * from './teams.contract.ts';
export * from './whatsapp-account.contract.ts';

/** Every operation of /api/v1, by area. */
export const api = {
  auth: authApi,
  me: meApi,
  users: usersApi,
  team: teamApi,
  quickReplies: quickRepliesApi,
  savedViews: savedViewsApi,
  admin: adminApi,
  channelAdmin: channelAdminApi,
  conversations: conversationsApi,
  compliance: complianceApi,
  marketing: marketingApi,
  meta: metaApi,
  webhooks: webhooksApi,
  teams: teamsApi,
  whatsappAccount: whatsappAccountApi,
  notifications: notificationsApi,
  reports: reportsApi,
} as const;

type AllRoutes = { [A in keyof typeof api]: (typeof api)[A][keyof (typeof api)[A]] }[keyof typeof api];

/** "GET /conversations/:id": an operation's key, its path without the /api/v1 prefix. */
export type EndpointKey<R extends ApiRoute> = R extends { method: infer M extends string; url: `/api/v1${infer P}` }
  ? `${M} ${P}`
  : never;

/** The types of every operation by its key, for a typed client. */
export type Endpoints = {
  [R in AllRoutes as EndpointKey<R>]: {
    params: ParamsOf<R>;
    query: QueryOf<R>;
    body: BodyOf<R>;
    response: ResponseOf<R>;
  };
};
