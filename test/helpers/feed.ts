// Homes that grow as Codex grows them (lines appended, cut anywhere between two lines), and what
// rollout-feed's records add up to, for the feed's tests and the team test.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import type { HomeManifest } from '../../bench/gen-home.js';
import { ndjson, run } from './fixtures.js';

/** The plain session files of a home's sessions/ folder, cut back to their first line, to grow again to their final bytes. */
export class GrowingHome {
  private readonly files: Array<{ path: string; bytes: Buffer }> = [];
  private seed: number;

  constructor(
    readonly home: string,
    seed = 1,
  ) {
    this.seed = seed;
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.jsonl')) this.files.push({ path: p, bytes: readFileSync(p) });
      }
    };
    walk(join(home, 'sessions'));
    // Each file as Codex begins it: its session_meta line.
    for (const f of this.files) writeFileSync(f.path, f.bytes.subarray(0, f.bytes.indexOf(10) + 1));
  }

  private random(): number {
    this.seed = (this.seed * 48271) % 2147483647;
    return this.seed / 2147483647;
  }

  /**
   * Every file cut to about `fraction` of its bytes (each a little further, at random), at the end of
   * a line: anywhere Codex may have stopped writing, between a call and its output included. Files
   * only grow: a cut before where a file already is leaves it as it is.
   */
  grow(fraction: number): void {
    for (const f of this.files) {
      const want = Math.min(1, fraction + this.random() * 0.1);
      const nl = want >= 1 ? -1 : f.bytes.indexOf(10, Math.floor(f.bytes.length * want));
      const end = nl === -1 ? f.bytes.length : nl + 1;
      const now = readFileSync(f.path).length;
      if (end > now) writeFileSync(f.path, f.bytes.subarray(0, end));
    }
  }
}

/** The records by id, the later of the same id winning (as an upsert loads them). */
export function latest(records: any[]): Map<string, any> {
  const out = new Map<string, any>();
  for (const r of records) out.set(r.record_id, r);
  return out;
}

/** rollout-feed over `home`, its records parsed. */
export function feed(home: string, args: string[] = []): any[] {
  const r = run('rollout-feed', ['--codex-home', home, ...args]);
  if (r.code !== 0) throw new Error(`rollout-feed ${args.join(' ')}: exit ${r.code}: ${r.err}`);
  return ndjson(r.out);
}

/** What a team asks of the records: tool calls per host and day, failed commands, tokens per model. */
export interface Figures {
  callsByHostDay: Record<string, number>;
  failed: number;
  tokensByModel: Record<string, number>;
}

const sorted = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

/** The figures as the generator wrote them into each home (`hosts[i]` is `manifests[i]`'s machine). */
export function expectedFigures(hosts: string[], manifests: HomeManifest[]): Figures {
  const f: Figures = { callsByHostDay: {}, failed: 0, tokensByModel: {} };
  manifests.forEach((m, i) => {
    for (const s of m.sessions) {
      for (const [day, n] of Object.entries(s.tools.byDay)) f.callsByHostDay[`${hosts[i]} ${day}`] = (f.callsByHostDay[`${hosts[i]} ${day}`] ?? 0) + n;
      f.failed += s.tools.failed;
      if (s.usage && s.model) f.tokensByModel[s.model] = (f.tokensByModel[s.model] ?? 0) + s.usage.input + s.usage.output;
    }
  });
  return { callsByHostDay: sorted(f.callsByHostDay), failed: f.failed, tokensByModel: sorted(f.tokensByModel) };
}

/** The same figures from records (their latest versions). */
export function figuresOf(records: Iterable<any>): Figures {
  const f: Figures = { callsByHostDay: {}, failed: 0, tokensByModel: {} };
  for (const r of records) {
    if (r.kind === 'tool_call') {
      const key = `${r.host} ${String(r.time).slice(0, 10)}`;
      f.callsByHostDay[key] = (f.callsByHostDay[key] ?? 0) + 1;
      if (r.exit_code !== null && r.exit_code !== 0) f.failed++;
    } else if (r.kind === 'usage') f.tokensByModel[r.model] = (f.tokensByModel[r.model] ?? 0) + r.total_tokens;
  }
  return { callsByHostDay: sorted(f.callsByHostDay), failed: f.failed, tokensByModel: sorted(f.tokensByModel) };
}

/** A validator for one record, compiled from what `rollout-feed --schema json` prints. */
export function recordValidator(): { check(record: unknown): string | null } {
  const schema = JSON.parse(run('rollout-feed', ['--schema', 'json']).out) as object;
  const ajv = new Ajv2020.default({ allErrors: true, strict: true, formats: { 'date-time': true } });
  const v = ajv.compile(schema);
  return { check: (record) => (v(record) ? null : ajv.errorsText(v.errors)) };
}
