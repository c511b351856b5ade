// Where the blobs rollout-slim takes out of sessions live in a home, and the lock of the runs that
// write there: the layout is the home's, shared by the binary that fills the store (rollout-slim)
// and those that carry its objects to another home (rollout-bundle, rollout-unbundle).
//
//   rollout-objects/<aa>/<sha256>   a blob's exact bytes, named by their SHA-256 (`sha256sum`
//                                   checks one), fanned out by its first two hex digits, as git does
import { join } from 'node:path';
import { RolloutError } from '../cli/errors.js';
import type { Home } from '../home/paths.js';
import { takeLock } from './file-lock.js';

export const STORE_DIR = 'rollout-objects';

const OBJECT_RE = /^rollout-objects\/([0-9a-f]{2})\/([0-9a-f]{64})$/;

/** An object's path relative to the home. */
export function objectRel(sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not an object name: ${sha256}`);
  return `${STORE_DIR}/${sha256.slice(0, 2)}/${sha256}`;
}

/** The object a home-relative path names, or null when it names none. */
export function objectNamed(rel: string): string | null {
  const m = OBJECT_RE.exec(rel);
  return m && m[2]!.startsWith(m[1]!) ? m[2]! : null;
}

/** The lock every run that writes to the object store holds, so a collection never meets a write half done. */
export async function lockStore(home: Home): Promise<() => void> {
  const taken = await takeLock(join(home.dir, '.tmp', 'rollout-locks', 'objects.lock'), 0);
  if (typeof taken !== 'number') return taken;
  throw new RolloutError(`another run is using the object store${taken ? ` (pid ${taken})` : ''}; try again when it is done`);
}
