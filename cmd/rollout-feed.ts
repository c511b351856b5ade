#!/usr/bin/env node
import { main, single, wholeNumber } from '../lib/cli/main.js';
import { EXIT_FAILURE, EXIT_OK, notice, UsageError } from '../lib/cli/errors.js';
import { CODEX_HOME_OPTION, indexOption, QUIET_OPTION } from '../lib/cli/options.js';
import { stdout } from '../lib/cli/output.js';
import { codexHome } from '../lib/home/paths.js';
import { indexPath } from '../lib/index/db.js';
import { parseSelection, SELECTION_OPTIONS } from '../lib/select/options.js';
import { Checkpoint, feedPass, follow, parseKinds, stopOnSignals } from '../lib/feed/feed.js';
import { FEED_KINDS } from '../lib/feed/records.js';
import { duckdbSql, feedSchema, POSTGRES_COPY, postgresSql } from '../lib/feed/schema.js';

const SCHEMAS = ['json', 'postgres', 'duckdb'];

await main({
  name: 'rollout-feed',
  usage: '[options]',
  summary: 'Stream the records appended to every session since the last run, for loading into a database',
  details: [
    "Writes, as NDJSON, the records of rollout-export's NDJSON (turns, messages, tool calls with command, exit code, duration and directory, compactions), the usage of each model response, and each session's facts, for every session of both roots, in order, as far as their files have complete lines. Each record has a stable record_id (<rollout id>:<byte offset>:<kind>, kept through compression and archiving) and the --host label.",
    'With --checkpoint, only what was appended since the last run: the checkpoint moves on only once stdout was written without error, so a run that fails or is killed sends the same records again (at least once; load by record_id). A record is written again, same id, when it is completed (a turn with its outcome, a tool call with its output, a session with new facts): the later wins.',
    'A loader that can fail after reading everything (psql in one transaction) takes --hold: the progress is kept aside until rollout-feed --ack, run once the load succeeded.',
  ],
  options: [
    ['--checkpoint <file>', 'Where each session was read to (made when missing); read on from there, and moved on after a good run'],
    ['--hold', "With --checkpoint: keep this run's progress aside until --ack"],
    ['--ack', "With --checkpoint: the held run was loaded; make its progress the checkpoint's, and exit"],
    ['--follow', 'Keep running: records as Codex writes them (a look twice a second; tool calls as soon as they start)'],
    ['--host <label>', 'The machine, in every record (default: none)'],
    ['--kinds <kinds>', `Only these kinds, comma-separated: ${FEED_KINDS.join(', ')}`],
    ['--all', 'Include injected context and developer messages'],
    ['--reasoning', 'Include reasoning summaries'],
    ['--max-output <n>', 'Characters of tool output kept per call (default: all)'],
    ['--redact', 'Mask secrets (API keys, tokens, private keys, password=... values)'],
    [
      '--schema <kind>',
      'Print the JSON Schema of a record ("json"), the PostgreSQL DDL ("postgres") or the DuckDB macro ("duckdb"), and exit',
      undefined,
      SCHEMAS,
    ],
    ...SELECTION_OPTIONS,
    indexOption('The rollout index, brought up to date first'),
    CODEX_HOME_OPTION,
    QUIET_OPTION,
  ],
  examples: [
    'rollout-feed --host "$(hostname)" --checkpoint ~/.local/state/rollout/feed.ck >> feed.ndjson',
    'rollout-feed --schema postgres | psql "$DB"',
    `rollout-feed --checkpoint feed.ck --hold | psql "$DB" -1 -c "${POSTGRES_COPY}" -c "select rollout_feed_load()" && rollout-feed --checkpoint feed.ck --ack`,
    "rollout-feed --follow --kinds tool_call | jq --unbuffered -r 'select(.output == null) | .command // .tool'",
  ],
  async run(args, o) {
    if (args.length) throw new UsageError(`unexpected argument '${args[0]}'`);
    const schema = single(o.schema);
    if (schema !== undefined) {
      if (!SCHEMAS.includes(schema)) throw new UsageError(`--schema takes json, postgres or duckdb, not '${schema}'`);
      stdout.write(schema === 'json' ? JSON.stringify(feedSchema(), null, 2) + '\n' : schema === 'postgres' ? postgresSql() : duckdbSql());
      return EXIT_OK;
    }
    const checkpoint = single(o.checkpoint) ?? null;
    if ((o.hold || o.ack) && checkpoint === null) throw new UsageError(`${o.hold ? '--hold' : '--ack'} needs --checkpoint`);
    if (o.hold && (o.ack || o.follow)) throw new UsageError(`--hold and ${o.ack ? '--ack' : '--follow'} do not go together`);
    if (o.ack) {
      const ck = Checkpoint.begin(checkpoint!, 'ack');
      try {
        notice(`${ck.ack()} files' progress acknowledged`);
      } finally {
        ck.close();
      }
      return EXIT_OK;
    }
    const maxOutput = wholeNumber(o.maxOutput, '--max-output');
    const home = codexHome(single(o.codexHome));
    const opts = {
      index: indexPath(home, single(o.index)),
      filters: parseSelection(o, 'include'),
      kinds: parseKinds(single(o.kinds)),
      host: single(o.host) ?? null,
      items: { all: Boolean(o.all), reasoning: Boolean(o.reasoning), maxOutput: maxOutput ? maxOutput : null, redact: Boolean(o.redact) },
      early: Boolean(o.follow),
      terminal: Boolean(process.stdout.isTTY),
    };
    const ck = checkpoint === null ? null : Checkpoint.begin(checkpoint, o.hold ? 'hold' : 'run');
    try {
      if (o.follow) {
        return (await follow(home, opts, stdout, ck, stopOnSignals())) ? EXIT_FAILURE : EXIT_OK;
      }
      return (await feedPass(home, opts, stdout, ck)) ? EXIT_FAILURE : EXIT_OK;
    } finally {
      ck?.close();
    }
  },
});
