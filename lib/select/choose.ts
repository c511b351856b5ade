// Choosing sessions to act on: the selection language answered by the index, brought up to date
// first, and the sessions named one by one (ids, prefixes, names, paths, rollout-ls rows).
import { isPerSession, RolloutError } from '../cli/errors.js';
import { openIndex, type Database } from '../index/db.js';
import { selectIds, type Filters } from '../index/query.js';
import { sayIfEmpty, update } from '../index/update.js';
import { readNames } from '../home/names.js';
import type { Home, SessionFile } from '../home/paths.js';
import { looksLikePath, Resolver } from '../home/resolve.js';
import { outsideReason } from '../fs/safety.js';
import { STDIN } from '../core/source.js';

/**
 * The index, up to date, for a binary that acts on what it picks. Unlike a listing, it waits for
 * another run that is updating the index rather than read rows that may be stale.
 */
export async function openForChoice(home: Home, index: string, filters: Filters, waitMs = 60_000): Promise<Database> {
  // Names that cannot be read would make every session look unnamed: stop rather than choose by them.
  if (filters.unnamed || filters.name?.length) await readNames(home, { strict: true });
  const done = await update(home, { index, waitMs });
  if (!done) throw new RolloutError(`another run held the index for ${waitMs / 1000} s; nothing was chosen, try again`, { file: index });
  return sayIfEmpty(home, openIndex(index, { readonly: true }));
}

/** A session named one by one: the reference as given, and the file it led to. */
export interface Named {
  ref: string;
  file: SessionFile;
}

/**
 * The threads these references name, in the order first named. A reference that names nothing,
 * or (as `insideRoots` asks, for a binary that changes files) a path outside the home's roots, is
 * an error for `onError`, and the rest go on.
 */
export async function namedSessions(
  home: Home,
  refs: AsyncIterable<string> | Iterable<string>,
  opts: { insideRoots: boolean },
  onError: (err: unknown) => void,
): Promise<Map<string, Named>> {
  const resolver = new Resolver(home);
  const named = new Map<string, Named>();
  for await (const ref of refs) {
    try {
      if (ref === STDIN) throw new RolloutError("'-' is not a session here; give ids, names or paths");
      const target = await resolver.resolve(ref);
      if (target.stdin) continue;
      const file = target.file;
      if (opts.insideRoots && looksLikePath(ref)) {
        const why = await outsideReason(home, file.path);
        if (why) throw new RolloutError(`refused: ${why}`, { file: file.path });
      }
      if (!named.has(file.name.threadId)) named.set(file.name.threadId, { ref, file });
    } catch (err) {
      if (!isPerSession(err)) throw err;
      onError(err);
    }
  }
  return named;
}

/** The thread ids the filters choose, among `named` when sessions were named one by one. */
export function chooseIds(db: Database, filters: Filters, named?: Map<string, Named>): string[] {
  return selectIds(db, named ? { ...filters, ids: [...named.keys()] } : filters);
}
