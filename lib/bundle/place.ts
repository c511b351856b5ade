// Where each file of a bundled session lands in a home, and what becomes of the session, decided
// from what the home already holds. Pure: the comparisons of bytes are made by the caller
// (unbundle.ts) and passed in as verdicts. The rules are documented in man/rollout-unbundle.md.
import { basename, join } from 'node:path';
import { archivedPath, currentFile, plainPath, unarchivedPath, type Home, type Root, type SessionFile } from '../home/paths.js';
import type { BundledFile, BundledSession } from './manifest.js';

/** How a logical file of the bundle compares with the home's copy of it (same name, either root, plain or .zst). */
export type Verdict =
  | { kind: 'new' }
  | { kind: 'same' }
  /** The home's copy is a strict prefix of the bundle's: the session went on elsewhere. */
  | { kind: 'shorter-here' }
  | { kind: 'longer-here' }
  | { kind: 'differs'; at: number };

/** One logical rollout file of a bundled session: its members (plain, .zst or both) and the home's copy. */
export interface Part {
  /** The plain file name. */
  name: string;
  members: BundledFile[];
  here: SessionFile | null;
}

export type Action = 'import' | 'update' | 'skip' | 'conflict';

export interface Decision {
  action: Action;
  reason?: string;
  /** Member path to where it is written (for import and update: the files that change). */
  writes: Map<string, string>;
  /** For update: the home files about to be replaced, checked again just before. */
  replaces: SessionFile[];
}

const rootOfMember = (m: BundledFile): Root => (m.path.startsWith('archived_sessions/') ? 'archived_sessions' : 'sessions');

/**
 * The root a thread's new files land in: where the home keeps the thread, else where the bundle's
 * current file is. One root for all of them, so that Codex never lists the thread twice.
 */
export const rootFor = (s: BundledSession, homeFiles: SessionFile[]): Root =>
  homeFiles.length ? currentFile(homeFiles).root : s.archived ? 'archived_sessions' : 'sessions';

/**
 * The session's files grouped by their plain name, each with the home's copy (the one that stands
 * for it). A name the bundle holds in both roots keeps only its members in the thread's root.
 */
export function partsOf(s: BundledSession, homeFiles: SessionFile[]): Part[] {
  const parts = new Map<string, Part>();
  const root = rootFor(s, homeFiles);
  for (const f of s.files) {
    const name = plainPath(basename(f.path));
    const part = parts.get(name) ?? { name, members: [], here: null };
    part.members.push(f);
    parts.set(name, part);
  }
  for (const part of parts.values()) {
    const copies = homeFiles.filter((h) => plainPath(basename(h.path)) === part.name);
    part.here = copies.length ? currentFile(copies) : null;
    if (part.members.some((m) => rootOfMember(m) === root)) part.members = part.members.filter((m) => rootOfMember(m) === root);
  }
  return [...parts.values()];
}

/** The member a comparison reads: the plain one when the bundle has it (no decompression). */
export const compared = (part: Part): BundledFile => part.members.find((m) => !m.path.endsWith('.zst')) ?? part.members[0]!;

/** Where a member of a file the home lacks goes: its own path when that is in `root`, else the same name there. */
export function targetOf(home: Home, member: BundledFile, root: Root): string {
  if (rootOfMember(member) === root) return join(home.dir, member.path);
  return root === 'archived_sessions' ? archivedPath(home, member.path) : unarchivedPath(home, member.path);
}

/**
 * The session's fate. Any file that differs from the home's copy other than by growing makes it a
 * conflict, left alone whole; files the home lacks are imported, files that grew are updated (in
 * the home's place for them); a grown file the home keeps compressed is not replaced.
 */
export function decide(home: Home, parts: Part[], verdicts: Map<string, Verdict>, root: Root): Decision {
  const writes = new Map<string, string>();
  const replaces: SessionFile[] = [];
  const conflict = parts.find((p) => verdicts.get(p.name)?.kind === 'differs');
  if (conflict) {
    const v = verdicts.get(conflict.name) as { at: number };
    return { action: 'conflict', reason: `${conflict.name} differs from the home's copy at byte ${v.at}`, writes, replaces };
  }
  let updated = false;
  for (const p of parts) {
    const v = verdicts.get(p.name)!;
    if (v.kind === 'new') for (const m of p.members) writes.set(m.path, targetOf(home, m, root));
    if (v.kind !== 'shorter-here') continue;
    const here = p.here!;
    if (here.files.some((f) => f.endsWith('.zst')) || compared(p).path.endsWith('.zst'))
      return { action: 'skip', reason: `${p.name} grew elsewhere, but one side keeps it compressed (.zst): not replaced`, writes: new Map(), replaces };
    // The plain content replaces the home's plain file; a .zst member of the bundle is not needed then.
    writes.set(compared(p).path, here.path);
    replaces.push(here);
    updated = true;
  }
  if (writes.size) return { action: updated ? 'update' : 'import', writes, replaces };
  const longer = parts.some((p) => verdicts.get(p.name)?.kind === 'longer-here');
  return { action: 'skip', reason: longer ? "the home's copy is longer" : 'already here', writes, replaces };
}
