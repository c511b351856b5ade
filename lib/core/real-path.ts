// Paths as the file system knows them: symlinks resolved, so that two spellings of one place
// compare equal. Every comparison of a user's path with a recorded one goes through here.
import { realpathSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** The real path of `path`, or its absolute form when it cannot be resolved (gone, unreadable). */
export function realPath(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    return abs;
  }
}

/** A directory as a session may have recorded it: absolute as written, and its real path when a link leads there. */
export function spellings(path: string): string[] {
  const abs = resolve(path);
  const real = realPath(abs);
  return real === abs ? [abs] : [abs, real];
}

/** The path with symlinks resolved as far as it exists; the rest, which does not exist yet, as it is. */
export function realPathSoFar(path: string): string {
  const abs = resolve(path);
  for (let at = abs; ; at = dirname(at)) {
    try {
      return join(realpathSync(at), relative(at, abs));
    } catch {
      if (at === dirname(at)) return abs;
    }
  }
}

/** Whether `path` is `dir` or lies below it (both absolute, compared as written). */
export const within = (dir: string, path: string): boolean => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
