// A home where screenshots are the bytes, as users with homes of hundreds of GiB report them: each
// session attaches a few screenshots (drawn from a small pool, so the same picture comes back in
// other sessions), views one more through a tool, is compacted once (the compaction's replacement
// history copies its pictures again), and starts subagents that copy its whole history into their
// own files. Legacy (generation D) files, all three weeks old, deterministic for a seed and scale.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ANCHOR, Rng } from './gen-home.js';

export const SCREENSHOTS_VERSION = 1;
const KB = 1024;
const DAY = 86_400_000;

export interface ScreenshotsManifest {
  sessions: number;
  subagents: number;
  /** Distinct pictures, and how many times they are stored in all. */
  pictures: number;
  copies: number;
  bytes: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const uuid = (rng: Rng, ms: number) => {
  const h = ms.toString(16).padStart(12, '0') + rng.hex(20);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-7${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/** A screenshot's base64: 400 KB to 1.2 MB of it, like a PNG of a window (already compressed, so noise). */
function picture(rng: Rng): string {
  const bytes = Buffer.alloc(rng.int(300, 900) * KB);
  for (let i = 0; i < bytes.length; i += 4) bytes.writeUInt32LE(Math.floor(rng.next() * 0x100000000), i);
  return bytes.toString('base64');
}

/** Text that compresses as tool output does (a build log): lines that repeat with small changes. */
function log(rng: Rng, lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) out.push(`[${rng.int(1, 400)}/400] compiling src/module_${rng.int(1, 60)}/file_${rng.int(1, 30)}.ts (${rng.int(2, 900)} ms)`);
  return out.join('\n');
}

export function generateScreenshots(dir: string, scale: number, seed = 7): ScreenshotsManifest {
  const rng = new Rng(seed);
  const sessions = Math.max(4, Math.round(24 * scale));
  const pool = Array.from({ length: Math.max(3, Math.round(sessions * 1.5)) }, () => picture(rng));
  const used = new Set<number>();
  const m: ScreenshotsManifest = { sessions, subagents: 0, pictures: 0, copies: 0, bytes: 0 };
  const write = (id: string, start: number, lines: string[]) => {
    const d = new Date(start);
    const folder = join(dir, 'sessions', String(d.getUTCFullYear()), String(d.getUTCMonth() + 1).padStart(2, '0'), String(d.getUTCDate()).padStart(2, '0'));
    mkdirSync(folder, { recursive: true });
    const path = join(folder, `rollout-${iso(start).slice(0, 19).replace(/:/g, '-')}-${id}.jsonl`);
    const text = lines.join('\n') + '\n';
    writeFileSync(path, text);
    const old = new Date(ANCHOR - 21 * DAY);
    utimesSync(path, old, old);
    m.bytes += Buffer.byteLength(text);
    m.copies += (text.match(/data:image\/png;base64,/g) ?? []).length;
  };
  for (let s = 0; s < sessions; s++) {
    const start = ANCHOR - 22 * DAY + s * 60_000;
    const id = uuid(rng, start);
    let clock = start;
    const env = (type: string, payload: string) => `{"timestamp":"${iso((clock += 50))}","type":"${type}","payload":${payload}}`;
    const meta = (who: string, source: string) =>
      env(
        'session_meta',
        `{"id":"${who}","timestamp":"${iso(start)}","cwd":"/home/ana/src/app","originator":"codex_cli_rs","cli_version":"0.150.0","source":${source},"model_provider":"openai"}`,
      );
    const history: string[] = [];
    const own: string[] = [meta(id, '"cli"')];
    const item = (payload: string) => {
      const line = env('response_item', payload);
      history.push(payload);
      own.push(line);
    };
    for (let turn = 0; turn < 3; turn++) {
      const k = rng.int(0, pool.length - 1);
      used.add(k);
      const url = `data:image/png;base64,${pool[k]}`;
      own.push(env('turn_context', `{"cwd":"/home/ana/src/app","approval_policy":"on-request","model":"gpt-5.5","effort":"medium","summary":"auto"}`));
      item(
        `{"type":"message","role":"user","content":[{"type":"input_text","text":"Turn ${turn}: what is wrong on this screen?"},{"type":"input_image","image_url":"${url}"}]}`,
      );
      own.push(env('event_msg', `{"type":"user_message","message":"Turn ${turn}: what is wrong on this screen?","images":["${url}"]}`));
      const call = `call_${rng.hex(12)}`;
      item(`{"type":"function_call","name":"shell","arguments":"{\\"command\\":[\\"npm\\",\\"run\\",\\"build\\"]}","call_id":"${call}"}`);
      item(`{"type":"function_call_output","call_id":"${call}","output":${JSON.stringify(log(rng, 900))}}`);
      if (turn === 1) {
        const v = rng.int(0, pool.length - 1);
        used.add(v);
        const view = `call_${rng.hex(12)}`;
        item(`{"type":"function_call","name":"view_image","arguments":"{\\"path\\":\\"shot.png\\"}","call_id":"${view}"}`);
        item(`{"type":"function_call_output","call_id":"${view}","output":[{"type":"input_image","image_url":"data:image/png;base64,${pool[v]}"}]}`);
      }
      item(`{"type":"message","role":"assistant","content":[{"type":"output_text","text":"The layout of turn ${turn} overflows its container."}]}`);
    }
    // Compacted once: the replacement history carries the pictures again.
    own.push(env('compacted', `{"message":"Summary of the work so far.","replacement_history":[${history.join(',')}]}`));
    write(id, start, own);
    // Two subagents, each starting from a copy of the parent's history.
    for (let a = 0; a < 2; a++) {
      const sid = uuid(rng, start + 1000 + a);
      clock = start + 1000 + a * 100;
      const lines = [
        meta(sid, `{"subagent":{"thread_spawn":{"parent_thread_id":"${id}","depth":1}}}`),
        ...history.map((p) => env('response_item', p)),
        env('response_item', `{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Subagent ${a} reviewed it."}]}`),
      ];
      write(sid, start + 1000 + a, lines);
      m.subagents++;
    }
  }
  m.pictures = used.size;
  return m;
}
