import { AppError } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import { newId, newMessageId } from '../../shared/ids.ts';
import type { QuickReplyRecord, Role } from '../ports/model.ts';
import type { LabelEntry, TeamPort } from '../ports/team.port.ts';
import type { UserPort } from '../ports/user.port.ts';
import type { WebPort } from '../ports/web.port.ts';
import type { InboxEventBus } from './inbox-events.ts';
import { messageStamp } from './inbox.ports.ts';
import type { OutgoingEventSink } from '../webhooks/outgoing-events.ts';
import { inScope, type InboxScope } from '../teams/inbox-scope.ts';

/** What team work needs from teams: who may see an inbox (assignees), and the mention hook of notes. */
export interface TeamAccess {
  maySee(user: { id: string; role: Role }, inboxId: string): Promise<boolean>;
  noteWritten(note: {
    text: string;
    inboxId: string;
    conversationId: string;
    messageId: string;
    authorId: string | null;
  }): Promise<string[]>;
  /** Tells a colleague that a conversation was given to them (the notify port). */
  assigned(n: { userId: string; inboxId: string; conversationId: string }): Promise<void>;
}

/** Who acts: the staff member (or token) behind a request. */
export interface TeamActor {
  /** 'user:<id>' or 'token:<id>', as written to the audit log. */
  name: string;
  userId?: string;
  role: Role;
  /** The inboxes the actor may see; conversations elsewhere answer 404. */
  scope: InboxScope;
}

/** Seals a note's content with the conversation's data key (the privacy core's KeyService + sealField). */
export type NoteSealer = (conversationId: string, messageId: string, content: { text: string }) => Promise<Uint8Array>;

export interface TeamAudit {
  append(entry: {
    actor: string;
    action: string;
    targetType?: string;
    targetId?: string;
    details?: Record<string, string | number | boolean | null>;
  }): Promise<unknown>;
}

export interface QuickReply {
  id: string;
  shortcut: string;
  title: string;
  text: string;
  updatedAt: number;
}

/** Seals a conversation's legacy free-text labels with its data key. */
export type LegacyLabelSealer = (conversationId: string, labels: string[]) => Promise<Uint8Array>;

const MAX_LABELS = 20;
const COLOR_RE = /^#[0-9a-fA-F]{6}$/;
const LABEL_RE = /^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,39}$/u;
/** A quick reply's shortcut: letters of any language (/kürzel, /öffnungszeiten), digits, - and _; lower case. */
const SHORTCUT_RE = /^[\p{Ll}\p{Lo}\p{Lm}\p{N}][\p{Ll}\p{Lo}\p{Lm}\p{M}\p{N}_-]{0,31}$/u;
export const MAX_NOTE_LENGTH = 4096;
export const MAX_QUICK_REPLY_LENGTH = 1024;

/**
 * Team work on conversations: assign, labels, mark read, internal notes (sealed like messages, direction 'note'),
 * and the quick replies (Textbausteine). Publishes content-free inbox events. Only admins and agents act here;
 * the routes check the role, and this service checks it again so a new caller cannot forget.
 */
export class TeamService {
  constructor(
    private readonly team: TeamPort,
    private readonly users: UserPort,
    private readonly web: WebPort,
    private readonly events: InboxEventBus,
    private readonly clock: Clock,
    private readonly sealNote: NoteSealer | undefined,
    private readonly audit?: TeamAudit,
    /** Outgoing webhooks: 'conversation.assigned'. */
    private readonly webhooks?: OutgoingEventSink,
    private readonly access?: TeamAccess,
  ) {}

  private assertStaff(actor: TeamActor): void {
    if (actor.role !== 'admin' && actor.role !== 'agent') {
      throw new AppError('FORBIDDEN', 'only admins and agents work on conversations');
    }
  }

  private async conversation(actor: TeamActor, id: string) {
    const c = await this.team.findConversation(id);
    // Conversations waiting for consent, and those of inboxes outside the actor's scope, are invisible to staff,
    // exactly like unknown ones.
    if (!c || c.state === 'pending_consent' || !inScope(actor.scope, c.inbox_id)) {
      throw new AppError('NOT_FOUND', 'no such conversation');
    }
    return c;
  }

  private updated(c: { id: string; inbox_id: string }): void {
    this.events.publish({ type: 'conversation.updated', inboxId: c.inbox_id, conversationId: c.id });
  }

  /** Assigns to an active admin or agent, or unassigns with null. */
  async assign(actor: TeamActor, conversationId: string, assigneeId: string | null): Promise<void> {
    this.assertStaff(actor);
    const c = await this.conversation(actor, conversationId);
    if (assigneeId !== null) {
      const user = await this.users.findUserById(assigneeId);
      if (!user || user.disabled || user.role === 'dpo') {
        throw new AppError('VALIDATION', 'assign to an active admin or agent', { field: 'userId' });
      }
      // An agent who is not in the conversation's inbox could not even open it.
      if (this.access && !(await this.access.maySee(user, c.inbox_id))) {
        throw new AppError('VALIDATION', "this agent is not a member of the conversation's inbox", {
          field: 'userId',
          reason: 'not-member',
        });
      }
    }
    await this.team.updateConversation(c.id, { assignee_id: assigneeId });
    await this.audit?.append({
      actor: actor.name,
      action: 'conversation.assigned',
      targetType: 'conversation',
      targetId: c.id,
      details: { assignee: assigneeId },
    });
    this.updated(c);
    await this.webhooks?.emit({
      type: 'conversation.assigned',
      occurredAt: this.clock.now().getTime(),
      channelId: c.channel_id,
      inboxId: c.inbox_id,
      conversationId: c.id,
      contactId: c.contact_id,
      details: { assigneeId, previousAssigneeId: c.assignee_id, assignedBy: actor.userId ?? null },
    });
    if (assigneeId !== null && assigneeId !== c.assignee_id) {
      this.events.publish({
        type: 'conversation.assigned',
        inboxId: c.inbox_id,
        conversationId: c.id,
        assigneeId,
        eventId: newId(),
      });
    }
    if (assigneeId !== null && assigneeId !== actor.userId && assigneeId !== c.assignee_id) {
      await this.access?.assigned({ userId: assigneeId, inboxId: c.inbox_id, conversationId: c.id });
    }
  }

  /**
   * Replaces the labels (trimmed, de-duplicated, at most 20). Only names from the admins' list are taken: free text
   * could carry personal data (a name, a phone number) into a plain column and every backup.
   */
  async setLabels(actor: TeamActor, conversationId: string, labels: string[]): Promise<string[]> {
    this.assertStaff(actor);
    const clean = [...new Set(labels.map((l) => l.trim()).filter((l) => l.length > 0))];
    if (clean.length > MAX_LABELS)
      throw new AppError('VALIDATION', `at most ${MAX_LABELS} labels`, { field: 'labels' });
    const known = new Set((await this.team.labelCatalogue()).map((l) => l.name));
    const unknown = clean.filter((l) => !known.has(l));
    if (unknown.length > 0) {
      throw new AppError(
        'VALIDATION',
        'labels come from the list the admins keep (Administration → Labels); free text is not accepted',
        { field: 'labels', reason: 'label_not_in_list', unknown: unknown.length },
      );
    }
    const c = await this.conversation(actor, conversationId);
    await this.team.updateConversation(c.id, { labels: clean });
    this.updated(c);
    return clean;
  }

  /** The admins' label list (what the label editor offers). */
  async labelCatalogue(): Promise<LabelEntry[]> {
    return this.team.labelCatalogue();
  }

  /** Adds a label to the list (admins only); CONFLICT when the name is taken. */
  async createLabel(actor: TeamActor, input: { name: string; color?: string | null }): Promise<LabelEntry> {
    this.assertAdmin(actor);
    const name = input.name.trim();
    if (!LABEL_RE.test(name)) {
      throw new AppError('VALIDATION', 'a label has 1-40 letters, digits, spaces, dots, dashes or underscores', {
        field: 'label',
      });
    }
    const color = input.color ?? null;
    if (color !== null && !COLOR_RE.test(color)) {
      throw new AppError('VALIDATION', 'a colour is #rrggbb', { field: 'color' });
    }
    if (!(await this.team.insertLabel({ name, color }, this.clock.now().getTime()))) {
      throw new AppError('CONFLICT', 'a label of this name is in the list', { field: 'label' });
    }
    await this.audit?.append({ actor: actor.name, action: 'label.created', targetType: 'label', targetId: name });
    return { name, color };
  }

  /** Changes a label's colour, or removes it with null (admins only). */
  async setLabelColor(actor: TeamActor, name: string, color: string | null): Promise<LabelEntry> {
    this.assertAdmin(actor);
    if (color !== null && !COLOR_RE.test(color)) {
      throw new AppError('VALIDATION', 'a colour is #rrggbb', { field: 'color' });
    }
    if (!(await this.team.updateLabelColor(name, color))) throw new AppError('NOT_FOUND', 'no such label');
    await this.audit?.append({ actor: actor.name, action: 'label.changed', targetType: 'label', targetId: name });
    return { name, color };
  }

  /** Removes a label from the list and from the conversations that carry it (admins only). */
  async deleteLabel(actor: TeamActor, name: string): Promise<{ conversations: number }> {
    this.assertAdmin(actor);
    const result = await this.team.deleteLabel(name);
    if (!result.found) throw new AppError('NOT_FOUND', 'no such label');
    await this.audit?.append({
      actor: actor.name,
      action: 'label.deleted',
      targetType: 'label',
      targetId: name,
      details: { conversations: result.conversations },
    });
    return { conversations: result.conversations };
  }

  /**
   * Seals free-text labels from before the admins' list (migration 023) with each conversation's data key and
   * keeps only listed labels in plain; then scrubs the freed pages. Runs at start; answers how many conversations
   * it changed (0 once done).
   */
  async sealLegacyLabels(seal: LegacyLabelSealer, scrub: () => Promise<void>): Promise<number> {
    const catalogue = (await this.team.labelCatalogue()).map((l) => l.name);
    const known = new Set(catalogue);
    const rows = await this.team.conversationsWithLegacyLabels(catalogue);
    for (const r of rows) {
      const legacy = r.labels.filter((l) => !known.has(l));
      await this.team.sealLegacyLabels(
        r.id,
        r.labels.filter((l) => known.has(l)),
        await seal(r.id, legacy),
      );
    }
    if (rows.length > 0) await scrub();
    return rows.length;
  }

  private assertAdmin(actor: TeamActor): void {
    if (actor.role !== 'admin') throw new AppError('FORBIDDEN', 'only admins manage the label list');
  }

  /** Sets the priority ('normal' or 'high'); audited, announced to the team. A repeat changes nothing. */
  async setPriority(actor: TeamActor, conversationId: string, priority: 'normal' | 'high'): Promise<void> {
    this.assertStaff(actor);
    const c = await this.conversation(actor, conversationId);
    if ((c.priority ?? 'normal') === priority) return;
    await this.team.updateConversation(c.id, { priority });
    await this.audit?.append({
      actor: actor.name,
      action: 'conversation.priority',
      targetType: 'conversation',
      targetId: c.id,
      details: { priority, previous: c.priority ?? 'normal' },
    });
    this.updated(c);
  }

  async markRead(actor: TeamActor, conversationId: string): Promise<void> {
    this.assertStaff(actor);
    const c = await this.conversation(actor, conversationId);
    if (c.unread === 0) return;
    await this.team.updateConversation(c.id, { unread: 0 });
    this.updated(c);
  }

  /** Adds an internal note, sealed with the conversation's key; never sent to the customer. */
  async addNote(actor: TeamActor, conversationId: string, text: string): Promise<{ id: string; createdAt: number }> {
    this.assertStaff(actor);
    const trimmed = text.trim();
    if (!trimmed) throw new AppError('VALIDATION', 'the note is empty', { field: 'text' });
    if (trimmed.length > MAX_NOTE_LENGTH) {
      throw new AppError('VALIDATION', `a note has at most ${MAX_NOTE_LENGTH} characters`, { field: 'text' });
    }
    if (!this.sealNote) throw new AppError('INTERNAL', 'notes need the key service, which is not configured');
    const c = await this.conversation(actor, conversationId);
    if (c.state === 'closed') throw new AppError('CONFLICT', 'the conversation is closed');
    const id = newMessageId();
    const now = this.clock.now().getTime();
    const stamp = messageStamp(now);
    const body = await this.sealNote(c.id, id, { text: trimmed });
    await this.team.insertNote({
      id,
      conversation_id: c.id,
      channel_id: c.channel_id,
      direction: 'note',
      kind: 'text',
      provider_message_id: null,
      status: 'received',
      body_enc: body,
      media_id: null,
      author_id: actor.userId ?? null,
      error_code: null,
      error_reason: null,
      // Stamped like every other message of a thread: a note written in the same millisecond as a reply sorts after it.
      created_at: stamp,
      updated_at: now,
      edited: false,
      deleted: false,
      handled: true,
    });
    this.events.publish({ type: 'message.created', inboxId: c.inbox_id, conversationId: c.id, messageId: id });
    await this.access?.noteWritten({
      text: trimmed,
      inboxId: c.inbox_id,
      conversationId: c.id,
      messageId: id,
      authorId: actor.userId ?? null,
    });
    return { id, createdAt: stamp };
  }

  /** The names of the admins' label list, for the filter and the label picker. */
  async knownLabels(): Promise<string[]> {
    return (await this.team.labelCatalogue()).map((l) => l.name);
  }

  // Quick replies (Textbausteine).

  private toQuickReply(r: QuickReplyRecord): QuickReply {
    return { id: r.id, shortcut: r.shortcut, title: r.title, text: r.text, updatedAt: r.updated_at };
  }

  private validateQuickReply(input: { shortcut: string; title: string; text: string }) {
    // NFC: "ü" typed as u + combining diaeresis and as one character is the same shortcut.
    const shortcut = input.shortcut.trim().replace(/^\//, '').normalize('NFC').toLowerCase();
    if (!SHORTCUT_RE.test(shortcut)) {
      throw new AppError(
        'VALIDATION',
        'the shortcut has 1-32 letters (any language), digits, - or _ (example: kürzel)',
        {
          field: 'shortcut',
        },
      );
    }
    const title = input.title.trim();
    if (!title || title.length > 80) {
      throw new AppError('VALIDATION', 'the title has 1-80 characters', { field: 'title' });
    }
    const text = input.text.trim();
    if (!text || text.length > MAX_QUICK_REPLY_LENGTH) {
      throw new AppError('VALIDATION', `the text has 1-${MAX_QUICK_REPLY_LENGTH} characters`, { field: 'text' });
    }
    return { shortcut, title, text };
  }

  async listQuickReplies(): Promise<QuickReply[]> {
    return (await this.web.listQuickReplies()).map((r) => this.toQuickReply(r));
  }

  async createQuickReply(
    actor: TeamActor,
    input: { shortcut: string; title: string; text: string },
  ): Promise<QuickReply> {
    const v = this.validateQuickReply(input);
    if (await this.web.findQuickReplyByShortcut(v.shortcut)) {
      throw new AppError('CONFLICT', `the shortcut /${v.shortcut} exists already`, { field: 'shortcut' });
    }
    const now = this.clock.now().getTime();
    const row: QuickReplyRecord = { id: newId(), ...v, created_by: actor.name, created_at: now, updated_at: now };
    await this.web.insertQuickReply(row);
    return this.toQuickReply(row);
  }

  async updateQuickReply(
    _actor: TeamActor,
    id: string,
    input: { shortcut: string; title: string; text: string },
  ): Promise<QuickReply> {
    const existing = await this.web.findQuickReply(id);
    if (!existing) throw new AppError('NOT_FOUND', 'no such quick reply');
    const v = this.validateQuickReply(input);
    const clash = await this.web.findQuickReplyByShortcut(v.shortcut);
    if (clash && clash.id !== id) {
      throw new AppError('CONFLICT', `the shortcut /${v.shortcut} exists already`, { field: 'shortcut' });
    }
    const now = this.clock.now().getTime();
    await this.web.updateQuickReply(id, { ...v, updated_at: now });
    return this.toQuickReply({ ...existing, ...v, updated_at: now });
  }

  async deleteQuickReply(_actor: TeamActor, id: string): Promise<void> {
    if (!(await this.web.deleteQuickReply(id))) throw new AppError('NOT_FOUND', 'no such quick reply');
  }
}
