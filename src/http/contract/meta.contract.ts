import { ALL_ROLES, defineRoute } from './api-route.ts';

/** The API describing itself. */
export const metaApi = {
  openapi: defineRoute({
    method: 'GET',
    url: '/api/v1/openapi.json',
    summary: 'This document (OpenAPI 3.1)',
    tags: ['meta'],
    roles: ALL_ROLES,
    access: 'public',
    response: { description: 'the OpenAPI document', contentType: 'application/json' },
  }),
} as const;
