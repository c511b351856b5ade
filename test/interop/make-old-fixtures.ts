// Regenerates test/fixtures/releases/<version>/ with sessions written by an old Codex release,
// one version per run (the interop helpers read CODEX_VERSION once):
//   for v in 0.20.0 0.50.0 0.100.0; do CODEX_VERSION=$v TS_NODE_TRANSPILE_ONLY=1 \
//     node --import=@isaacs/ts-node-temp-fork-for-pr-2009/import test/interop/make-old-fixtures.ts --write; done
// Without --write it does nothing: tap runs every file under test/, and the committed fixtures
// must not change behind anyone's back.
//
// These releases cannot run the whole interop suite (docs/compatibility.md says why), but each
// runs `codex exec` offline against the mock, and that is all a fixture needs: the bytes of its
// generation as that release wrote them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODEX_VERSION, makeHome, runCodexOk } from './codex.js';
import { startMock, type Reply } from './mock-responses.js';

if (!process.argv.includes('--write')) process.exit(0);

const outDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/releases', CODEX_VERSION);
// A fixed, obviously synthetic place, so the absolute paths inside the files are stable between regenerations.
const genRoot = path.join(os.tmpdir(), 'rollout-release-fixtures');

interface Made {
  key: string;
  id: string;
  relPath: string;
  prompts: string[];
  replies: string[];
  cwd: string;
}

/** `codex exec resume` is in 0.50.0 and later; 0.20.0 (mid-2025) resumed from a file named in the config. */
const hasExecResume = (v: string) => {
  const [major = 0, minor = 0] = v.split('.').map(Number);
  return major > 0 || minor >= 50;
};

async function main() {
  fs.rmSync(genRoot, { recursive: true, force: true });
  const home = path.join(genRoot, 'home');
  const work = path.join(genRoot, 'work');
  fs.mkdirSync(work, { recursive: true });
  fs.writeFileSync(path.join(work, 'README.md'), '# A folder for the fixtures\n');
  const mock = await startMock({ log: () => {} });
  makeHome(home, mock.url);
  const made: Made[] = [];
  try {
    const exec = async (args: string[], replies: Reply[]) => {
      const before = new Set(rollouts(home));
      mock.enqueue(...replies);
      await runCodexOk(home, ['exec', '--skip-git-repo-check', ...args], { cwd: work, timeoutMs: 120_000 });
      return rollouts(home).filter((f) => !before.has(f));
    };
    const theNew = (files: string[]) => {
      if (files.length !== 1) throw new Error(`codex ${CODEX_VERSION} wrote ${files.length} new session files, not one`);
      return files[0];
    };
    // A plain turn, then a second one on the same session: by `codex exec resume <id>`, or, before
    // that existed, by the experimental_resume setting naming the file.
    const hello = theNew(await exec(['Say hello in one line.'], [{ text: 'Hello from the mock.' }]));
    const id = idOf(hello);
    const resume = hasExecResume(CODEX_VERSION) ? ['resume', id] : ['-c', `experimental_resume="${hello}"`];
    const more = await exec([...resume, 'And once more, shorter?'], [{ text: 'Hello.' }]);
    if (more.length) throw new Error(`codex ${CODEX_VERSION} resumed into a new file: ${more.join(', ')}`);
    made.push({
      key: 'twoTurns',
      id,
      relPath: path.relative(home, hello),
      prompts: ['Say hello in one line.', 'And once more, shorter?'],
      replies: ['Hello from the mock.', 'Hello.'],
      cwd: work,
    });
    // A turn with a tool call, under the name these releases gave their shell tool.
    const call = {
      type: 'function_call',
      id: 'fc_mock_tool',
      status: 'completed',
      name: 'shell',
      arguments: JSON.stringify({ command: ['ls', '-1'] }),
      call_id: 'call_mock_tool',
    };
    const tool = theNew(await exec(['Which files are in this folder?'], [{ items: [call] }, { text: 'There is one file: README.md.' }]));
    made.push({
      key: 'toolCall',
      id: idOf(tool),
      relPath: path.relative(home, tool),
      prompts: ['Which files are in this folder?'],
      replies: ['There is one file: README.md.'],
      cwd: work,
    });
  } finally {
    await mock.close();
  }
  fs.rmSync(outDir, { recursive: true, force: true });
  for (const m of made) {
    const to = path.join(outDir, m.relPath);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(path.join(home, m.relPath), to);
  }
  fs.writeFileSync(
    path.join(outDir, 'manifest.json'),
    JSON.stringify({ codexVersion: CODEX_VERSION, generatedAt: new Date().toISOString(), generatedHome: home, sessions: made }, null, 2) + '\n',
  );
  console.log(`wrote ${outDir}`);
}

function rollouts(home: string): string[] {
  const root = path.join(home, 'sessions');
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => /rollout-.*\.jsonl$/.test(f)).map((f) => path.join(root, f));
}

const idOf = (file: string) => /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/.exec(file)![1];

await main();
