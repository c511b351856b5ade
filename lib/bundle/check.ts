// Reading a bundle as untrusted input: its manifest alone (what --since-bundle needs), or the whole
// of it, checked member by member against the manifest, before anything is written from it.
import { RolloutError } from '../cli/errors.js';
import { openSource } from '../core/source.js';
import { hashing } from '../core/verify.js';
import { checkManifest, MANIFEST_PATH, MAX_MANIFEST, members, type Manifest } from './manifest.js';
import { readTar, type TarMember } from './tar.js';

const refuse = (what: string) => new RolloutError(`not a bundle we can trust: ${what}`);

async function manifestOf(first: TarMember | undefined): Promise<Manifest> {
  if (!first || first.path !== MANIFEST_PATH) throw refuse(`its first member is ${first ? JSON.stringify(first.path) : 'missing'}, not ${MANIFEST_PATH}`);
  if (first.size > MAX_MANIFEST) throw refuse(`${MANIFEST_PATH} of ${first.size} bytes is larger than any bundle writes`);
  const parts: Buffer[] = [];
  for await (const chunk of first.data) parts.push(Buffer.from(chunk));
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch {
    throw refuse(`${MANIFEST_PATH} is not valid JSON`);
  }
  return checkManifest(value);
}

/** The manifest of the bundle at `path` ('-' for stdin; zstd or not), checked; the rest is not read. */
export async function readManifest(path: string): Promise<Manifest> {
  const tar = readTar(openSource(path));
  try {
    return await manifestOf((await tar.next()).value || undefined);
  } catch (err) {
    throw withFile(err, path);
  } finally {
    await tar.return(undefined);
  }
}

/**
 * The bundle at `path`, read to its end and checked: a manifest first and valid, then exactly the
 * files it lists, in its order, each of the size and SHA-256 it says, and nothing else. Returns the
 * manifest; any disagreement, or a member the tar reader refuses, is a RolloutError.
 */
export async function checkBundle(path: string): Promise<Manifest> {
  try {
    const tar = readTar(openSource(path));
    const manifest = await manifestOf((await tar.next()).value || undefined);
    const expected = members(manifest);
    let i = 0;
    for await (const m of tar) {
      const want = expected[i++];
      const at = JSON.stringify(m.path);
      if (!want) throw refuse(`member ${at} is not in ${MANIFEST_PATH}`);
      if (m.path !== want.path) throw refuse(`member ${at} where ${MANIFEST_PATH} lists ${JSON.stringify(want.path)}`);
      if (m.size !== want.size) throw refuse(`member ${at} is ${m.size} bytes; ${MANIFEST_PATH} says ${want.size}`);
      const h = hashing(m.data);
      for await (const _ of h.chunks);
      if (h.done().sha256 !== want.sha256) throw refuse(`member ${at} does not have the SHA-256 ${MANIFEST_PATH} gives`);
    }
    if (i < expected.length) throw refuse(`${JSON.stringify(expected[i]!.path)}, listed in ${MANIFEST_PATH}, is missing`);
    return manifest;
  } catch (err) {
    throw withFile(err, path);
  }
}

function withFile(err: unknown, path: string): unknown {
  if (!(err instanceof RolloutError) || err.where?.file) return err;
  return new RolloutError(err.message, { file: path === '-' ? '<stdin>' : path }, err.exitCode);
}
