// A Codex home with a session of every generation, shaped for rollout-export's tests: rollbacks,
// a compaction, tool calls, a paginated fork that references its parent, and hostile text.
import { randomUUID } from 'node:crypto';
import Ajv2020 from 'ajv/dist/2020.js';
import { bareLines, sessionLines, writeRaw, writeSession, type Turn } from './fixtures.js';
import { bareMessage, bareSession } from './generations.js';

/** Text that would run script or inject markup if an HTML export failed to escape it. */
export const HOSTILE = `<script>document.title="pwned"</script><img src=x onerror="alert(1)"><b id="injected">bold</b> & "quotes" 'too'`;

export interface Zoo {
  home: string;
  /** Legacy (generation D): 3 turns said, the second rolled back, a compaction, tool calls, hostile text. */
  legacy: string;
  paginated: string;
  /** A paginated fork whose history_base is the paginated session's first turn. */
  fork: string;
  genA: string;
  genB: string;
  genC: string;
  gen0: string;
  /** Every session id. */
  all: string[];
}

const at = (iso: string) => new Date(iso);

function envLine(timestamp: string, type: string, payload: unknown): string {
  return JSON.stringify({ timestamp, type, payload });
}

export function buildZoo(home: string): Zoo {
  // Legacy: turns 1 and 2, a rollback of turn 2, a compaction, then turn 3 (numbered 2 after the rollback).
  const legacyStart = at('2026-03-02T09:00:00.000Z');
  const head = sessionLines({
    start: legacyStart,
    git: { branch: 'feature/cart', commit_hash: '4be1c0e9d2f7a6b3c8e1f0a9b7c6d5e4f3a2b1c0', repository_url: 'git@example.com:ana/shop.git' },
    turns: [
      {
        user: 'Why does the cart test fail?',
        tool: { cmd: 'npm test -- cart', output: 'FAIL src/cart.test.ts\nexpected 100, got 1' },
        assistant: 'Prices are in cents now.',
      },
      { user: 'Delete everything in src/', tool: { cmd: 'rm -rf src', output: '' }, assistant: 'Deleted.' },
    ],
  });
  const id = head.id;
  const tail = sessionLines({
    id,
    start: at('2026-03-02T09:10:00.000Z'),
    noContext: true,
    turns: [{ user: `Show me this: ${HOSTILE}`, tool: { cmd: 'cat notes.html', output: HOSTILE }, assistant: `Here it is: ${HOSTILE}` }],
  }).lines.slice(1);
  const legacyLines = [
    ...head.lines,
    envLine('2026-03-02T09:05:00.000Z', 'event_msg', { type: 'thread_rolled_back', num_turns: 1 }),
    envLine('2026-03-02T09:06:00.000Z', 'compacted', {
      message: 'Summary: the cart test expects cents.',
      replacement_history: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Why does the cart test fail?' }] }],
    }),
    envLine('2026-03-02T09:06:00.001Z', 'event_msg', { type: 'context_compacted' }),
    ...tail,
  ];
  writeRaw(home, `sessions/2026/03/02/rollout-2026-03-02T09-00-00-${id}.jsonl`, legacyLines.join('\n') + '\n');

  // Paginated, and a fork of it that references its first turn.
  const turns: Turn[] = [
    { user: 'List the files', tool: { cmd: 'ls -1', output: 'README.md\npackage.json' }, assistant: 'Two files.' },
    { user: 'Second paginated turn', assistant: 'Second answer.' },
  ];
  const parent = writeSession(home, { start: at('2026-11-20T08:00:00.000Z'), history: 'paginated', turns });
  // The fork keeps the parent's first turn: its history ends where the second turn starts.
  const cut = parent.lines.map((l, i) => (l.includes('"type":"task_started"') ? i : -1)).filter((i) => i >= 0)[1];
  const endByte = Buffer.byteLength(
    parent.lines
      .slice(0, cut)
      .map((l) => l + '\n')
      .join(''),
  );
  const fork = writeSession(home, {
    start: at('2026-11-21T08:00:00.000Z'),
    history: 'paginated',
    noContext: true,
    firstOrdinal: cut,
    meta: { forked_from_id: parent.id, history_base: { thread_id: parent.id, end_ordinal_exclusive: cut, end_byte_offset: endByte } },
    turns: [{ user: 'A turn of the fork', assistant: 'Fork answer.' }],
  });

  // The bare 2025 generations.
  const genA = randomUUID();
  writeRaw(home, `sessions/rollout-2025-05-08-${genA}.jsonl`, bareLines('A', genA, ['Hello from generation A', 'Answer A']).join('\n') + '\n');
  const genB = randomUUID();
  const bLines = bareLines('B', genB, ['Hello from generation B', 'Answer B']);
  bLines.push(
    JSON.stringify({
      type: 'function_call',
      id: 'fc_1',
      name: 'shell',
      arguments: JSON.stringify({ command: ['bash', '-lc', 'git status'], workdir: '/home/ana/b' }),
      call_id: 'call_b1',
    }),
    JSON.stringify({
      type: 'function_call_output',
      call_id: 'call_b1',
      output: JSON.stringify({ output: 'On branch main\n', metadata: { exit_code: 0, duration_seconds: 0.25 } }),
    }),
  );
  writeRaw(home, `sessions/rollout-2025-06-01T10-00-00-${genB}.jsonl`, bLines.join('\n') + '\n');
  const genC = randomUUID();
  writeRaw(
    home,
    `sessions/2025/08/01/rollout-2025-08-01T10-00-00-${genC}.jsonl`,
    bareLines('C', genC, ['Hello from generation C', 'Answer C']).join('\n') + '\n',
  );
  const gen0 = randomUUID();
  const meta = { timestamp: '2025-04-20T10:00:00.000Z', id: gen0, instructions: '' };
  writeRaw(
    home,
    `sessions/rollout-2025-04-20-${gen0}.json`,
    bareSession('0', meta, [bareMessage('user', 'Hello from generation 0'), bareMessage('assistant', 'Answer 0')]),
  );

  return { home, legacy: id, paginated: parent.id, fork: fork.id, genA, genB, genC, gen0, all: [id, parent.id, fork.id, genA, genB, genC, gen0] };
}

/** Validators for the export schemas, compiled from what `--schema` prints. */
export function validators(documentSchema: object, lineSchema: object) {
  const ajv = new Ajv2020.default({ allErrors: true, strict: true });
  return { document: ajv.compile(documentSchema), line: ajv.compile(lineSchema), errors: (v: { errors?: unknown }) => ajv.errorsText(v.errors as never) };
}
