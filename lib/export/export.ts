// rollout-export's work: one session, read in two streaming passes (the plan, then the transcript),
// rendered in one format, written to stdout, a file, or a file in a directory.
import { setFlagsFromString } from 'node:v8';
import { spool, writeAtomic } from '../fs/atomic.js';
import { printable, safeJson } from '../cli/terminal.js';
import { nameIn, readNames, type Names } from '../home/names.js';
import { ancestry } from '../home/history.js';
import type { Output } from '../cli/output.js';
import { isBareGeneration, Normalizer, parseLine, type Generation, type SessionMetaPayload } from '../core/record.js';
import type { Resolver, Target } from '../home/resolve.js';
import { metaOf, readHead } from '../core/session.js';
import { openSource, STDIN } from '../core/source.js';
import { csv, json, ndjson } from './data.js';
import { html } from './html.js';
import { markdown } from './markdown.js';
import type { SessionFacts } from '../items/model.js';
import { planSession } from './plan.js';
import { selectTurns, type TurnRange } from '../core/turn-range.js';
import type { Source } from './records.js';
import { redactDeep } from '../items/redact.js';
import type { Renderer } from './render.js';
import { transcript, type TranscriptOptions } from './transcript.js';

export type Format = 'md' | 'html' | 'json' | 'ndjson' | 'csv';

export const FORMATS: Record<Format, Renderer> = { md: markdown, html, json, ndjson, csv };

export const isFormat = (f: string): f is Format => Object.hasOwn(FORMATS, f);

export interface ExportOptions extends Omit<TranscriptOptions, 'turns'> {
  format: Format;
  turns: TurnRange | null;
}

export interface PreparedExport {
  facts: SessionFacts;
  format: Format;
  /** The rendered session, in pieces; `index` counts the sessions already written to the same output. */
  render(index: number): AsyncGenerator<string[]>;
  /** Removes what preparing made (the spooled copy of stdin). */
  close(): Promise<void>;
}

/**
 * Holds an export's memory flat whatever the session's size. An export allocates without pause for
 * as long as the session lasts; V8 answers by doubling the young generation up to its maximum
 * (48 MB committed, more than the rest of a run together) and by letting promoted garbage pile up
 * in the old generation to several times what is live. Here the young generation keeps its
 * starting size (1 MB semi-spaces: more scavenges, each as cheap, since little survives one) and
 * the old generation is collected once it outgrows what is live by 30%. Both flags are read each
 * time the collector sizes the heap, so setting them at run time takes effect; they only tune when
 * collections happen, never what a program can allocate.
 */
export function boundMemory(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--heap-growing-percent=30');
}

/** Codex's thread names, read once per resolver: a --batch run exported thousands of sessions and read them for each. */
const names = new WeakMap<Resolver, Promise<Names>>();
function namesFor(resolver: Resolver): Promise<Names> {
  let known = names.get(resolver);
  if (!known) names.set(resolver, (known = readNames(resolver.home)));
  return known;
}

/** Runs the first pass over a session (and its ancestors); the second runs as `render` is read. */
export async function prepareExport(target: Target, resolver: Resolver, opts: ExportOptions): Promise<PreparedExport> {
  // Stdin can be read once, and an export reads twice: a private copy, decompressed, meanwhile.
  const spooled = target.stdin ? await spool(openSource(STDIN), 'export', 'jsonl') : null;
  try {
    const path = spooled?.path ?? (target.stdin ? STDIN : target.file.path);
    const form = target.stdin ? undefined : target.file.form;
    const label = target.stdin ? '<stdin>' : target.file.path;
    const head = await readHead(path, form);
    const meta = metaOf(head.first) ?? bareMeta(head.first, head.generation);
    const sources: Source[] = [...(await ancestry(meta, resolver, label)).map((s) => ({ ...s, label: s.path })), { path, form, label }];
    const id = typeof meta?.id === 'string' ? meta.id.toLowerCase() : null;
    const name = id ? nameIn(await namesFor(resolver), id) : null;
    const plan = await planSession({ sources, meta, generation: head.generation, label, name });
    // A turn the session does not have is said before anything of it is written.
    const turns = opts.turns ? selectTurns(opts.turns, plan.turns.length, label) : null;
    if (opts.redact) redactDeep(plan.facts);
    const renderer = FORMATS[opts.format];
    return {
      facts: plan.facts,
      format: opts.format,
      render: (index) => renderer(plan.facts, transcript(sources, plan, { ...opts, turns }), { index }),
      close: async () => {
        spooled?.remove();
      },
    };
  } catch (err) {
    spooled?.remove();
    throw err;
  }
}

/** The meta of an old bare-line session, as the normalizer would write it. */
function bareMeta(first: unknown, generation: Generation | null): SessionMetaPayload | null {
  if (!isBareGeneration(generation)) return null;
  const [line] = new Normalizer().convert(first);
  return line ? (parseLine(Buffer.from(line))?.payload ?? null) : null;
}

/** The out.ts writer sends a block this large straight to the file, without copying it. */
const BLOCK = 1 << 18;

/**
 * Rendered pieces encoded into blocks of 256 KB, one write each. The block is reused: each is
 * valid until the next is pulled (both writers finish with a block before they ask for more).
 * Encoding each piece in place costs a third of what building one string of a batch would.
 */
export async function* blocks(chunks: AsyncIterable<string[]>): AsyncGenerator<Buffer> {
  const block = Buffer.allocUnsafe(BLOCK);
  let used = 0;
  for await (const pieces of chunks) {
    for (const piece of pieces) {
      // Three bytes a UTF-16 unit at the most; only near the end is the exact size worth counting.
      if (piece.length * 3 > BLOCK - used && Buffer.byteLength(piece) > BLOCK - used) {
        if (used) yield block.subarray(0, used);
        used = 0;
        if (piece.length * 3 > BLOCK && Buffer.byteLength(piece) > BLOCK) {
          yield Buffer.from(piece);
          continue;
        }
      }
      used += block.write(piece, used);
    }
  }
  if (used) yield block.subarray(0, used);
}

/**
 * Writes a prepared export to stdout. To a terminal, nothing a session holds may act on it: text
 * formats show control characters as escapes, JSON writes them as JSON escapes.
 */
export async function writeTo(out: Output, prepared: PreparedExport, index: number, terminal = false): Promise<void> {
  const pieces = prepared.render(index);
  for await (const block of blocks(terminal ? forTerminal(pieces, prepared.format) : pieces)) out.write(block);
}

async function* forTerminal(pieces: AsyncIterable<string[]>, format: Format): AsyncGenerator<string[]> {
  const safe = format === 'json' || format === 'ndjson' ? safeJson : printable;
  for await (const group of pieces) yield group.map(safe);
}

/** Writes a prepared export to `path`, atomically (a reader never sees half a file). */
export async function writeFileExport(path: string, prepared: PreparedExport): Promise<void> {
  await writeAtomic(path, blocks(prepared.render(0)), { durable: false });
}
