// Sessions written by old Codex releases themselves (test/fixtures/releases/<version>/, made by
// test/interop/make-old-fixtures.ts): the reading core is proven on real bytes of each file
// generation, not only on the ones our fixtures write from the format notes. Each version's
// files are listed, streamed, exported and checked as the newest release's are.
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { openSession } from '../lib/core/session.js';
import { peekType, typeOf } from '../lib/core/record.js';
import { undocumented } from '../lib/core/known-types.js';
import { ndjson, REPO, run, tmpDir } from './helpers/fixtures.js';

const RELEASES = join(REPO, 'test/fixtures/releases');

/** The generation each release writes, by the spec's table of generations (section 3). */
const GENERATION: Record<string, string> = { '0.20.0': 'C', '0.50.0': 'D', '0.100.0': 'D' };

interface Made {
  key: string;
  id: string;
  relPath: string;
  prompts: string[];
  replies: string[];
  cwd: string;
}

const versions = readdirSync(RELEASES).filter((v) => /^\d+\.\d+\.\d+$/.test(v));

t.same(versions.sort(), Object.keys(GENERATION).sort(), 'a fixture folder for each old release, and the generation it writes');

for (const version of versions) {
  t.test(`Codex ${version}`, async (t) => {
    const manifest = JSON.parse(readFileSync(join(RELEASES, version, 'manifest.json'), 'utf8'));
    t.equal(manifest.codexVersion, version, 'the manifest names the release that wrote the files');
    const sessions: Made[] = manifest.sessions;
    const home = tmpDir(t);
    cpSync(join(RELEASES, version, 'sessions'), join(home, 'sessions'), { recursive: true });
    const env = { CODEX_HOME: home, ROLLOUT_INDEX: join(home, 'index.sqlite') };

    const ls = run('rollout-ls', ['--json'], { env });
    t.equal(ls.code, 0, ls.err);
    const rows = new Map(ndjson(ls.out).map((r) => [r.id, r]));
    t.same([...rows.keys()].sort(), sessions.map((s) => s.id).sort(), 'rollout-ls lists exactly the sessions it wrote');

    for (const s of sessions) {
      const row = rows.get(s.id);
      t.match(
        row,
        { generation: GENERATION[version], turns: s.prompts.length, title: s.prompts[0], cwd: GENERATION[version] === 'C' ? null : s.cwd, bad_lines: 0 },
        `${s.key}: listed with its generation, turns, title and folder`,
      );
      if (GENERATION[version] !== 'C') t.equal(row.cli_version, version, `${s.key}: the version that wrote it`);

      const bytes = readFileSync(join(RELEASES, version, s.relPath));
      const cat = run('rollout-cat', [s.id], { env });
      t.equal(cat.code, 0, cat.err);
      t.ok(cat.stdout.equals(bytes), `${s.key}: rollout-cat gives its bytes unchanged`);

      const exported = run('rollout-export', ['-f', 'json', s.id], { env });
      t.equal(exported.code, 0, exported.err);
      const items: any[] = JSON.parse(exported.out).items;
      const said = (role: string) => items.filter((i) => i.kind === 'message' && i.role === role && !i.context).map((i) => i.text);
      t.same(said('user'), s.prompts, `${s.key}: what the user said, turn by turn`);
      t.same(said('assistant'), s.replies, `${s.key}: what the model answered`);
      if (s.key === 'toolCall')
        t.match(
          items.find((i) => i.kind === 'tool_call'),
          { tool: 'shell', command: 'ls -1', output: /README\.md/ },
          `${s.key}: the tool call with its command and output`,
        );

      // The drift alarm on the old bytes: every record type they hold is one the spec documents.
      const unknown: string[] = [];
      for await (const batch of (await openSession(join(home, s.relPath))).batches)
        for (const line of batch) {
          const what = undocumented(peekType(line.bytes) ?? typeOf(line.bytes));
          if (what) unknown.push(`${what} (line ${line.no})`);
        }
      t.same(unknown, [], `${s.key}: every record type Codex ${version} wrote is documented`);
    }

    const fsck = run('rollout-fsck', [], { env });
    t.equal(fsck.code, 0, fsck.err);
    t.match(fsck.err, /no problems/, 'rollout-fsck finds nothing to repair');
  });
}
