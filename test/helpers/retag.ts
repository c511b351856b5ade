// Checking a session rewritten for another place (--map-cwd, --provider, --set-provider) against
// its original, line by line, by parsing: independent of the byte-level rewrite it checks.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Test } from 'tap';

/** A file's text, decompressed when it is a .zst. */
export const textOf = (path: string) => (path.endsWith('.zst') ? spawnSync('zstd', ['-dcq', path]).stdout : readFileSync(path)).toString();

/**
 * `b`, a rewritten copy of `a`, line by line: the same bytes, or (session_meta, turn_context) the
 * same record with the directory and provider moved. Returns how many lines were moved.
 */
export function movedCopy(t: Test, a: string, b: string, move: (cwd: string) => string, provider: string): number {
  const mine = textOf(a).split('\n');
  const theirs = textOf(b).split('\n');
  t.equal(theirs.length, mine.length, `${basename(b)}: as many lines`);
  let moved = 0;
  mine.forEach((line, i) => {
    if (line === theirs[i]) return;
    const want = JSON.parse(line);
    const got = JSON.parse(theirs[i]);
    t.ok(['session_meta', 'turn_context'].includes(want.type), `${basename(b)}:${i + 1} is a ${want.type} line`);
    want.payload.cwd = move(want.payload.cwd);
    if (want.type === 'session_meta') want.payload.model_provider = provider;
    // The offset into the parent is for the caller to check, by reading the fork's whole history.
    if (want.payload.history_base) want.payload.history_base.end_byte_offset = got.payload.history_base?.end_byte_offset;
    t.same(got, want, `${basename(b)}:${i + 1}`);
    moved++;
  });
  return moved;
}
