#!/usr/bin/env node
import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { main, wholeNumber, single } from '../lib/cli/main.js';
import { UsageError, EXIT_FAILURE, EXIT_OK } from '../lib/cli/errors.js';
import { boundMemory, FORMATS, isFormat, prepareExport, writeFileExport, writeTo, type ExportOptions } from '../lib/export/export.js';
import { OutputDir } from '../lib/export/output-dir.js';
import { parseTurnRange } from '../lib/core/turn-range.js';
import { documentSchema, ndjsonSchema } from '../lib/items/schema.js';
import { codexHome } from '../lib/home/paths.js';
import { stdout } from '../lib/cli/output.js';
import { forEachRef, refSource, Resolver } from '../lib/home/resolve.js';
import { STDIN } from '../lib/core/source.js';
import { QUIET_OPTION, CODEX_HOME_OPTION, PROGRESS_OPTIONS } from '../lib/cli/options.js';

/** Tool output kept per call by default in the formats people read. */
const READABLE_MAX_OUTPUT = 2000;

await main({
  name: 'rollout-export',
  usage: '[options] <session>...',
  summary: 'Export sessions as Markdown or HTML transcripts, or as JSON, NDJSON or CSV data',
  details: [
    'Every format shows the effective history: rolled-back turns are left out, a fork shows the turns it inherits, and injected context is left out unless --all.',
  ],
  options: [
    ['-f, --format <format>', 'md, html, json, ndjson or csv (default: md)', undefined, Object.keys(FORMATS)],
    ['-o, --output <path>', 'Write to PATH (a file; with several sessions, a directory of <id>.<format>)'],
    ['--turns <range>', 'Only turns N, A..B, A.. or ..B; negative counts from the last (-1 is the last turn)'],
    ['--all', 'Include injected context and developer messages'],
    ['--reasoning', 'Include reasoning summaries'],
    ['--max-output <n>', 'Characters of tool output kept per call (default: 2000 for md and html, all for data; 0: all)'],
    ['--redact', 'Mask secrets (API keys, tokens, private keys, password=... values)'],
    ['--schema [kind]', 'Print the JSON Schema of the json document, or of one ndjson line with "ndjson", and exit', undefined, ['json', 'ndjson']],
    ['--batch', 'Read session references from stdin, one a line (or rollout-ls NDJSON rows)'],
    ['--last', 'The most recent session started in the current directory'],
    CODEX_HOME_OPTION,
    QUIET_OPTION,
    ...PROGRESS_OPTIONS,
  ],
  examples: [
    'rollout-export 0199a213 > session.md',
    'rollout-export --last -f html -o last.html',
    'rollout-export -f html -o session.html --redact 0199a213',
    'rollout-ls --since 7d | rollout-export --batch -f ndjson | jq -r \'select(.kind=="tool_call") | .command\'',
    'rollout-export --schema ndjson',
  ],
  async run(args, o) {
    if (o.schema !== undefined && o.schema !== false) {
      const kind = o.schema === true ? 'json' : single(o.schema)!;
      if (kind !== 'json' && kind !== 'ndjson') throw new UsageError(`--schema takes json or ndjson, not '${kind}'`);
      stdout.write(JSON.stringify(kind === 'json' ? documentSchema() : ndjsonSchema(), null, 2) + '\n');
      return EXIT_OK;
    }
    boundMemory();
    const format = single(o.format) ?? 'md';
    if (!isFormat(format)) throw new UsageError(`--format takes md, html, json, ndjson or csv, not '${format}'`);
    const refs = refSource(args, { stdin: o.batch, last: o.last }, '--batch');
    if (args.filter((a) => a === STDIN).length > 1) throw new UsageError("stdin ('-') can be read only once");

    const maxOutput = wholeNumber(o.maxOutput, '--max-output');
    const turnsSpec = single(o.turns);
    const opts: ExportOptions = {
      format,
      all: Boolean(o.all),
      reasoning: Boolean(o.reasoning),
      maxOutput: maxOutput === 0 ? null : (maxOutput ?? (format === 'md' || format === 'html' ? READABLE_MAX_OUTPUT : null)),
      turns: turnsSpec === undefined ? null : parseTurnRange(turnsSpec),
      redact: Boolean(o.redact),
    };

    const output = single(o.output);
    const several = Boolean(o.batch) || args.length > 1;
    const toDir = output !== undefined && (several || output.endsWith('/') || (existsSync(output) && statSync(output).isDirectory()));
    if (output === undefined && several && format === 'html') throw new UsageError('several HTML pages need a directory: give -o DIR');
    if (toDir) await mkdir(output, { recursive: true });
    const dir = toDir ? new OutputDir(output, format) : null;

    const resolver = new Resolver(codexHome(single(o.codexHome)));
    let written = 0;
    const failed = await forEachRef({ ...refs, progress: { what: 'exporting', resolver } }, async (ref) => {
      // Export's --all is about context, so the way to look beyond this directory is another tool.
      const target = ref === null ? await resolver.last(process.cwd(), false, 'rollout-ls lists the sessions of every directory') : await resolver.resolve(ref);
      if (dir?.already(target)) return;
      const prepared = await prepareExport(target, resolver, opts);
      try {
        if (output === undefined) await writeTo(stdout, prepared, written, Boolean(process.stdout.isTTY));
        else if (dir) await dir.write(target, prepared);
        else await writeFileExport(output, prepared);
        written++;
      } finally {
        await prepared.close();
      }
    });
    return failed ? EXIT_FAILURE : EXIT_OK;
  },
});
