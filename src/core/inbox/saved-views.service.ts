import { AppError } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import { newId } from '../../shared/ids.ts';
import type { SavedViewPort, SavedViewRecord } from '../ports/saved-view.port.ts';
import type { TeamActor } from './team.service.ts';

/** A saved view as the API shows it. */
export interface SavedView {
  id: string;
  name: string;
  view: SavedViewRecord['view'];
  label: string | null;
  channel: string | null;
  sort: 'activity' | 'priority';
}

export interface SavedViewInput {
  name: string;
  view: SavedViewRecord['view'];
  label?: string | null | undefined;
  channel?: string | null | undefined;
  sort?: 'activity' | 'priority' | undefined;
}

/** Views one user keeps at most. */
export const MAX_SAVED_VIEWS = 20;
const NAME_MAX = 40;
const CHANNEL_RE = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * Saved views: a staff member keeps list filters under a name (view, label, channel, sort), personal to them. The
 * search text is deliberately not among them: a query may hold a customer's name or phone number, and a saved view
 * sits in a plain column. Labels come from the admins' list (not personal data by policy), channels are ids.
 */
export class SavedViewsService {
  constructor(
    private readonly views: SavedViewPort,
    private readonly clock: Clock,
    /** The admins' label list, to refuse free text in the label field. */
    private readonly knownLabels: () => Promise<string[]>,
  ) {}

  private userOf(actor: TeamActor): string {
    if ((actor.role !== 'admin' && actor.role !== 'agent') || !actor.userId) {
      throw new AppError('FORBIDDEN', 'saved views belong to a signed-in admin or agent');
    }
    return actor.userId;
  }

  async list(actor: TeamActor): Promise<SavedView[]> {
    return (await this.views.listForUser(this.userOf(actor))).map(toView);
  }

  /** Saves a view; VALIDATION for an empty or long name or a label not on the list, CONFLICT for a name in use. */
  async create(actor: TeamActor, input: SavedViewInput): Promise<SavedView> {
    const userId = this.userOf(actor);
    const name = input.name.trim().replace(/\s+/g, ' ');
    if (!name || [...name].length > NAME_MAX) {
      throw new AppError('VALIDATION', `a view's name has 1-${NAME_MAX} characters`, {
        field: 'name',
        reason: 'view_name_length',
      });
    }
    const label = input.label?.trim() || null;
    if (label !== null && !(await this.knownLabels()).includes(label)) {
      throw new AppError('VALIDATION', 'labels come from the list the admins keep', {
        field: 'label',
        reason: 'label_not_in_list',
      });
    }
    const channel = input.channel?.trim() || null;
    if (channel !== null && !CHANNEL_RE.test(channel)) {
      throw new AppError('VALIDATION', 'a channel is given by its id', { field: 'channel' });
    }
    const existing = await this.views.listForUser(userId);
    if (existing.length >= MAX_SAVED_VIEWS) {
      throw new AppError('VALIDATION', `at most ${MAX_SAVED_VIEWS} saved views`, {
        field: 'name',
        reason: 'too_many_views',
        limit: MAX_SAVED_VIEWS,
      });
    }
    const row: SavedViewRecord = {
      id: newId(),
      user_id: userId,
      name,
      view: input.view,
      label,
      channel_id: channel,
      sort: input.sort ?? 'activity',
      created_at: this.clock.now().getTime(),
    };
    if (!(await this.views.insert(row))) {
      throw new AppError('CONFLICT', 'you have a view of this name', { field: 'name', reason: 'view_name_taken' });
    }
    return toView(row);
  }

  /** Deletes one of the caller's own views; another user's view does not exist for the caller (NOT_FOUND). */
  async remove(actor: TeamActor, id: string): Promise<void> {
    if (!(await this.views.delete(this.userOf(actor), id))) throw new AppError('NOT_FOUND', 'no such view');
  }
}

function toView(r: SavedViewRecord): SavedView {
  return { id: r.id, name: r.name, view: r.view, label: r.label, channel: r.channel_id, sort: r.sort };
}
