// How listed sessions are printed for people: `--format` lines with `%(atom)` placeholders (as in
// `git for-each-ref`). (The table shown on a terminal is table.ts.)
import { UsageError } from '../cli/errors.js';
import type { Hit, Listed } from './query.js';

type Value = string | number | boolean | null | undefined;
type Row = Listed | Hit;

/** Atoms and the row field each reads; dates also take `:relative`, `:iso`, `:date`, `:unix`. */
const ATOMS: Record<string, (r: any) => Value> = {
  id: (r) => r.id,
  path: (r) => r.path,
  root: (r) => r.root,
  archived: (r) => r.archived,
  compressed: (r) => r.compressed,
  created: (r) => r.created_at,
  updated: (r) => r.updated_at,
  cwd: (r) => r.cwd,
  title: (r) => r.title,
  name: (r) => r.name,
  label: (r) => r.name || r.title,
  turns: (r) => r.turns,
  tokens: (r) => r.tokens,
  size: (r) => r.size,
  model: (r) => r.model,
  effort: (r) => r.effort,
  provider: (r) => r.model_provider,
  source: (r) => (typeof r.source === 'object' && r.source !== null ? JSON.stringify(r.source) : r.source),
  originator: (r) => r.originator,
  cli_version: (r) => r.cli_version,
  branch: (r) => r.git_branch,
  git_sha: (r) => r.git_sha,
  git_origin_url: (r) => r.git_origin_url,
  forked_from_id: (r) => r.forked_from_id,
  parent_thread_id: (r) => r.parent_thread_id,
  history_base: (r) => r.history_base,
  history_mode: (r) => r.history_mode,
  generation: (r) => r.generation,
  rollout_id: (r) => r.rollout_id,
  bad_lines: (r) => r.bad_lines,
  snippet: (r) => r.snippet,
  line: (r) => r.line,
  ordinal: (r) => r.ordinal,
  role: (r) => r.role,
};

const DATES = new Set(['created', 'updated']);
const DATE_MODIFIERS = new Set(['relative', 'iso', 'date', 'unix']);

/** "5 minutes ago", "3 days ago", like git's relative dates. */
export function relative(isoTime: string | null, now = Date.now()): string {
  if (!isoTime) return '';
  const s = Math.round((now - Date.parse(isoTime)) / 1000);
  if (s < 0) return 'in the future';
  const steps: Array<[number, string, number]> = [
    [90, 'second', 1],
    [90 * 60, 'minute', 60],
    [36 * 3600, 'hour', 3600],
    [14 * 86400, 'day', 86400],
    [70 * 86400, 'week', 7 * 86400],
    [365 * 86400, 'month', 30 * 86400],
  ];
  for (const [limit, unit, size] of steps) {
    if (s < limit) {
      const n = Math.round(s / size);
      return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
    }
  }
  const years = Math.round(s / (365 * 86400));
  return `${years} year${years === 1 ? '' : 's'} ago`;
}

function dateAs(isoTime: string | null, modifier: string, now: number): string {
  if (!isoTime) return '';
  switch (modifier) {
    case 'relative':
      return relative(isoTime, now);
    case 'date':
      return isoTime.slice(0, 10);
    case 'unix':
      return String(Math.floor(Date.parse(isoTime) / 1000));
    default:
      return isoTime;
  }
}

/** Text without line breaks or tabs, so one session stays one line. */
const oneLine = (s: string) => s.replace(/[\r\n\t]+/g, ' ');

/** The shortest prefix that names a session alone (`%(id:short)`); without an index to ask, 8 characters. */
export type ShortId = (id: string) => string;
const FIRST_8: ShortId = (id) => id.slice(0, 8);

type Piece = string | ((r: Row, shortId: ShortId) => string);

/**
 * Compiles a `--format` string. What would print something else than asked is a usage error: an
 * empty format, a `%(` without its `)`, an unknown atom or modifier. A `%` before anything else is
 * itself.
 */
export function compileFormat(format: string, now = Date.now()): (r: Row, shortId?: ShortId) => string {
  if (format === '') throw new UsageError('--format is empty: it would print an empty line for each session');
  const pieces: Piece[] = [];
  const re = /%\(|%%/g;
  let at = 0;
  for (let m = re.exec(format); m; m = re.exec(format)) {
    pieces.push(format.slice(at, m.index));
    if (m[0] === '%%') {
      pieces.push('%');
      at = re.lastIndex;
      continue;
    }
    const close = format.indexOf(')', re.lastIndex);
    const inside = close === -1 ? '' : format.slice(re.lastIndex, close);
    // Columns count characters, as a terminal shows them, from 1.
    const where = `at column ${[...format.slice(0, m.index)].length + 1}`;
    // `%(id %(title)`: the first one is the one left open.
    if (close === -1 || inside.includes('%(')) throw new UsageError(`--format: '%(' ${where} has no ')'`);
    pieces.push(atomPiece(inside, where, now));
    at = re.lastIndex = close + 1;
  }
  pieces.push(format.slice(at));
  const parts = pieces.filter((p) => p !== '');
  return (r, shortId = FIRST_8) => parts.map((p) => (typeof p === 'string' ? p : p(r, shortId))).join('');
}

/** What `%(atom)` or `%(atom:modifier)` prints. */
function atomPiece(inside: string, where: string, now: number): Piece {
  const [atom, modifier, ...more] = inside.split(':') as [string, string | undefined, ...string[]];
  const get = Object.hasOwn(ATOMS, atom) ? ATOMS[atom] : undefined;
  if (!get) throw new UsageError(`--format: unknown atom %(${atom}) ${where} (known: ${Object.keys(ATOMS).join(', ')})`);
  if (modifier === undefined) {
    return (r) => {
      const v = get(r);
      return v === null || v === undefined ? '' : oneLine(String(v));
    };
  }
  if (!more.length && DATES.has(atom) && DATE_MODIFIERS.has(modifier)) return (r) => dateAs(get(r) as string | null, modifier, now);
  if (!more.length && atom === 'id' && modifier === 'short') return (r, shortId) => shortId(String(get(r) ?? ''));
  throw new UsageError(`--format: %(${atom}) ${where} takes no :${[modifier, ...more].join(':')}`);
}
