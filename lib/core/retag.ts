// Rewriting where a session belongs: its working directory (--map-cwd OLD=NEW) and its model
// provider (--provider NAME), for sessions that moved to another machine, or whose project moved.
// Only the fields Codex lists, filters and resumes by are touched (the working directory, workspace
// roots and model provider of session_meta and of every thread_settings_applied, the cwd and
// workspace roots of every turn_context: test/interop/FINDINGS.md says which Codex reads where),
// each value replaced in the line's bytes: everything else of every line, the conversation above
// all, stays byte for byte. A rewritten line changes length, so the byte
// offsets that a fork's `history_base` holds into its parent are carried over (Shifts).
import { UsageError } from '../cli/errors.js';
import { list, single, type OptionRow, type Options } from '../cli/main.js';
import { lineBatches } from './lines.js';
import { member, type MemberSpan } from './json-bytes.js';
import { peekType } from './record.js';

/** What to rewrite; an empty one rewrites nothing. */
export interface Retag {
  /** OLD, NEW directory pairs; the longest OLD that holds a path wins. */
  cwd: Array<[string, string]>;
  provider: string | null;
}

export const isRetag = (r: Retag | null | undefined): r is Retag => Boolean(r && (r.cwd.length || r.provider !== null));

const trimSlash = (p: string) => (p.length > 1 ? p.replace(/[/\\]+$/, '') : p);
const absolute = (p: string) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');

/** `OLD=NEW` as --map-cwd takes it: two absolute paths (a Windows one may be OLD). */
export function parseCwdMap(spec: string): [string, string] {
  const eq = spec.indexOf('=');
  const [from, to] = eq === -1 ? [spec, ''] : [spec.slice(0, eq), spec.slice(eq + 1)];
  if (eq === -1 || !from || !to) throw new UsageError(`--map-cwd takes OLD=NEW, not '${spec}'`);
  for (const p of [from, to]) if (!absolute(p)) throw new UsageError(`--map-cwd takes absolute directories, not '${p}'`);
  return [trimSlash(from), trimSlash(to)];
}

/**
 * The rewriting options. Where the selection language is taken too, `--provider` already chooses
 * sessions by provider, so the rewrite's is `--set-provider` there.
 */
export const retagOptions = (provider: '--provider' | '--set-provider'): OptionRow[] => [
  ['--map-cwd <old=new>', 'Rewrite the working directory OLD, and anything below it, as NEW (absolute paths; repeatable, the longest OLD wins)'],
  [`${provider} <name>`, 'Rewrite the model provider as NAME (the model_provider of config.toml here)'],
];

/** The rewrite the options ask for (possibly none). */
export function parseRetag(o: Options, provider: 'provider' | 'setProvider'): Retag {
  const name = single(o[provider]);
  // eslint-disable-next-line no-control-regex
  if (name !== undefined && /[\u0000-\u001f\u007f]/.test(name)) throw new UsageError('a model provider id has no control characters');
  return { cwd: list(o.mapCwd).map(parseCwdMap), provider: name ?? null };
}

/**
 * `path` with the longest matching OLD replaced by its NEW, or null when none holds it. A prefix
 * holds a path when it is the path or ends at a separator in it (`/a/b` holds `/a/b/c`, not `/a/bc`).
 * Below a Windows OLD going to a POSIX NEW, separators become `/`.
 */
export function mapPath(path: string, maps: Array<[string, string]>): string | null {
  let best: [string, string] | null = null;
  for (const m of maps) {
    const [from] = m;
    const holds =
      path === from || (path.startsWith(from) && (from.endsWith('/') || from.endsWith('\\') || path[from.length] === '/' || path[from.length] === '\\'));
    if (holds && (!best || from.length > best[0].length)) best = m;
  }
  if (!best) return null;
  let rest = path.slice(best[0].length);
  if (best[0].endsWith('/') || best[0].endsWith('\\')) rest = best[0].slice(-1) + rest;
  if (best[1].startsWith('/') && !best[0].startsWith('/')) rest = rest.replaceAll('\\', '/');
  if (best[1].endsWith('/') && rest.startsWith('/')) rest = rest.slice(1);
  const out = best[1] + rest;
  return out === path ? null : out;
}

/** One replacement inside a line: bytes [at, end) become `bytes`. */
interface Edit {
  at: number;
  end: number;
  bytes: Buffer;
}

/** How a rewrite moved a file's bytes: each rewritten line's offset and how much longer it became. */
export class Shifts {
  readonly lines: Array<[offset: number, delta: number]> = [];
  /** Lines rewritten (a value of the same length moves no byte, but is a change). */
  edited = 0;

  /** Where a byte offset of the original (a line boundary) is in the rewritten file. */
  apply(offset: number): number {
    let out = offset;
    for (const [at, delta] of this.lines) if (at < offset) out += delta;
    return out;
  }
}

/** A `history_base` met on the way: the rollout it reads, up to which byte, from which line. */
export interface BaseRef {
  parent: string;
  offset: number;
  line: number;
}

/**
 * Where an offset into another rollout (named by its rollout id) lands once that rollout is
 * rewritten too; null when that rollout's rewrite is not known (then the line cannot be rewritten).
 */
export type BaseShift = (rolloutId: string, offset: number) => number | null;

export class OffsetUnknown extends Error {}

const stringValue = (b: Buffer, s: MemberSpan | null): string | null => {
  if (!s || b[s.start] !== 0x22) return null;
  try {
    return JSON.parse(b.toString('utf8', s.start, s.end)) as string;
  } catch {
    return null;
  }
};

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/** The edits that put a path member in its new place. */
function mapMember(b: Buffer, s: MemberSpan | null, retag: Retag, out: Edit[]): void {
  const old = stringValue(b, s);
  const mapped = old === null ? null : mapPath(old, retag.cwd);
  if (mapped !== null) out.push({ at: s!.start, end: s!.end, bytes: json(mapped) });
}

/** The edit that moves each path of a list of paths. */
function mapList(b: Buffer, s: MemberSpan | null, retag: Retag, out: Edit[]): void {
  if (!s || b[s.start] !== 0x5b) return;
  let list: unknown[];
  try {
    list = JSON.parse(b.toString('utf8', s.start, s.end)) as unknown[];
  } catch {
    return; // not a list we can read: left as it is
  }
  const mapped = list.map((p) => (typeof p === 'string' ? (mapPath(p, retag.cwd) ?? p) : p));
  if (mapped.some((p, i) => p !== list[i])) out.push({ at: s.start, end: s.end, bytes: json(mapped) });
}

function setProvider(b: Buffer, s: MemberSpan | null, retag: Retag, out: Edit[]): void {
  const old = stringValue(b, s);
  if (old !== null && retag.provider !== null && old !== retag.provider) out.push({ at: s!.start, end: s!.end, bytes: json(retag.provider) });
}

/** The edits of one line (its bytes without the newline); throws OffsetUnknown when a parent's rewrite is not known. */
export function lineEdits(b: Buffer, retag: Retag, base: BaseShift): Edit[] {
  const t = peekType(b);
  if (!t || (t.type !== 'session_meta' && t.type !== 'turn_context' && t.payloadType !== 'thread_settings_applied')) return [];
  const payload = member(b, 0, 'payload');
  if (!payload || b[payload.start] !== 0x7b) return [];
  const edits: Edit[] = [];
  const at = (key: string) => member(b, payload.start, key);
  if (t.type === 'session_meta') {
    mapMember(b, at('cwd'), retag, edits);
    mapList(b, at('runtime_workspace_roots'), retag, edits);
    setProvider(b, at('model_provider'), retag, edits);
    const hb = at('history_base');
    const off = hb && b[hb.start] === 0x7b ? member(b, hb.start, 'end_byte_offset') : null;
    const parent = hb && b[hb.start] === 0x7b ? stringValue(b, member(b, hb.start, 'thread_id')) : null;
    if (off && parent !== null) {
      const was = Number(b.toString('latin1', off.start, off.end));
      if (Number.isSafeInteger(was)) {
        const now = base(parent.toLowerCase(), was);
        if (now === null) throw new OffsetUnknown(`it reads rollout ${parent} up to byte ${was}, and how that rollout is rewritten is not known`);
        if (now !== was) edits.push({ at: off.start, end: off.end, bytes: Buffer.from(String(now)) });
      }
    }
  } else if (t.type === 'turn_context') {
    mapMember(b, at('cwd'), retag, edits);
    mapList(b, at('workspace_roots'), retag, edits);
  } else {
    const settings = at('thread_settings');
    if (settings && b[settings.start] === 0x7b) {
      mapMember(b, member(b, settings.start, 'cwd'), retag, edits);
      mapList(b, member(b, settings.start, 'runtime_workspace_roots'), retag, edits);
      setProvider(b, member(b, settings.start, 'model_provider_id'), retag, edits);
    }
  }
  return edits.sort((x, y) => x.at - y.at);
}

/**
 * A file's bytes with the retag applied, streamed: lines are read to find the edits, and the raw
 * chunks are passed on with the edits spliced in, so blank lines, CRLF, a BOM and a torn last line
 * come through as they were. `shifts` is complete once the stream has been read to its end.
 */
export function retagChunks(chunks: AsyncIterable<Buffer>, retag: Retag, base: BaseShift): { chunks: AsyncGenerator<Buffer>; shifts: Shifts; refs: BaseRef[] } {
  const shifts = new Shifts();
  const refs: BaseRef[] = [];
  return { chunks: splice(chunks, retag, base, shifts, refs), shifts, refs };
}

async function* splice(chunks: AsyncIterable<Buffer>, retag: Retag, base: BaseShift, shifts: Shifts, refs: BaseRef[]): AsyncGenerator<Buffer> {
  // The raw chunks not yet passed on, from offset `from`; the line reader sees the same chunks.
  const held: Buffer[] = [];
  let from = 0;
  const edits: Array<{ at: number; end: number; bytes: Buffer }> = [];
  async function* tap() {
    for await (const c of chunks) {
      held.push(c);
      yield c;
    }
  }
  // The held bytes [from, to) with the edits that fall there.
  function* release(to: number): Generator<Buffer> {
    while (from < to && held.length) {
      const chunk = held[0]!;
      const chunkEnd = from + chunk.length;
      const edit = edits[0];
      if (edit && edit.at < chunkEnd && edit.at < to) {
        if (edit.at > from) {
          yield chunk.subarray(0, edit.at - from);
          held[0] = chunk.subarray(edit.at - from);
          from = edit.at;
          continue;
        }
        // At the edit: its bytes, then skip the old value (which may run into the next chunks).
        yield edit.bytes;
        edits.shift();
        skip(edit.end - from);
        continue;
      }
      const stop = Math.min(chunkEnd, to);
      yield stop === chunkEnd ? chunk : chunk.subarray(0, stop - from);
      if (stop === chunkEnd) held.shift();
      else held[0] = chunk.subarray(stop - from);
      from = stop;
    }
  }
  function skip(n: number) {
    from += n;
    while (n > 0 && held.length) {
      const c = held[0]!;
      if (c.length <= n) {
        held.shift();
        n -= c.length;
      } else {
        held[0] = c.subarray(n);
        n = 0;
      }
    }
  }
  for await (const batch of lineBatches(tap())) {
    for (const line of batch) {
      const mine = lineEdits(line.bytes, retag, (parent, offset) => {
        refs.push({ parent, offset, line: line.offset });
        return base(parent, offset);
      });
      if (!mine.length) continue;
      shifts.edited++;
      let delta = 0;
      for (const e of mine) {
        edits.push({ at: line.offset + e.at, end: line.offset + e.end, bytes: e.bytes });
        delta += e.bytes.length - (e.end - e.at);
      }
      if (delta) shifts.lines.push([line.offset, delta]);
    }
    yield* release(batch[batch.length - 1]!.end);
  }
  yield* release(Infinity);
}

/**
 * The rewrites of a set of files that may read one another (a bundle's): first each file on its
 * own (`add`, from a pass that left every history_base offset as it was), then, parents first,
 * what each file's rewrite does to its offsets once the offsets it holds into its parent are
 * moved too (a longer number is a longer line). A file that reads a rollout outside the set has
 * no known rewrite.
 */
export class RetagPlan {
  private own = new Map<string, { shifts: Shifts; refs: BaseRef[] }>();
  private resolved = new Map<string, Shifts | null>();

  add(rolloutId: string, shifts: Shifts, refs: BaseRef[]): void {
    this.own.set(rolloutId, { shifts, refs });
  }

  has(rolloutId: string): boolean {
    return this.own.has(rolloutId);
  }

  /** How the rollout's bytes move, or null when that is not known (it, or a rollout it reads, is not in the set). */
  shiftsOf(rolloutId: string, seen = new Set<string>()): Shifts | null {
    if (this.resolved.has(rolloutId)) return this.resolved.get(rolloutId)!;
    const own = this.own.get(rolloutId);
    if (!own || seen.has(rolloutId)) return null;
    seen.add(rolloutId);
    let out: Shifts | null = new Shifts();
    out.lines.push(...own.shifts.lines);
    for (const ref of own.refs) {
      const parent = this.shiftsOf(ref.parent, seen);
      if (!parent) {
        out = null;
        break;
      }
      const moved = String(parent.apply(ref.offset)).length - String(ref.offset).length;
      if (moved) out.lines.push([ref.line, moved]);
    }
    this.resolved.set(rolloutId, out);
    return out;
  }

  /** The BaseShift of the set, for the pass that writes. */
  readonly base: BaseShift = (rolloutId, offset) => this.shiftsOf(rolloutId)?.apply(offset) ?? null;
}
