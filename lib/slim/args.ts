// rollout-slim's command line read into one of its three jobs (slim, restore, collect) and the
// sessions it applies to.
import { UsageError } from '../cli/errors.js';
import { list, single, type OptionRow, type Options } from '../cli/main.js';
import { parseSize } from '../cli/units.js';
import type { Filters } from '../index/query.js';
import { narrows, parseSelection } from '../select/options.js';
import { DEFAULT_RULES, type BlobRules } from './blobs.js';
import { BLOB_KINDS, type BlobKind } from '../core/blob-marker.js';

export const SLIM_OPTIONS: OptionRow[] = [
  ['--kinds <kinds>', `What to take out, comma-separated: ${BLOB_KINDS.join(', ')} (default: image)`],
  ['--min-blob <size>', 'Take out only blobs at least SIZE long (default: 4k for images, 16k for tool outputs)'],
  ['--drop', 'Do not keep the blobs: the markers stay and the sessions cannot be restored (needs a filter or --stdin)'],
  ['--restore', 'Put the blobs back: each file becomes, byte for byte, what it was before it was slimmed'],
  ['--gc', 'Remove the objects no session refers to any more (every session of both roots is read); takes no filter'],
];

export type SlimJob = { job: 'gc' } | { job: 'slim' | 'restore'; filters: Filters; rules: BlobRules; drop: boolean };

export function parseSlimArgs(o: Options): SlimJob {
  const jobs = (['restore', 'gc'] as const).filter((k) => o[k]);
  if (jobs.length > 1) throw new UsageError('choose one of --restore and --gc');
  if (o.drop && jobs.length) throw new UsageError(`--drop slims; it goes with neither --restore nor --gc`);
  const stdin = Boolean(o.stdin);
  const filters = parseSelection(o, stdin ? 'include' : 'exclude');
  const job = jobs[0] ?? 'slim';
  if (job === 'gc') {
    if (stdin || narrows(filters) || filters.archived !== 'exclude') throw new UsageError('--gc reads every session of both roots; it takes no filter');
    if (o.kinds !== undefined || o.minBlob !== undefined) throw new UsageError('--gc takes neither --kinds nor --min-blob');
    return { job };
  }
  if (o.drop && !stdin && !narrows(filters))
    throw new UsageError('--drop loses the blobs for good: say which sessions with a filter (--older-than AGE, ...) or --stdin');
  return { job, filters, rules: rulesOf(o), drop: Boolean(o.drop) };
}

function rulesOf(o: Options): BlobRules {
  const kinds = list(o.kinds).flatMap((k) => k.split(','));
  for (const k of kinds) if (!BLOB_KINDS.includes(k as BlobKind)) throw new UsageError(`--kinds takes ${BLOB_KINDS.join(', ')}, not '${k}'`);
  const min = single(o.minBlob);
  const size = min === undefined ? null : parseSize(min, '--min-blob');
  if (size !== null && size < 1024) throw new UsageError('--min-blob is at least 1k: a marker takes a few hundred bytes itself');
  return {
    kinds: kinds.length ? new Set(kinds as BlobKind[]) : DEFAULT_RULES.kinds,
    minImage: size ?? DEFAULT_RULES.minImage,
    minToolOutput: size ?? DEFAULT_RULES.minToolOutput,
  };
}
