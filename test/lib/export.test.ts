// The export model's pieces: reading tool calls and outputs of every shape Codex has written, the
// first pass's turn plan (rollbacks, task boundaries, forks), turn ranges, and the format helpers.
import t from 'tap';
import { csvField } from '../../lib/export/data.js';
import { escapeHtml } from '../../lib/export/html.js';
import { fence } from '../../lib/export/markdown.js';
import { commandLine, contentText, describeCall, durationMs, pathOfUrl, readOutput } from '../../lib/items/model.js';
import { planSession } from '../../lib/export/plan.js';
import { parseLean, parseStringHead, stringUnits } from '../../lib/items/lean.js';
import { sessionLines, tmpDir, writeRaw } from '../helpers/fixtures.js';

t.test('commands: argv through a shell is its script; other argv is quoted', async (t) => {
  t.equal(commandLine(['bash', '-lc', 'ls -la | head']), 'ls -la | head');
  t.equal(commandLine(['/bin/sh', '-c', 'echo hi']), 'echo hi');
  t.equal(commandLine(['git', 'commit', '-m', "it's done"]), `git commit -m 'it'\\''s done'`);
  t.equal(commandLine('npm test'), 'npm test');
  t.equal(commandLine([1, 2]), null);
});

t.test('calls of every shape', async (t) => {
  t.match(describeCall({ type: 'function_call', name: 'exec_command', arguments: '{"cmd":"ls","workdir":"/w"}', call_id: 'c1' }), {
    call_id: 'c1',
    tool: 'exec_command',
    command: 'ls',
    cwd: '/w',
  });
  t.match(describeCall({ type: 'function_call', name: 'shell', arguments: '{"command":["bash","-lc","make"]}', call_id: 'c2' }), {
    tool: 'shell',
    command: 'make',
    cwd: null,
  });
  t.match(describeCall({ type: 'function_call', name: 'lookup', namespace: 'mcp__docs', arguments: '{"q":1}', call_id: 'c3' }), {
    tool: 'mcp__docs.lookup',
    command: null,
    input: '{"q":1}',
  });
  t.match(describeCall({ type: 'function_call', name: 'exec_command', arguments: '{not json', call_id: 'c4' }), { command: null, input: '{not json' });
  t.match(describeCall({ type: 'local_shell_call', call_id: 'c5', action: { type: 'exec', command: ['ls'], working_directory: '/x' } }), {
    tool: 'local_shell',
    command: 'ls',
    cwd: '/x',
  });
  t.match(describeCall({ type: 'custom_tool_call', call_id: 'c6', name: 'apply_patch', input: '*** Begin Patch' }), {
    tool: 'apply_patch',
    input: '*** Begin Patch',
  });
  t.match(describeCall({ type: 'web_search_call', action: { type: 'search', query: 'zstd frames' } }), {
    tool: 'web_search',
    input: 'zstd frames',
    call_id: null,
  });
  t.equal(describeCall({ type: 'message', role: 'user' }), null);
});

t.test('outputs: the 0.169 header, the 2025 JSON wrapper, content arrays', async (t) => {
  t.same(readOutput({ output: 'Chunk ID: 1\nWall time: 0.0283 seconds\nProcess exited with code 2\nOutput:\nboom' }), {
    text: 'Chunk ID: 1\nWall time: 0.0283 seconds\nProcess exited with code 2\nOutput:\nboom',
    exit_code: 2,
    duration_ms: 28,
  });
  t.same(readOutput({ output: JSON.stringify({ output: 'ok\n', metadata: { exit_code: 0, duration_seconds: 1.5 } }) }), {
    text: 'ok\n',
    exit_code: 0,
    duration_ms: 1500,
  });
  t.same(
    readOutput({
      output: [
        { type: 'input_text', text: 'see' },
        { type: 'input_image', image_url: 'data:image/png;base64,AAAA' },
      ],
    }),
    { text: 'see\n[Image]', exit_code: null, duration_ms: null },
  );
  t.equal(readOutput({ output: 'exit code 3 mentioned later\nProcess exited with code 3 is not a header' }).exit_code, null);
  t.equal(durationMs({ secs: 1, nanos: 500_000_000 }), 1500);
  t.equal(durationMs(12), 12);
  t.equal(durationMs('x'), null);
  t.equal(pathOfUrl('file:///home/ana/my%20dir'), '/home/ana/my dir');
  t.equal(pathOfUrl('/plain'), '/plain');
});

t.test('content: images are placeholders, never base64', async (t) => {
  const c = contentText([
    { type: 'input_text', text: 'look' },
    { type: 'input_image', image_url: 'data:image/png;base64,' + 'A'.repeat(10000) },
  ]);
  t.same(c, { text: 'look\n[Image]', images: 1 });
});

t.test('the plan: turns start at task_started; rollbacks drop whole turns', async (t) => {
  const dir = tmpDir(t);
  const s = sessionLines({ turns: [{ user: 'one' }, { user: 'two' }, { user: 'three' }] });
  const roll = (n: number) =>
    JSON.stringify({ timestamp: '2026-08-20T15:00:00.000Z', type: 'event_msg', payload: { type: 'thread_rolled_back', num_turns: n } });
  const more = sessionLines({ id: s.id, noContext: true, turns: [{ user: 'four' }] }).lines.slice(1);
  const lines = [...s.lines, roll(2), ...more, roll(1)];
  const path = writeRaw(dir, 'r.jsonl', lines.join('\n') + '\n');
  const plan = await planSession({ sources: [{ path, label: path }], meta: JSON.parse(s.lines[0]).payload, generation: 'D', label: path, name: null });
  t.equal(plan.turns.length, 1, 'turns two and three, then four, rolled back');
  t.equal(plan.facts.turns, 1);
  t.equal(plan.facts.rolled_back_turns, 3);
  t.equal(plan.turns.get(0).start, 1, 'turn one starts at its task_started, before its context messages');
  t.equal(plan.turns.get(0).status, 'completed');
  const secondStart = lines.findIndex((l, i) => i > 1 && l.includes('"task_started"'));
  t.same(plan.dropped, [[secondStart, lines.length]], 'one merged range from turn two to the last rollback');
  t.equal(plan.facts.title, 'one');
});

t.test('the plan: a fork is titled by its own turns; a name goes beside the title', async (t) => {
  const dir = tmpDir(t);
  const parent = sessionLines({ history: 'paginated', turns: [{ user: 'parent turn' }] });
  const child = sessionLines({ history: 'paginated', noContext: true, turns: [{ user: 'child turn' }] });
  const p = writeRaw(dir, 'p.jsonl', parent.lines.join('\n') + '\n');
  const c = writeRaw(dir, 'c.jsonl', child.lines.join('\n') + '\n');
  const sources = [
    { path: p, label: p },
    { path: c, label: c },
  ];
  const meta = JSON.parse(child.lines[0]).payload;
  const plan = await planSession({ sources, meta, generation: 'E', label: c, name: null });
  t.same([plan.turns.get(0).inherited, plan.turns.get(1).inherited], [true, false]);
  t.equal(plan.facts.title, 'child turn');
  t.equal(plan.facts.inherited_turns, 1);
  const named = (await planSession({ sources, meta, generation: 'E', label: c, name: 'my name' })).facts;
  t.same([named.title, named.name], ['child turn', 'my name']);
});

t.test('format helpers', async (t) => {
  t.equal(fence('a ``` b'), '````\na ``` b\n````\n', 'a fence longer than any backtick run inside');
  t.equal(fence('x', 'sh'), '```sh\nx\n```\n');
  t.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  t.equal(csvField('plain'), 'plain');
  t.equal(csvField('a,b'), '"a,b"');
  t.equal(csvField('say "hi"'), '"say ""hi"""');
  t.equal(csvField('two\nlines'), '"two\nlines"');
  t.equal(csvField(null), '');
  t.equal(csvField(0), '0');
});

t.test('lean parsing: a cut output reads as the full parse would, cut', async (t) => {
  // Text dense in what a byte-level cut can get wrong: escapes, 2-4 byte characters, surrogate pairs.
  const alphabet = ['a', 'b', ' ', '\n', '"', '\\', '\t', 'é', '✓', '😀', '\u0001', '/', '\u2028'];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  for (let n = 0; n < 200; n++) {
    let text = '';
    const length = 50 + (next() % 3000);
    for (let i = 0; i < length; i++) text += alphabet[next() % alphabet.length];
    const line = Buffer.from(
      JSON.stringify({ timestamp: '2026-08-20T14:03:07.391Z', type: 'response_item', payload: { type: 'function_call_output', call_id: 'c1', output: text } }),
    );
    const keep = 1 + (next() % 200);
    const cut = parseStringHead(line, 'output', keep);
    if (cut === null) continue;
    t.equal(cut.length, text.length, `the length counted from the bytes (case ${n})`);
    t.equal(cut.head.slice(0, keep), text.slice(0, keep), `the head decoded (case ${n})`);
    t.same(cut.env, { timestamp: '2026-08-20T14:03:07.391Z', type: 'response_item', payload: { type: 'function_call_output', call_id: 'c1', output: '' } });
  }
  const text = 'x'.repeat(5000);
  const at = (payload: unknown) => Buffer.from(JSON.stringify({ timestamp: 't', type: 'response_item', payload }));
  t.ok(parseStringHead(at({ type: 'function_call_output', call_id: 'c', output: text }), 'output', 100), 'a long output is cut');
  t.equal(parseStringHead(at({ type: 'function_call_output', call_id: 'c', output: 'short' }), 'output', 100), null, 'a short one is parsed whole');
  t.equal(
    parseStringHead(at({ type: 'function_call_output', meta: { output: text }, output: text }), 'output', 100),
    null,
    'a nested member of that name: parsed whole',
  );
  t.equal(stringUnits(Buffer.from('"a\\"b\\u00e9😀"'), 1, 15), 6);
});

t.test('lean parsing: images are left out, everything else kept', async (t) => {
  const image = 'data:image/png;base64,' + 'QUJD'.repeat(5000);
  const line = Buffer.from(
    JSON.stringify({
      timestamp: 't',
      type: 'response_item',
      payload: {
        type: 'message',
        role: 'user',
        content: [
          { type: 'input_text', text: 'look: "image_url":"data:x' },
          { type: 'input_image', image_url: image },
        ],
      },
    }),
  );
  const parsed = parseLean(line);
  t.equal(parsed.payload.content[1].image_url, undefined, 'the base64 is gone');
  t.same(contentText(parsed.payload.content), contentText(JSON.parse(line.toString()).payload.content), 'the text and the image count are the same');
  t.equal(parsed.payload.content[0].text, 'look: "image_url":"data:x', 'text that looks like the member is left alone');
  const task = Buffer.from(
    JSON.stringify({
      timestamp: 't',
      type: 'event_msg',
      payload: { type: 'task_complete', turn_id: 'u', last_agent_message: 'y'.repeat(1000), duration_ms: 5 },
    }),
  );
  t.same(parseLean(task, ['last_agent_message']).payload, { type: 'task_complete', turn_id: 'u', duration_ms: 5 });
});
