// The house keeps its plan (HACKING.md, "Layers"): each folder of lib/ imports only from the folders
// below it, a binary's own folder never from another binary's, a cmd/ file only from lib/, and no
// two modules import each other, however far round. Read from the sources' own import lines.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import t from 'tap';
import { REPO } from './helpers/fixtures.js';

/** The layers, lowest first: a layer may import its own folder and those before it. */
const LAYERS = ['cli', 'core', 'items', 'home', 'fs', 'codex', 'index', 'select'];
/** Folders of one binary's own work: they may import any layer, and nothing of each other. */
const BINARIES = ['cat', 'fork', 'prune', 'fsck', 'name', 'export', 'bundle', 'slim', 'du', 'usage', 'feed'];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(REPO, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The files of ours `file` imports (types included: a type is a dependency too). */
function imports(file: string): string[] {
  const text = readFileSync(join(REPO, file), 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.\.?\/[^']+)'/g)].map((m) => m[1]);
  return specs.map((s) => normalize(join(dirname(file), s)).replace(/\.js$/, '.ts'));
}

const folderOf = (file: string) => file.split('/')[1];

const files = [...sources('lib'), ...sources('cmd')];
const graph = new Map(files.map((f) => [f, imports(f)]));

t.test('every lib/ file lies in a known folder', async (t) => {
  for (const f of files.filter((f) => f.startsWith('lib/'))) {
    t.ok(f.split('/').length === 3 && [...LAYERS, ...BINARIES].includes(folderOf(f)), `${f} is in a layer or a binary's folder`);
  }
});

t.test('imports point down the layers; binaries never import each other', async (t) => {
  for (const [file, deps] of graph) {
    for (const dep of deps) {
      if (file.startsWith('cmd/')) {
        t.ok(dep.startsWith('lib/'), `${file} -> ${dep}: a command imports lib/ only`);
        continue;
      }
      t.ok(dep.startsWith('lib/'), `${file} -> ${dep}: lib/ never imports cmd/`);
      const from = folderOf(file);
      const to = folderOf(dep);
      if (from === to) continue;
      if (LAYERS.includes(from))
        t.ok(LAYERS.includes(to) && LAYERS.indexOf(to) < LAYERS.indexOf(from), `${file} -> ${dep}: ${from} imports only layers below it`);
      else t.ok(LAYERS.includes(to), `${file} -> ${dep}: the ${from} binary's work imports layers, not another binary's folder`);
    }
  }
});

t.test('no import cycles', async (t) => {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') return void cycles.push([...path.slice(path.indexOf(f)), f].join(' -> '));
    state.set(f, 'open');
    for (const d of graph.get(f) ?? []) visit(d, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of graph.keys()) visit(f, []);
  t.same(cycles, [], 'none');
});

t.test('a command file is thin: flags in, one call, output out', async (t) => {
  for (const f of files.filter((f) => f.startsWith('cmd/'))) {
    const lines = readFileSync(join(REPO, f), 'utf8').split('\n').length;
    t.ok(lines <= 100, `${relative('cmd', f)}: ${lines} lines`);
  }
});
