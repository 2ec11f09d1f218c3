/**
 * Which inboxes a caller may see. Resolved once per request from the session (an agent's inbox memberships) or the
 * API token (its inbox limits), carried on the principal into every core use case, and checked where a conversation,
 * a file, a channel or an event is looked at: outside the scope a thing does not exist (404, never 403, so that an
 * id tells nothing about another inbox).
 */
export type InboxScope = { readonly all: true } | { readonly all: false; readonly inboxIds: readonly string[] };

/** Admins, the data protection officer and unrestricted API tokens. */
export const ALL_INBOXES: InboxScope = Object.freeze({ all: true });

/** A scope of exactly these inboxes (none: an agent who is in no inbox yet sees nothing). */
export function inboxesScope(inboxIds: Iterable<string>): InboxScope {
  return Object.freeze({ all: false, inboxIds: Object.freeze([...new Set(inboxIds)].sort()) });
}

/** Whether the scope admits the inbox. */
export function inScope(scope: InboxScope, inboxId: string): boolean {
  return scope.all || scope.inboxIds.includes(inboxId);
}

/** The inbox ids a store query must be limited to; undefined = no limit. */
export function scopeInboxIds(scope: InboxScope): readonly string[] | undefined {
  return scope.all ? undefined : scope.inboxIds;
}

/** The intersection of a scope with a further limit (an API token's inboxes within its role's reach). */
export function narrowScope(scope: InboxScope, inboxIds: readonly string[] | undefined): InboxScope {
  if (!inboxIds) return scope;
  return inboxesScope(inboxIds.filter((id) => inScope(scope, id)));
}

/**
 * Whether a live event may reach a caller: only events of inboxes in their scope, and a notification only its own
 * user (never a token or a colleague).
 */
export function eventVisibleTo(
  event: { inboxId: string; type: string; userId?: string },
  viewer: { scope: InboxScope; userId?: string | undefined },
): boolean {
  if (!inScope(viewer.scope, event.inboxId)) return false;
  if (event.type === 'user.notified') return viewer.userId !== undefined && event.userId === viewer.userId;
  return true;
}
