// Regenerates test/fixtures/real/ from a fresh real home:
//   TS_NODE_TRANSPILE_ONLY=1 node --import=@isaacs/ts-node-temp-fork-for-pr-2009/import \
//     test/interop/make-fixtures.ts --write
// Without --write it does nothing: tap runs every file under test/, and the
// committed fixtures must not change behind anyone's back.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ALL_SOURCE_KINDS, appServer, CODEX_VERSION } from './codex.js';
import { buildRealHome, type SessionInfo, type SessionKey } from './real-home.js';

const FIXTURE_KEYS: SessionKey[] = ['oneTurn', 'toolTwoTurns', 'fork', 'archived', 'compressed'];
const outDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/real');
// A fixed, obviously synthetic place, so the absolute paths inside the files are stable between regenerations.
const genRoot = path.join(os.tmpdir(), 'rollout-real-fixtures');

async function main() {
  fs.rmSync(genRoot, { recursive: true, force: true });
  const manifest = await buildRealHome(path.join(genRoot, 'build'));
  const picked = FIXTURE_KEYS.map((k) => manifest.sessions[k]);
  const fixtureHome = path.join(genRoot, 'home');
  copySessions(manifest.home, fixtureHome, picked);
  fs.copyFileSync(path.join(manifest.home, 'session_index.jsonl'), path.join(fixtureHome, 'session_index.jsonl'));
  await indexWithCodex(fixtureHome, manifest.cwds.plain);

  for (const entry of safeList(outDir)) {
    if (entry !== 'README.md') fs.rmSync(path.join(outDir, entry), { recursive: true, force: true });
  }
  copySessions(fixtureHome, outDir, picked);
  fs.copyFileSync(path.join(fixtureHome, 'session_index.jsonl'), path.join(outDir, 'session_index.jsonl'));
  fs.writeFileSync(path.join(outDir, 'state_5.schema.sql'), schemaSql(fixtureHome));
  fs.writeFileSync(
    path.join(outDir, 'manifest.json'),
    JSON.stringify(
      {
        codexVersion: CODEX_VERSION,
        generatedAt: manifest.builtAt,
        generatedHome: fixtureHome,
        cwds: manifest.cwds,
        git: manifest.git,
        sessions: Object.fromEntries(picked.map((s) => [s.key, { ...s, path: undefined }])),
        liveThreadRows: threadRows(manifest.home, picked),
        backfilledThreadRows: threadRows(fixtureHome, picked),
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`wrote ${outDir} (${du(outDir)} bytes); now update its README.md`);
}

// Keeps the relative layout and the mtimes (Codex's compressor only took the .zst because it was old).
function copySessions(fromHome: string, toHome: string, sessions: SessionInfo[]) {
  for (const s of sessions) {
    const from = path.join(fromHome, s.relPath);
    const to = path.join(toHome, s.relPath);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
    const st = fs.statSync(from);
    fs.utimesSync(to, st.atime, st.mtime);
  }
}

// Codex builds state_5.sqlite itself (backfill from the files) when an app-server lists threads.
async function indexWithCodex(home: string, cwd: string) {
  fs.writeFileSync(
    path.join(home, 'config.toml'),
    'model_provider = "mock"\n[model_providers.mock]\nname = "mock"\nbase_url = "http://127.0.0.1:9/v1"\nwire_api = "responses"\nenv_key = "ROLLOUT_MOCK_API_KEY"\n',
  );
  const server = await appServer(home, { cwd });
  try {
    for (const archived of [false, true]) {
      await server.request('thread/list', { sourceKinds: ALL_SOURCE_KINDS, modelProviders: [], archived, limit: 100 });
    }
  } finally {
    await server.close();
  }
}

// The rows Codex wrote while the sessions ran differ from what its backfill
// rebuilds from the files alone (names, fork previews, .zst paths), so keep both.
function threadRows(home: string, sessions: SessionInfo[]) {
  return withStateDb(home, (db) => {
    const get = db.prepare('SELECT * FROM threads WHERE id = ?');
    return Object.fromEntries(sessions.map((s) => [s.key, get.get(s.id)]));
  });
}

// The DB file itself is ~270 KB of mostly empty schema pages; its DDL says the same in a few KB.
function schemaSql(home: string): string {
  return withStateDb(home, (db) => {
    const rows = db
      .prepare(
        `SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
      ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, name`,
      )
      .all() as { sql: string }[];
    const migrations = db.prepare('SELECT version, description FROM _sqlx_migrations ORDER BY version').all() as { version: number; description: string }[];
    return [
      `-- state_5.sqlite schema as created by Codex CLI ${CODEX_VERSION} (sqlx migrations applied:`,
      ...migrations.map((m) => `--   ${String(m.version).padStart(4, '0')} ${m.description}`),
      '-- )',
      '',
      ...rows.map((r) => r.sql + ';\n'),
    ].join('\n');
  });
}

function withStateDb<T>(home: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path.join(home, 'state_5.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function safeList(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

function du(dir: string): number {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .reduce((n, e) => n + fs.statSync(path.join(e.parentPath ?? e.path, e.name)).size, 0);
}

if (process.argv.includes('--write')) await main();
