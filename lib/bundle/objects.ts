// The objects of rollout-slim's store a bundle carries, put into the home's store before any
// session that names them is written (so no session here ever names an object the store lacks).
// An object already here and sound is left as it is; one here but damaged is replaced by the
// bundle's copy, which the whole-bundle check has proven against its name.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { RolloutError } from '../cli/errors.js';
import { fileChunks, openSource } from '../core/source.js';
import { hashing } from '../core/verify.js';
import { prepareAtomic } from '../fs/atomic.js';
import { lockStore, STORE_DIR } from '../fs/objects.js';
import { lstatOrNull } from '../fs/safety.js';
import type { Home } from '../home/paths.js';
import type { BundledFile } from './manifest.js';
import { readTar } from './tar.js';

export interface ObjectsImported {
  /** Objects the home lacked (or held damaged): written, or in a dry run, to be written. */
  added: number;
  /** Objects the home held already, sound. */
  present: number;
}

export async function importObjects(home: Home, bundle: string, objects: BundledFile[], dryRun: boolean): Promise<ObjectsImported> {
  const out: ObjectsImported = { added: 0, present: 0 };
  if (!objects.length) return out;
  const wanted = new Map<string, BundledFile>();
  for (const o of objects) {
    if (await sound(join(home.dir, o.path), o)) out.present++;
    else wanted.set(o.path, o);
  }
  out.added = wanted.size;
  if (dryRun || !wanted.size) return out;
  // The store's folders are the home's own: never a symlink that would lead the objects elsewhere.
  for (const dir of [STORE_DIR, ...new Set([...wanted.keys()].map((p) => p.slice(0, p.lastIndexOf('/'))))]) {
    const st = lstatOrNull(join(home.dir, dir));
    if (st && !st.isDirectory()) throw new RolloutError(`not importing objects: ${dir} is not a folder of this home (a symlink, or a file)`, { file: bundle });
  }
  const release = await lockStore(home);
  try {
    for await (const m of readTar(openSource(bundle))) {
      const o = wanted.get(m.path);
      if (!o) continue;
      const h = hashing(m.data);
      const prepared = await prepareAtomic(join(home.dir, o.path), h.chunks, { mode: 0o644 });
      const d = h.done();
      if (d.sha256 !== o.sha256 || d.bytes !== o.size) {
        prepared.abort();
        throw new RolloutError(`object ${o.path} changed since the bundle was checked; nothing more written`, { file: bundle });
      }
      await prepared.commit();
    }
  } finally {
    release();
  }
  return out;
}

/** Whether the file at `path` is the object, byte for byte. */
async function sound(path: string, o: BundledFile): Promise<boolean> {
  const st = lstatOrNull(path);
  if (!st?.isFile() || st.size !== o.size) return false;
  const h = createHash('sha256');
  for await (const c of fileChunks(path)) h.update(c);
  return h.digest('hex') === o.sha256;
}
