// The format-drift alarm: every record the real Codex CLI (the pinned release, or CODEX_VERSION)
// wrote into the real home has a type, and a payload type, that the spec documents and
// lib/core/known-types.ts lists. A new one fails here, named with the version that wrote it, so
// that `make interop CODEX_VERSION=<new>` finds a format change before users do.
import t from 'tap';
import { openSession } from '../../lib/core/session.js';
import { peekType, typeOf } from '../../lib/core/record.js';
import { undocumented } from '../../lib/core/known-types.js';
import { CODEX_VERSION, interop } from './codex.js';
import { buildRealHome, defaultRealHomeRoot } from './real-home.js';

await interop(t, main);

async function main() {
  const m = await buildRealHome(defaultRealHomeRoot());
  const seen = new Map<string, string>();
  let lines = 0;
  for (const s of Object.values(m.sessions)) {
    const session = await openSession(s.path);
    for await (const batch of session.batches) {
      for (const line of batch) {
        lines++;
        const what = undocumented(peekType(line.bytes) ?? typeOf(line.bytes));
        if (what !== null && !seen.has(what)) seen.set(what, `${s.relPath}:${line.no}`);
      }
    }
  }
  t.ok(lines > 100, `${lines} lines read`);
  t.same(
    [...seen].map(([what, where]) => `Codex ${CODEX_VERSION} wrote ${what} (first at ${where}), which the spec and lib/core/known-types.ts do not know`),
    [],
    'every record type Codex wrote is documented',
  );
}
