#!/usr/bin/env node
import { main, wholeNumber, single } from '../lib/cli/main.js';
import { LISTING_OPTIONS, listingForm } from '../lib/cli/options.js';
import { notice, UsageError, EXIT_OK } from '../lib/cli/errors.js';
import { codexHome } from '../lib/home/paths.js';
import { indexPath } from '../lib/index/db.js';
import { compileFormat } from '../lib/index/format.js';
import { hitTable, sessionTable, shortener } from '../lib/index/table.js';
import { tree, treeRow, type Branch } from '../lib/index/tree.js';
import { openFresh } from '../lib/index/update.js';
import { list, parseSort, searchHits, SORT_SPECS, type Hit, type Listed, type Query } from '../lib/index/query.js';
import { parseSelection, SELECTION_OPTIONS } from '../lib/select/options.js';
import { stdout } from '../lib/cli/output.js';
import { visible } from '../lib/cli/terminal.js';

await main({
  name: 'rollout-ls',
  usage: '[options]',
  summary: 'List sessions from the index, filtered, sorted, paged or found by full-text search',
  details: [
    'NDJSON, one session a line, when stdout is not a terminal; a table when it is: the shortest unique id prefix (at least 8 characters, to pass to the other binaries), last activity, turns, branch, directory, and the name or else the title, fitted to the terminal width. The index is brought up to date first (--no-update skips that).',
  ],
  options: [
    ...SELECTION_OPTIONS,
    ['--hits', 'With --search: one line per matching message instead of per session'],
    ['--sort <key>', 'created, updated, size, tokens or turns; -KEY for descending (default -updated)', undefined, SORT_SPECS],
    ['--limit <n>', 'At most N rows; a last line {"next_cursor": ...} when more remain'],
    ['--cursor <cursor>', 'Continue after the page that printed this cursor'],
    ['--format <format>', "Plain text lines, e.g. '%(id) %(updated:relative) %(title)'"],
    ['--tree', 'Forks and subagent threads under the session they came from; NDJSON rows gain depth and parent'],
    ...LISTING_OPTIONS,
  ],
  examples: [
    "rollout-ls --cwd . --limit 10 --format '%(id:short) %(updated:relative) %(label)'",
    "rollout-ls --search 'migration NEAR(postgres)' --hits",
    'rollout-ls --older-than 90d --include-archived | rollout-prune --stdin -n',
    'rollout-ls --tree --no-subagents --table --color=always | head -n 20',
  ],
  async run(args, o) {
    if (args.length) throw new UsageError(`unexpected argument '${args[0]}'`);
    const search = single(o.search);
    if (o.hits && search === undefined) throw new UsageError('--hits goes with --search');
    if (o.hits && o.sort !== undefined) throw new UsageError('--hits are ordered best first; --sort does not apply');
    if (single(o.limit) === '0') throw new UsageError('--limit takes a number of rows, at least 1');
    const q: Query = {
      ...parseSelection(o),
      sort: o.sort === undefined ? (search !== undefined ? { key: 'rank', descending: false } : parseSort('-updated')) : parseSort(single(o.sort)!),
      limit: wholeNumber(o.limit, '--limit'),
      cursor: single(o.cursor),
    };
    const line = o.format === undefined ? null : compileFormat(single(o.format)!);
    if (o.tree && (o.hits || line)) throw new UsageError(`--tree goes with the table or NDJSON, not ${o.hits ? '--hits' : '--format'}`);
    const form = listingForm(o);
    const home = codexHome(single(o.codexHome));
    const db = await openFresh(home, indexPath(home, single(o.index)), o.update !== false);
    try {
      const page = o.hits ? searchHits(db, q) : list(db, q);
      const rows = o.tree ? tree(page.rows as Listed[]) : page.rows;
      if (line) {
        // On a terminal, what a session holds cannot act on it; into a pipe the text goes as it is.
        const shortId = shortener(db, page.rows);
        for (const r of page.rows) stdout.line(process.stdout.isTTY ? visible(line(r, shortId)) : line(r, shortId));
        if (page.next) notice(`more rows: --cursor ${page.next}`);
      } else if (form.table) {
        const t = { shortId: shortener(db, page.rows), color: form.color };
        const lines = o.hits ? hitTable(page.rows as Hit[], t) : sessionTable(rows as Array<Listed | Branch>, t);
        if (page.rows.length) for (const l of lines) stdout.line(l);
        if (page.next) stdout.line(`(more: --cursor ${page.next})`);
      } else {
        for (const r of rows) stdout.json('row' in r ? treeRow(r) : r);
        if (page.next) stdout.json({ next_cursor: page.next });
      }
    } finally {
      db.close();
    }
    return EXIT_OK;
  },
});
