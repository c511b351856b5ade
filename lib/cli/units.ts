// Ages, dates, durations and sizes as users write them on the command line, and sizes as people read them.
import { UsageError } from './errors.js';

const UNITS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3, y: 365 * 86400e3 };

/** `30d`, `12h`, `2w`, `90m`, `1y` ago, or a date (`2026-08-01`, any ISO time): an instant in ms. */
export function parseWhen(s: string, flag: string, now = Date.now()): number {
  // An age needs its unit: a bare number reads too easily as a date or a count.
  if (/^\d+(?:\.\d+)?\s*[smhdwy]$/i.test(s.trim())) return now - parseDuration(s, flag);
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) {
    const t = Date.parse(s);
    if (!Number.isNaN(t)) return t;
  }
  throw new UsageError(`${flag} takes an age (30d, 12h, 2w) or a date (2026-08-01), not '${s}'`);
}

/**
 * Milliseconds in a duration like `10m`, `12h`, `30d`, `2w`, `45s`, `0` (a bare number is seconds):
 * the one grammar of every flag that takes a length of time (`--grace`, `--wait`).
 */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhdwy])?$/i.exec(text.trim());
  if (!m) throw new UsageError(`${flag} takes a duration (10m, 2h, 30s, 0), not '${text}'`);
  return Math.round(Number(m[1]) * UNITS[(m[2] ?? 's').toLowerCase()]!);
}

const SIZES: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `500`, `10k`, `2M`, `1G` (binary units): bytes. */
export function parseSize(s: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(s.trim());
  if (!m) throw new UsageError(`${flag} takes a size (500, 10k, 2M, 1G), not '${s}'`);
  return Math.round(Number(m[1]) * SIZES[m[2]!.toLowerCase()]!);
}

/** `512 B`, `1.5 KB`, `2.0 GB`. */
export function humanBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** `1 file`, `3 files`. */
export const count = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
