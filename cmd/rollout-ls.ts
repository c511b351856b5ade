#!/usr/bin/env node
import { main, wholeNumber, single } from '../lib/cli/main.js';
import { CODEX_HOME_OPTION, indexOption, QUIET_OPTION } from '../lib/cli/options.js';
import { notice, UsageError, EXIT_OK } from '../lib/cli/errors.js';
import { codexHome } from '../lib/home/paths.js';
import { indexPath } from '../lib/index/db.js';
import { compileFormat, table } from '../lib/index/format.js';
import { openFresh } from '../lib/index/update.js';
import { list, parseSort, searchHits, type Query } from '../lib/index/query.js';
import { parseSelection, SELECTION_OPTIONS } from '../lib/select/options.js';
import { stdout } from '../lib/cli/output.js';
import { visible } from '../lib/cli/terminal.js';

await main({
  name: 'rollout-ls',
  usage: '[options]',
  summary: 'List sessions from the index, filtered, sorted, paged or found by full-text search',
  details: ['NDJSON, one session a line, when stdout is not a terminal; a table when it is. The index is brought up to date first (--no-update skips that).'],
  options: [
    ...SELECTION_OPTIONS,
    ['--hits', 'With --search: one line per matching message instead of per session'],
    ['--sort <key>', 'created, updated, size, tokens or turns; -KEY for descending (default -updated)'],
    ['--limit <n>', 'At most N rows; a last line {"next_cursor": ...} when more remain'],
    ['--cursor <cursor>', 'Continue after the page that printed this cursor'],
    ['--format <format>', "Plain text lines, e.g. '%(id) %(updated:relative) %(title)'"],
    ['--json', 'NDJSON even when stdout is a terminal'],
    ['--no-update', 'Read the index as it is, without bringing it up to date'],
    indexOption('The index'),
    CODEX_HOME_OPTION,
    QUIET_OPTION,
  ],
  examples: [
    "rollout-ls --cwd . --limit 10 --format '%(id:short) %(updated:relative) %(label)'",
    "rollout-ls --search 'migration NEAR(postgres)' --hits",
    'rollout-ls --older-than 90d --include-archived | rollout-prune --stdin -n',
  ],
  async run(args, o) {
    if (args.length) throw new UsageError(`unexpected argument '${args[0]}'`);
    const search = single(o.search);
    if (o.hits && search === undefined) throw new UsageError('--hits goes with --search');
    if (o.hits && o.sort !== undefined) throw new UsageError('--hits are ordered best first; --sort does not apply');
    const format = single(o.format);
    if (single(o.limit) === '0') throw new UsageError('--limit takes a number of rows, at least 1');
    const q: Query = {
      ...parseSelection(o),
      sort: o.sort === undefined ? (search !== undefined ? { key: 'rank', descending: false } : parseSort('-updated')) : parseSort(single(o.sort)!),
      limit: wholeNumber(o.limit, '--limit'),
      cursor: single(o.cursor),
    };
    const line = format === undefined ? null : compileFormat(format);

    const home = codexHome(single(o.codexHome));
    const index = indexPath(home, single(o.index));
    const db = await openFresh(home, index, o.update !== false);
    try {
      const page = o.hits ? searchHits(db, q) : list(db, q);
      const asTable = !line && !o.json && process.stdout.isTTY && !o.hits;
      if (line) {
        // On a terminal, what a session holds cannot act on it; into a pipe the text goes as it is.
        const shown = process.stdout.isTTY ? (r: (typeof page.rows)[number]) => visible(line(r)) : line;
        for (const r of page.rows) stdout.line(shown(r));
        if (page.next) notice(`more rows: --cursor ${page.next}`);
      } else if (asTable) {
        for (const l of table(page.rows as ReturnType<typeof list>['rows'], process.stdout.columns ?? 100)) stdout.line(l);
        if (page.next) stdout.line(`(more: --cursor ${page.next})`);
      } else {
        for (const r of page.rows) stdout.json(r);
        if (page.next) stdout.json({ next_cursor: page.next });
      }
    } finally {
      db.close();
    }
    return EXIT_OK;
  },
});
