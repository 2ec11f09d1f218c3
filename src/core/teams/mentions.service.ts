import type { Clock } from '../../shared/clock.ts';
import { newId } from '../../shared/ids.ts';
import type { NotifyUserPort } from '../ports/notify.port.ts';
import type { MentionPort } from '../ports/teams.port.ts';
import type { InboxEventBus } from '../inbox/inbox-events.ts';
import { inScope, type InboxScope } from './inbox-scope.ts';
import type { TeamsService } from './teams.service.ts';

export interface MentionView {
  id: string;
  inboxId: string;
  conversationId: string;
  messageId: string;
  authorId: string | null;
  createdAt: number;
  read: boolean;
}

/**
 * The display names named as `@Name` in a note's text: a name counts when `@` stands at the start or after a space
 * or punctuation, and the name ends at the end of the text or before a character that is not a letter or digit.
 * Longer names win over their prefixes ("@Anna Maria" names Anna Maria, not Anna).
 */
export function mentionedNames(text: string, names: readonly string[]): string[] {
  const found: string[] = [];
  const lower = text.toLocaleLowerCase();
  const byLength = [...new Set(names)].filter((n) => n.trim()).sort((a, b) => b.length - a.length);
  const taken: [number, number][] = [];
  for (const name of byLength) {
    const needle = `@${name.toLocaleLowerCase()}`;
    let from = 0;
    for (;;) {
      const at = lower.indexOf(needle, from);
      if (at < 0) break;
      from = at + 1;
      const before = at === 0 ? '' : lower[at - 1]!;
      const after = lower[at + needle.length] ?? '';
      if (before && /[\p{L}\p{N}_]/u.test(before)) continue;
      if (after && /[\p{L}\p{N}_]/u.test(after)) continue;
      if (taken.some(([s, e]) => at >= s && at < e)) continue;
      taken.push([at, at + needle.length]);
      if (!found.includes(name)) found.push(name);
    }
  }
  return found;
}

/**
 * @mentions in internal notes: the colleagues named (who may see the conversation's inbox; never the author) get a
 * mention entry and a notification through the notify port. Ids only are stored; the note stays sealed.
 */
export class MentionsService {
  constructor(
    private readonly deps: {
      mentions: MentionPort;
      teams: TeamsService;
      notify: NotifyUserPort;
      events: InboxEventBus;
      clock: Clock;
    },
  ) {}

  /** Records and announces the mentions of a note just written; answers the ids of the users named. */
  async noteWritten(note: {
    text: string;
    inboxId: string;
    conversationId: string;
    messageId: string;
    authorId: string | null;
  }): Promise<string[]> {
    if (!note.text.includes('@')) return [];
    const eligible = (await this.deps.teams.members({ all: true }, note.inboxId)).filter((m) => m.id !== note.authorId);
    const named = new Set(
      mentionedNames(
        note.text,
        eligible.map((m) => m.displayName),
      ),
    );
    const users = eligible.filter((m) => named.has(m.displayName));
    if (users.length === 0) return [];
    const now = this.deps.clock.now().getTime();
    await this.deps.mentions.insertMentions(
      users.map((u) => ({
        id: newId(),
        user_id: u.id,
        inbox_id: note.inboxId,
        conversation_id: note.conversationId,
        message_id: note.messageId,
        author_id: note.authorId,
        created_at: now,
        read_at: null,
      })),
    );
    for (const u of users) {
      await this.deps.notify.notify({
        kind: 'mention',
        userId: u.id,
        inboxId: note.inboxId,
        conversationId: note.conversationId,
        messageId: note.messageId,
      });
    }
    return users.map((u) => u.id);
  }

  /** The user's mentions, newest first, within the inboxes they may still see. */
  async list(userId: string, scope: InboxScope, limit = 50): Promise<{ items: MentionView[]; unread: number }> {
    const rows = (await this.deps.mentions.listMentions(userId, 200)).filter((m) => inScope(scope, m.inbox_id));
    const items = rows.slice(0, limit).map((m) => ({
      id: m.id,
      inboxId: m.inbox_id,
      conversationId: m.conversation_id,
      messageId: m.message_id,
      authorId: m.author_id,
      createdAt: m.created_at,
      read: m.read_at !== null,
    }));
    return { items, unread: rows.filter((m) => m.read_at === null).length };
  }

  markRead(userId: string, ids: readonly string[] | undefined): Promise<number> {
    return this.deps.mentions.markMentionsRead(userId, ids, this.deps.clock.now().getTime());
  }
}
