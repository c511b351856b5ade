// What bringing the index up to date reports, and how it is asked for (update.ts asks, sync.ts does).

export interface Summary {
  scanned: number;
  added: number;
  updated: number;
  removed: number;
  unchanged: number;
  moved: number;
  bytes_read: number;
  ms: number;
}

export interface Drift {
  drift: 'new' | 'grown' | 'changed' | 'moved' | 'gone' | 'names';
  id?: string;
  path?: string;
  from?: string;
}

export interface UpdateOptions {
  index: string;
  /** How long to wait for another writer, in ms; past that the run returns null. */
  waitMs?: number;
  /** Build a fresh index beside the old one and rename it into place. */
  rebuild?: boolean;
}

export interface PathsOptions {
  index: string;
  /** Re-read every named file whole, changed or not. */
  force?: boolean;
  waitMs?: number;
  /** Read on this thread even when a worker would be faster (see scans.ts). */
  here?: boolean;
}

export const emptySummary = (): Summary => ({ scanned: 0, added: 0, updated: 0, removed: 0, unchanged: 0, moved: 0, bytes_read: 0, ms: 0 });
