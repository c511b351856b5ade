// A bundle's manifest: what it holds, written as its first member, and the rules a manifest read
// from an untrusted bundle must keep before anything is believed of it. The format is documented in
// man/rollout-bundle.md (THE BUNDLE FORMAT); a change to either is a change to both.
import { RolloutError } from '../cli/errors.js';
import { objectNamed } from '../fs/objects.js';
import { parseRolloutName, UUID_RE } from '../home/paths.js';
import { badPath } from './tar.js';

/** The format's name and major version: a reader refuses any other. */
export const FORMAT = 'rollout-bundle/1';

export const MANIFEST_PATH = 'manifest.json';

/** A manifest larger than this is refused unread: it bounds what a reader holds in memory. */
export const MAX_MANIFEST = 64 << 20;

export interface BundledFile {
  /** Relative to CODEX_HOME: `sessions/YYYY/MM/DD/<name>`, `sessions/<name>` or `archived_sessions/<name>`. */
  path: string;
  size: number;
  sha256: string;
}

export interface BundledSession {
  /** The thread id. */
  id: string;
  name: string | null;
  archived: boolean;
  /** The threads whose files this one reads through `history_base` (none when materialized). */
  parents: string[];
  /** A referencing fork written with its whole history, its `history_base` gone (--no-ancestors). */
  materialized: boolean;
  created_at: string | null;
  updated_at: string | null;
  cwd: string | null;
  model_provider: string | null;
  /** Every file of the thread (a reverted thread's revisions, a plain and a .zst copy), by path. */
  files: BundledFile[];
}

export interface Manifest {
  format: string;
  sessions: BundledSession[];
  /**
   * Objects of rollout-slim's store that the sessions' markers name (`rollout-objects/<aa>/<sha256>`,
   * by path), after every session's files. Absent when there are none (and in bundles of before).
   */
  objects: BundledFile[];
}

const byKey =
  <T>(key: (x: T) => string) =>
  (a: T, b: T): number =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

/** The manifest's bytes: sessions by id, files by path, keys in a fixed order, so equal content is equal bytes. */
export function manifestBytes(sessions: BundledSession[], objects: BundledFile[] = []): Buffer {
  const sorted = [...sessions].sort(byKey((s) => s.id));
  const m: Omit<Manifest, 'objects'> & { objects?: BundledFile[] } = {
    format: FORMAT,
    sessions: sorted.map((s) => ({
      id: s.id,
      name: s.name,
      archived: s.archived,
      parents: [...s.parents].sort(),
      materialized: s.materialized,
      created_at: s.created_at,
      updated_at: s.updated_at,
      cwd: s.cwd,
      model_provider: s.model_provider,
      files: [...s.files].sort(byKey((f) => f.path)).map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })),
    })),
  };
  if (objects.length) m.objects = [...objects].sort(byKey((f) => f.path)).map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 }));
  return Buffer.from(JSON.stringify(m, null, 1) + '\n');
}

/** The members after the manifest, in the order a bundle holds them: by session id, then by path; then the objects. */
export const members = (m: Manifest): BundledFile[] => [...m.sessions.flatMap((s) => s.files), ...m.objects];

const refuse = (what: string) => new RolloutError(`not a bundle we can trust: ${MANIFEST_PATH}: ${what}`);

const DATED = /^sessions\/(\d{4})\/(\d{2})\/(\d{2})\/([^/]+)$/;
const FLAT = /^(sessions|archived_sessions)\/([^/]+)$/;

/** Why a member path is not where a rollout file lives in a home, or null; and the thread id its name gives. */
export function rolloutPath(path: string): { why: string } | { threadId: string } {
  const tarWhy = badPath(path);
  if (tarWhy) return { why: tarWhy };
  const dated = DATED.exec(path);
  const base = dated ? dated[4]! : FLAT.exec(path)?.[2];
  if (base === undefined) return { why: 'not under sessions/YYYY/MM/DD/, sessions/ or archived_sessions/' };
  const name = parseRolloutName(base);
  if (!name) return { why: 'not a rollout file name' };
  if (dated && !name.stamp.startsWith(`${dated[1]}-${dated[2]}-${dated[3]}`)) return { why: "in a day's folder that is not the day of its name" };
  return { threadId: name.threadId };
}

const isString = (v: unknown): v is string => typeof v === 'string';
const stringOrNull = (v: unknown): v is string | null => v === null || isString(v);
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const timeOrNull = (v: unknown) => v === null || (isString(v) && TIME.test(v));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A manifest read from a bundle, checked: its format; every session's id a lower-case UUID, once,
 * in order; every file where a rollout lives, under a name whose id is the session's, each path
 * once in the whole bundle, in order, with a size and a SHA-256 that are well formed. Keys a later
 * minor version may add are passed over.
 */
export function checkManifest(value: unknown): Manifest {
  if (!isObject(value)) throw refuse('not a JSON object');
  if (value.format !== FORMAT) throw refuse(`format ${JSON.stringify(value.format)} is not ${FORMAT}`);
  if (!Array.isArray(value.sessions)) throw refuse('no sessions list');
  const paths = new Set<string>();
  let lastId = '';
  const sessions = value.sessions.map((s: unknown, i): BundledSession => {
    if (!isObject(s)) throw refuse(`session ${i} is not an object`);
    const id = s.id;
    if (!isString(id) || !UUID_RE.test(id) || id !== id.toLowerCase()) throw refuse(`session ${i}: id ${JSON.stringify(id)} is not a lower-case UUID`);
    if (id <= lastId) throw refuse(`session ${id}: sessions are not in order of id, or one is there twice`);
    lastId = id;
    const what = `session ${id}`;
    if (!stringOrNull(s.name) || !stringOrNull(s.cwd) || !stringOrNull(s.model_provider))
      throw refuse(`${what}: name, cwd or model_provider is not a string or null`);
    if (!timeOrNull(s.created_at) || !timeOrNull(s.updated_at)) throw refuse(`${what}: created_at or updated_at is not an ISO time or null`);
    if (typeof s.archived !== 'boolean' || typeof s.materialized !== 'boolean') throw refuse(`${what}: archived or materialized is not a boolean`);
    if (!Array.isArray(s.parents) || !s.parents.every((p) => isString(p) && UUID_RE.test(p))) throw refuse(`${what}: parents is not a list of ids`);
    if (!Array.isArray(s.files) || !s.files.length) throw refuse(`${what}: no files`);
    let lastPath = '';
    const files = s.files.map((f: unknown): BundledFile => {
      if (!isObject(f) || !isString(f.path)) throw refuse(`${what}: a file without a path`);
      const at = `${what}: ${JSON.stringify(f.path)}`;
      const where = rolloutPath(f.path);
      if ('why' in where) throw refuse(`${at}: ${where.why}`);
      if (where.threadId !== id) throw refuse(`${at}: the file name says session ${where.threadId}`);
      if (paths.has(f.path)) throw refuse(`${at}: listed twice`);
      if (f.path <= lastPath) throw refuse(`${at}: files are not in order of path`);
      lastPath = f.path;
      paths.add(f.path);
      if (typeof f.size !== 'number' || !Number.isSafeInteger(f.size) || f.size < 0) throw refuse(`${at}: size is not a whole number of bytes`);
      if (!isString(f.sha256) || !/^[0-9a-f]{64}$/.test(f.sha256)) throw refuse(`${at}: sha256 is not 64 lower-case hex digits`);
      return { path: f.path, size: f.size, sha256: f.sha256 };
    });
    return {
      id,
      name: s.name,
      archived: s.archived,
      parents: s.parents as string[],
      materialized: s.materialized,
      created_at: s.created_at as string | null,
      updated_at: s.updated_at as string | null,
      cwd: s.cwd,
      model_provider: s.model_provider,
      files,
    };
  });
  return { format: FORMAT, sessions, objects: checkObjects(value.objects) };
}

/** The objects a manifest lists: each at its name's path, once, in order, of a well-formed size. */
function checkObjects(value: unknown): BundledFile[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw refuse('objects is not a list');
  let last = '';
  return value.map((o: unknown, i): BundledFile => {
    if (!isObject(o) || !isString(o.path)) throw refuse(`object ${i} has no path`);
    const at = `object ${JSON.stringify(o.path)}`;
    const name = objectNamed(o.path);
    if (!name) throw refuse(`${at}: not rollout-objects/<aa>/<sha256>`);
    if (o.sha256 !== name) throw refuse(`${at}: its sha256 is not its name`);
    if (o.path <= last) throw refuse(`${at}: objects are not in order of path, or one is there twice`);
    last = o.path;
    if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) throw refuse(`${at}: size is not a whole number of bytes`);
    return { path: o.path, size: o.size, sha256: name };
  });
}
