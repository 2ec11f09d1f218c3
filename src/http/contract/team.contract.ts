import { z } from 'zod';
import { ADMIN_ROLES, AnyIdParams, OkSchema, RoleSchema, STAFF_ROLES, defineRoute } from './api-route.ts';

export const AssignBody = z.object({ userId: z.string().min(1).max(64).nullable() });
export const LabelsBody = z.object({ labels: z.array(z.string().max(80)).max(50) });
export const NoteBody = z.object({ text: z.string().min(1).max(8192) });
export const QuickReplyBody = z.object({
  shortcut: z.string().min(1).max(40),
  title: z.string().min(1).max(120),
  text: z.string().min(1).max(2048),
});

export const QuickReplySchema = z.object({
  id: z.string(),
  shortcut: z.string(),
  title: z.string(),
  text: z.string(),
  updatedAt: z.number(),
});
/** A label of the admins' list: a name ("Rückruf") and an optional colour. */
export const LabelEntrySchema = z.object({
  name: z.string(),
  color: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/)
    .nullable(),
});
export const LabelNameParams = z.object({ name: z.string().min(1).max(80) });
const LabelColor = z
  .string()
  .regex(/^#[0-9a-fA-F]{6}$/)
  .nullable();
export const LabelCreateBody = z.object({ name: z.string().min(1).max(40), color: LabelColor.optional() });
export const LabelColorBody = z.object({ color: LabelColor });
/** An admin or agent who can be assigned a conversation. */
export const TeamMemberSchema = z.object({
  id: z.string(),
  displayName: z.string(),
  role: RoleSchema,
  availability: z.enum(['online', 'away', 'offline']),
  inboxIds: z.array(z.string()).describe("the member's inboxes, as far as the caller may see them"),
});
/** The snooze menu's presets; the server computes their time in the organisation's time zone. */
export const SnoozePresetSchema = z.enum(['in-1-hour', 'tomorrow-9', 'next-monday-9']);
export const SnoozeBody = z
  .object({
    until: z.iso.datetime({ offset: true }).optional().describe('ISO time to wake up, e.g. 2027-01-04T09:00:00+01:00'),
    preset: SnoozePresetSchema.optional().describe(
      "instead of until: 'in-1-hour', 'tomorrow-9' or 'next-monday-9' (09:00 in organisation.timeZone)",
    ),
  })
  .strict()
  .refine((b) => (b.until === undefined) !== (b.preset === undefined), { message: 'give until or preset' });
export const MembersQuery = z
  .object({ inboxId: z.string().max(100).optional().describe('only those who may see this inbox') })
  .strict();

const tags = ['team'];
const roles = STAFF_ROLES;

/** Team work on conversations (assign, labels, notes, read), the team directory and the live events. */
export const teamApi = {
  assign: defineRoute({
    method: 'POST',
    url: '/api/v1/conversations/:id/assign',
    summary: 'Assign to an admin or agent, or unassign (null)',
    tags,
    roles,
    params: AnyIdParams,
    body: AssignBody,
    response: { description: 'done', schema: OkSchema },
  }),
  labels: defineRoute({
    method: 'POST',
    url: '/api/v1/conversations/:id/labels',
    summary: 'Replace the labels',
    tags,
    roles,
    params: AnyIdParams,
    body: LabelsBody,
    response: { description: 'the labels', schema: z.object({ labels: z.array(z.string()) }) },
  }),
  priority: defineRoute({
    method: 'POST',
    url: '/api/v1/conversations/:id/priority',
    summary: "Set the priority ('normal' or 'high'); audited",
    tags,
    roles,
    params: AnyIdParams,
    body: z.object({ priority: z.enum(['normal', 'high']) }).strict(),
    response: { description: 'set', schema: z.object({ priority: z.enum(['normal', 'high']) }) },
  }),
  snooze: defineRoute({
    method: 'POST',
    url: '/api/v1/conversations/:id/snooze',
    summary:
      'Snooze an open conversation until a time: it leaves the open lists (view=snoozed lists it) and comes back by ' +
      'itself at that time, or earlier when the customer writes; audited',
    tags,
    roles,
    params: AnyIdParams,
    body: SnoozeBody,
    response: { description: 'snoozed', schema: z.object({ snoozedUntil: z.string().describe('ISO time') }) },
    errors: {
      400: "VALIDATION with details.reason 'until_in_past' (not in the future) or 'until_too_far' (over a year ahead)",
      404: 'no such conversation',
      409: 'the conversation is closed',
    },
  }),
  unsnooze: defineRoute({
    method: 'POST',
    url: '/api/v1/conversations/:id/unsnooze',
    summary: 'End a snooze now (the conversation is back in the open lists); nothing happens when it is not snoozed',
    tags,
    roles,
    params: AnyIdParams,
    response: { description: 'done', schema: OkSchema },
    errors: { 404: 'no such conversation', 409: 'the conversation is closed' },
  }),
  note: defineRoute({
    method: 'POST',
    url: '/api/v1/conversations/:id/notes',
    summary: 'Add an internal note (sealed, never sent)',
    tags,
    roles,
    params: AnyIdParams,
    body: NoteBody,
    response: {
      status: 201,
      description: 'the note',
      schema: z.object({ note: z.object({ id: z.string(), createdAt: z.string() }) }),
    },
  }),
  read: defineRoute({
    method: 'POST',
    url: '/api/v1/conversations/:id/read',
    summary: 'Mark as read',
    tags,
    roles,
    params: AnyIdParams,
    response: { description: 'done', schema: OkSchema },
  }),
  members: defineRoute({
    method: 'GET',
    url: '/api/v1/team/members',
    summary: "Active admins and agents (assignees); for an agent only colleagues of the agent's inboxes",
    tags,
    roles,
    query: MembersQuery,
    response: { description: 'the assignees', schema: z.object({ items: z.array(TeamMemberSchema) }) },
  }),
  knownLabels: defineRoute({
    method: 'GET',
    url: '/api/v1/labels',
    summary: 'The names of the label list the admins keep (what agents can pick)',
    tags,
    roles,
    response: { description: 'labels', schema: z.object({ items: z.array(z.string()) }) },
  }),
  labelCatalogue: defineRoute({
    method: 'GET',
    url: '/api/v1/labels/catalogue',
    summary: 'The label list with colours',
    tags,
    roles,
    response: { description: 'the label list', schema: z.object({ items: z.array(LabelEntrySchema) }) },
  }),
  createLabel: defineRoute({
    method: 'POST',
    url: '/api/v1/labels',
    summary: 'Add a label to the list (admins)',
    tags,
    roles: ADMIN_ROLES,
    body: LabelCreateBody,
    response: { status: 201, description: 'added', schema: z.object({ item: LabelEntrySchema }) },
    errors: { 409: 'a label of this name is in the list' },
  }),
  updateLabel: defineRoute({
    method: 'PATCH',
    url: '/api/v1/labels/:name',
    summary: "Change a label's colour (null: none) (admins)",
    tags,
    roles: ADMIN_ROLES,
    params: LabelNameParams,
    body: LabelColorBody,
    response: { description: 'changed', schema: z.object({ item: LabelEntrySchema }) },
  }),
  deleteLabel: defineRoute({
    method: 'DELETE',
    url: '/api/v1/labels/:name',
    summary: 'Remove a label from the list and from every conversation (admins)',
    tags,
    roles: ADMIN_ROLES,
    params: LabelNameParams,
    response: { description: 'removed', schema: z.object({ conversations: z.number().int() }) },
  }),
  events: defineRoute({
    method: 'GET',
    url: '/api/v1/events',
    summary: 'Live inbox events (server-sent events, content-free: ids and states)',
    tags: ['events'],
    roles,
    response: { description: 'event stream', contentType: 'text/event-stream' },
  }),
} as const;

const qrTags = ['quick-replies'];

/** Quick replies (Textbausteine): agents and admins read them in the composer; admins manage them. */
export const quickRepliesApi = {
  list: defineRoute({
    method: 'GET',
    url: '/api/v1/quick-replies',
    summary: 'Quick replies (Textbausteine)',
    tags: qrTags,
    roles: STAFF_ROLES,
    response: { description: 'the quick replies', schema: z.object({ items: z.array(QuickReplySchema) }) },
  }),
  create: defineRoute({
    method: 'POST',
    url: '/api/v1/quick-replies',
    summary: 'Add a quick reply',
    tags: qrTags,
    roles: ADMIN_ROLES,
    body: QuickReplyBody,
    response: { status: 201, description: 'added', schema: z.object({ item: QuickReplySchema }) },
    errors: { 409: 'shortcut in use' },
  }),
  update: defineRoute({
    method: 'PUT',
    url: '/api/v1/quick-replies/:id',
    summary: 'Change a quick reply',
    tags: qrTags,
    roles: ADMIN_ROLES,
    params: AnyIdParams,
    body: QuickReplyBody,
    response: { description: 'changed', schema: z.object({ item: QuickReplySchema }) },
  }),
  remove: defineRoute({
    method: 'DELETE',
    url: '/api/v1/quick-replies/:id',
    summary: 'Delete a quick reply',
    tags: qrTags,
    roles: ADMIN_ROLES,
    params: AnyIdParams,
    response: { status: 204, description: 'deleted' },
  }),
} as const;

const viewTags = ['saved-views'];

/** A saved view: a named list filter of one staff member. No search text (it could hold a name or a number). */
export const SavedViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  view: z.enum(['mine', 'unassigned', 'all', 'closed', 'snoozed']),
  label: z.string().nullable().describe("a label of the admins' list"),
  channel: z.string().nullable().describe('a channel id'),
  sort: z.enum(['activity', 'priority']),
});
export const SavedViewBody = z
  .object({
    name: z.string().min(1).max(80),
    view: z.enum(['mine', 'unassigned', 'all', 'closed', 'snoozed']),
    label: z.string().max(80).nullable().optional(),
    channel: z.string().max(100).nullable().optional(),
    sort: z.enum(['activity', 'priority']).optional(),
  })
  .strict();

/** Saved views: personal list filters of the signed-in staff member (a session; API tokens have none). */
export const savedViewsApi = {
  list: defineRoute({
    method: 'GET',
    url: '/api/v1/views',
    summary: "The caller's saved views, oldest first",
    tags: viewTags,
    roles: STAFF_ROLES,
    access: 'session',
    response: { description: 'the saved views', schema: z.object({ items: z.array(SavedViewSchema) }) },
  }),
  create: defineRoute({
    method: 'POST',
    url: '/api/v1/views',
    summary: 'Save the current list filter under a name (view, label, channel, sort; never a search text)',
    tags: viewTags,
    roles: STAFF_ROLES,
    access: 'session',
    body: SavedViewBody,
    response: { status: 201, description: 'saved', schema: z.object({ item: SavedViewSchema }) },
    errors: {
      400: "a name of 1-40 characters, a label from the admins' list, at most 20 views",
      409: 'the caller has a view of this name',
    },
  }),
  remove: defineRoute({
    method: 'DELETE',
    url: '/api/v1/views/:id',
    summary: "Delete one of the caller's saved views",
    tags: viewTags,
    roles: STAFF_ROLES,
    access: 'session',
    params: AnyIdParams,
    response: { status: 204, description: 'deleted' },
    errors: { 404: 'no such view (or one of another user)' },
  }),
} as const;
