import type { Millis } from './model.ts';

/** A staff member's named list filter. Never a search text: it could hold a customer's name or number. */
export interface SavedViewRecord {
  id: string;
  user_id: string;
  name: string;
  view: 'mine' | 'unassigned' | 'all' | 'closed' | 'snoozed';
  label: string | null;
  channel_id: string | null;
  sort: 'activity' | 'priority';
  created_at: Millis;
}

/** The saved views of each user. */
export interface SavedViewPort {
  /** The user's views, oldest first. */
  listForUser(userId: string): Promise<SavedViewRecord[]>;
  /** Adds a view; false when the user has one of this name. */
  insert(row: SavedViewRecord): Promise<boolean>;
  /** Deletes the user's view; false when the user has no view of this id. */
  delete(userId: string, id: string): Promise<boolean>;
}
