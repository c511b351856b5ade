#!/usr/bin/env node
import { main, single, wholeNumber } from '../lib/cli/main.js';
import { LISTING_OPTIONS, listingForm } from '../lib/cli/options.js';
import { EXIT_OK, UsageError } from '../lib/cli/errors.js';
import { stdout } from '../lib/cli/output.js';
import { codexHome } from '../lib/home/paths.js';
import { indexPath } from '../lib/index/db.js';
import { shortener } from '../lib/index/table.js';
import { openFresh } from '../lib/index/update.js';
import { parseSelection, SELECTION_OPTIONS } from '../lib/select/options.js';
import { DU_SORT_SPECS, GROUPINGS, jsonRow, kindUsage, parseBy, parseDuSort, totalRow, usage, type KindUsage, type Report, type Usage } from '../lib/du/du.js';
import { kindTable, usageTable } from '../lib/du/table.js';

await main({
  name: 'rollout-du',
  usage: '[options]',
  summary: 'Where the bytes of the sessions are: by session, folder, month, source or kind of content',
  details: [
    'Adds up the files of the chosen sessions from the index (brought up to date first, as rollout-ls does): on disk, decompressed, and the bytes of each kind of content: inline images, tool output, reasoning, compaction, history copied from a parent, and the rest. NDJSON, one group a line and the total last, when stdout is not a terminal; a table when it is.',
  ],
  options: [
    ...SELECTION_OPTIONS,
    ['--by <group>', 'session, dir, month, source or kind (default session)', undefined, GROUPINGS],
    ['--sort <key>', 'size (on disk), uncompressed, a kind, sessions, files or key; -KEY for descending (default -size)', undefined, DU_SORT_SPECS],
    ['--limit <n>', 'At most N groups (the total still counts every chosen session)'],
    ...LISTING_OPTIONS,
  ],
  examples: [
    'rollout-du --limit 5',
    'rollout-du --by kind --include-archived',
    'rollout-du --by month --sort key --table',
    'rollout-du --by dir --sort -images --limit 3',
  ],
  async run(args, o) {
    if (args.length) throw new UsageError(`unexpected argument '${args[0]}'`);
    const by = parseBy(single(o.by));
    const sort = parseDuSort(single(o.sort) ?? '-size', by);
    if (single(o.limit) === '0') throw new UsageError('--limit takes a number of groups, at least 1');
    const limit = wholeNumber(o.limit, '--limit');
    const filters = parseSelection(o);
    const form = listingForm(o);
    const home = codexHome(single(o.codexHome));
    const db = await openFresh(home, indexPath(home, single(o.index)), o.update !== false);
    try {
      const report: Report<Usage | KindUsage> = by === 'kind' ? kindUsage(db, filters, sort, limit) : usage(db, filters, by, sort, limit);
      if (form.table) {
        // A table is sized to its rows: those go in memory (the NDJSON rows stream).
        const groups = [...report.groups];
        const t = { shortId: shortener(db, by === 'session' ? (groups as Usage[]).map((g) => ({ id: g.key! })) : []), color: form.color };
        const lines = by === 'kind' ? kindTable({ ...report, groups } as Report<KindUsage>, t) : usageTable(by, { ...report, groups } as Report<Usage>, t);
        for (const l of lines) stdout.line(l);
      } else {
        for (const g of report.groups) stdout.json(jsonRow(by, g));
        stdout.json(totalRow(report.total));
      }
    } finally {
      db.close();
    }
    return EXIT_OK;
  },
});
