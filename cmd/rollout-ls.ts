#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { list as values, main, notice, wholeNumber, single, UsageError, EXIT_OK } from '../lib/cli/main.js';
import { codexHome } from '../lib/home/paths.js';
import { indexPath } from '../lib/index/db.js';
import { compileFormat, table } from '../lib/index/format.js';
import { openFresh } from '../lib/index/update.js';
import { list, parseSize, parseSort, parseWhen, searchHits, type Query } from '../lib/index/query.js';
import { stdout } from '../lib/cli/output.js';
import { visible } from '../lib/cli/terminal.js';

await main(
  {
    name: 'rollout-ls',
    usage: '[options]',
    summary: 'List sessions from the index, filtered, sorted, paged or found by full-text search',
    details: ['NDJSON, one session a line, when stdout is not a terminal; a table when it is. The index is brought up to date first (--no-update skips that).'],
    options: [
      ['--cwd <dir>', "Only sessions started in DIR ('.' for the current directory; repeatable)"],
      ['--include-archived', 'Archived sessions too'],
      ['--archived', 'Only archived sessions'],
      ['--since <when>', 'Last activity at or after WHEN: an age (30d, 12h, 2w) or a date'],
      ['--until <when>', 'Last activity before WHEN: an age or a date'],
      ['--older-than <age>', 'Last activity longer ago than AGE (like --until)'],
      ['--model <model>', 'Only sessions whose latest model is MODEL (repeatable)'],
      ['--provider <id>', 'Only sessions of this model provider (repeatable)'],
      ['--source <source>', 'Only sessions of this source: cli, vscode, exec, mcp, ... (repeatable)'],
      ['--name <name>', 'Only sessions named NAME (repeatable)'],
      ['--forked-from <id>', 'Only forks of this session (id or id prefix)'],
      ['--min-size <size>', 'Only files of at least SIZE bytes (10k, 2M, 1G)'],
      ['--search <query>', 'Sessions with a message matching QUERY (SQLite FTS5 syntax), best first'],
      ['--hits', 'With --search: one line per matching message instead of per session'],
      ['--sort <key>', 'created, updated, size, tokens or turns; -KEY for descending (default -updated)'],
      ['--limit <n>', 'At most N rows; a last line {"next_cursor": ...} when more remain'],
      ['--cursor <cursor>', 'Continue after the page that printed this cursor'],
      ['--format <format>', "Plain text lines, e.g. '%(id) %(updated:relative) %(title)'"],
      ['--json', 'NDJSON even when stdout is a terminal'],
      ['--no-update', 'Read the index as it is, without bringing it up to date'],
      ['--index <file>', 'The index (default: $ROLLOUT_INDEX, else <CODEX_HOME>/rollout-index.sqlite)'],
      ['--codex-home <dir>', 'The Codex home (default: $CODEX_HOME, else ~/.codex)'],
      ['-q, --quiet', 'No warnings on stderr'],
    ],
    examples: [
      "rollout-ls --cwd . --limit 10 --format '%(id:short) %(updated:relative) %(label)'",
      "rollout-ls --search 'migration NEAR(postgres)' --hits",
      'rollout-ls --older-than 90d --include-archived | rollout-prune --stdin -n',
    ],
    async run(args, o) {
      if (args.length) throw new UsageError(`unexpected argument '${args[0]}'`);
      if (o.archived && o.includeArchived) throw new UsageError('--archived and --include-archived do not go together');
      const search = single(o.search);
      if (o.hits && search === undefined) throw new UsageError('--hits goes with --search');
      if (o.hits && o.sort !== undefined) throw new UsageError('--hits are ordered best first; --sort does not apply');
      const format = single(o.format);
      if (single(o.limit) === '0') throw new UsageError('--limit takes a number of rows, at least 1');
      const q: Query = {
        sort: o.sort === undefined ? (search !== undefined ? { key: 'rank', descending: false } : parseSort('-updated')) : parseSort(single(o.sort)!),
        limit: wholeNumber(o.limit, '--limit'),
        cursor: single(o.cursor),
        search,
        cwd: values(o.cwd).flatMap(directories),
        archived: o.archived ? 'only' : o.includeArchived ? 'include' : 'exclude',
        model: values(o.model),
        provider: values(o.provider),
        source: values(o.source),
        name: values(o.name),
        forkedFrom: single(o.forkedFrom)?.toLowerCase(),
        minSize: o.minSize === undefined ? undefined : parseSize(single(o.minSize)!, '--min-size'),
      };
      const since = single(o.since);
      const until = [single(o.until), single(o.olderThan)].filter((w): w is string => w !== undefined);
      if (since !== undefined) q.since = parseWhen(since, '--since');
      if (until.length) q.until = Math.min(...until.map((u, i) => parseWhen(u, i === 0 && o.until !== undefined ? '--until' : '--older-than')));
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
          if (page.next && !o.quiet) notice(`more rows: --cursor ${page.next}`);
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
  },
  sortValueAttached(process.argv.slice(2)),
);

/** `--sort -updated` would read `-updated` as flags: keep a descending key with its flag. */
function sortValueAttached(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--sort' && /^-[a-z]+$/.test(argv[i + 1] ?? '')) out.push(`--sort=${argv[++i]}`);
    else out.push(argv[i]!);
  }
  return out;
}

/** A directory as sessions record it: absolute, and also its real path when a link leads there. */
function directories(dir: string): string[] {
  const abs = resolve(dir);
  let real = abs;
  try {
    real = realpathSync(abs);
  } catch {
    // A directory that is gone can still be asked about.
  }
  return real === abs ? [abs] : [abs, real];
}
