import type { Role } from '../ports/model.ts';
import type { MembershipPort } from '../ports/teams.port.ts';
import { ALL_INBOXES, inboxesScope, type InboxScope } from './inbox-scope.ts';

/**
 * Resolves the {@link InboxScope} of a caller, once per request: admins and the data protection officer see every
 * inbox; an agent sees the inboxes they are a member of; an API token sees what its role sees, narrowed to the
 * inboxes it was limited to (`sparsam token create --role agent --inbox ID`). An agent token without limits sees
 * every inbox (as agent tokens did before inbox memberships existed).
 */
export class AccessScopes {
  constructor(private readonly memberships: Pick<MembershipPort, 'inboxIdsOfUser' | 'inboxIdsOfToken'>) {}

  async forUser(user: { id: string; role: Role }): Promise<InboxScope> {
    if (user.role !== 'agent') return ALL_INBOXES;
    return inboxesScope(await this.memberships.inboxIdsOfUser(user.id));
  }

  async forToken(token: { id: string; role: Role }): Promise<InboxScope> {
    const limited = await this.memberships.inboxIdsOfToken(token.id);
    if (limited.length === 0) return ALL_INBOXES;
    return inboxesScope(limited);
  }
}
