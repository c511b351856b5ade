// rollout-prune's command line read into what to do and to which sessions: one action, and the
// selection it applies to (rewriting may choose by itself, by the directories it moves).
import { UsageError } from '../cli/errors.js';
import type { Options } from '../cli/main.js';
import { isRetag, parseRetag, type Retag } from '../core/retag.js';
import { spellings } from '../core/real-path.js';
import type { Filters } from '../index/query.js';
import { narrows, parseSelection } from '../select/options.js';
import type { Action } from '../select/sessions.js';

const FLAGS: Array<[Action, string]> = [
  ['archive', '--archive'],
  ['compress', '--compress'],
  ['unarchive', '--unarchive'],
];

export interface PruneArgs {
  action: Action;
  filters: Filters;
  retag?: Retag;
}

export function parsePruneArgs(o: Options): PruneArgs {
  const retag = parseRetag(o, 'setProvider');
  const asked = FLAGS.filter(([a]) => o[a]).map(([, flag]) => flag);
  if (isRetag(retag)) asked.push(retag.cwd.length ? '--map-cwd' : '--set-provider');
  if (asked.length > 1) throw new UsageError(`choose one action, not ${asked.join(' and ')}`);
  const action: Action = isRetag(retag) ? 'retag' : (FLAGS.find(([a]) => o[a])?.[0] ?? 'delete');
  const filters = parseSelection(o, action === 'unarchive' ? 'only' : o.stdin ? 'include' : 'exclude');
  if (o.stdin || narrows(filters)) return { action, filters, ...(isRetag(retag) && { retag }) };
  if (action !== 'retag') throw new UsageError('say which sessions: give a filter (--older-than AGE, --cwd DIR, ...) or --stdin');
  // Moving directories alone touches only the sessions that began in them; a new provider, every session.
  if (retag.provider === null) filters.cwd = retag.cwd.flatMap(([from]) => spellings(from));
  return { action, filters, retag };
}
