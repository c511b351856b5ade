// Rewriting where sessions belong (--map-cwd, --provider): which values change, that every other
// byte stays, and that a fork's byte offsets into its parent follow the parent's rewrite.
import t from 'tap';
import { mapPath, parseCwdMap, retagChunks, RetagPlan, type BaseShift, type Retag } from '../../lib/core/retag.js';

const ID = '0199a213-81c0-7800-8aa1-bbab2a035a53';
const CHILD = '0199a213-81c0-7800-8aa1-bbab2a035a77';

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

/** The bytes in pieces of `size`, so that values and lines straddle chunks. */
async function* pieces(b: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

const asIs: BaseShift = (_, offset) => offset;

async function rewrite(text: string, retag: Retag, base = asIs, size = 7) {
  const r = retagChunks(pieces(Buffer.from(text), size), retag, base);
  const out = (await collect(r.chunks)).toString();
  return { out, shifts: r.shifts, refs: r.refs };
}

// A session in the shape Codex writes, with the places a directory and a provider appear.
const meta = (cwd: string, provider: string, extra = '') =>
  `{"timestamp":"2026-08-21T09:12:40.120Z","type":"session_meta","payload":{"id":"${ID}","timestamp":"2026-08-21T09:12:31.004Z","cwd":${JSON.stringify(cwd)},"runtime_workspace_roots":${JSON.stringify([cwd])},"originator":"codex_cli_rs","cli_version":"0.169.0","source":"cli","model_provider":${JSON.stringify(provider)},"base_instructions":{"text":"Never write \\"cwd\\":\\"/home/ana/src\\" yourself"}${extra}}}`;
const userSays = (text: string) =>
  `{"timestamp":"2026-08-21T09:12:40.121Z","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":${JSON.stringify(text)}}]}}`;
const turnContext = (cwd: string, roots: string[]) =>
  `{"timestamp":"2026-08-21T09:12:40.125Z","type":"turn_context","payload":{"turn_id":"t1","cwd":${JSON.stringify(cwd)},"workspace_roots":${JSON.stringify(roots)},"sandbox_policy":{"type":"workspace-write","cwd":"/elsewhere"},"model":"gpt-5.5"}}`;
const settings = (cwd: string, provider: string) =>
  `{"timestamp":"2026-08-21T09:12:40.126Z","type":"event_msg","payload":{"type":"thread_settings_applied","thread_settings":{"model":"gpt-5.5","model_provider_id":${JSON.stringify(provider)},"cwd":${JSON.stringify(cwd)},"runtime_workspace_roots":${JSON.stringify([cwd, '/tmp'])}}}}`;
const execEnd = (cwd: string) =>
  `{"timestamp":"2026-08-21T09:12:41.000Z","type":"event_msg","payload":{"type":"exec_command_end","call_id":"c1","cwd":${JSON.stringify(cwd)},"exit_code":0}}`;

const session = (cwd: string, provider: string) =>
  [
    meta(cwd, provider),
    userSays(`please look at ${'/home/ana/src'}/shop/README`),
    turnContext(`${cwd}`, [cwd, '/opt/tools']),
    settings(cwd, provider),
    // What ran where is history: it stays.
    execEnd('/home/ana/src/shop'),
  ].join('\n') + '\n';

const MOVE: Retag = { cwd: [['/home/ana/src', '/Users/ana/code']], provider: 'azure' };

t.test('--map-cwd: the longest OLD that holds the path wins, at whole path components', async (t) => {
  const maps: Array<[string, string]> = [
    ['/home/ana', '/Users/ana'],
    ['/home/ana/src', '/work'],
  ];
  t.equal(mapPath('/home/ana/src/shop', maps), '/work/shop');
  t.equal(mapPath('/home/ana/src', maps), '/work');
  t.equal(mapPath('/home/ana/notes', maps), '/Users/ana/notes');
  t.equal(mapPath('/home/anabel/src', maps), null, 'a prefix of a name does not hold it');
  t.equal(mapPath('/srv/x', maps), null);
  t.equal(mapPath('/srv/x', [['/', '/mnt/old']]), '/mnt/old/srv/x', 'the root holds everything');
  t.equal(mapPath('C:\\Users\\ana\\shop\\api', [['C:\\Users\\ana', '/home/ana']]), '/home/ana/shop/api', 'from Windows to POSIX separators');
  t.same(parseCwdMap('/a/b/=/c'), ['/a/b', '/c'], 'a trailing slash is the same directory');
  for (const bad of ['/a', '=/b', '/a=', 'a=/b', '/a=b']) t.throws(() => parseCwdMap(bad), /--map-cwd takes/, `'${bad}' is refused`);
});

t.test('only where a session belongs changes; every other byte stays', async (t) => {
  for (const size of [1, 7, 4096]) {
    const { out } = await rewrite(session('/home/ana/src/shop', 'openai'), MOVE, asIs, size);
    const want = [
      meta('/Users/ana/code/shop', 'azure'),
      userSays(`please look at ${'/home/ana/src'}/shop/README`),
      turnContext('/Users/ana/code/shop', ['/Users/ana/code/shop', '/opt/tools']),
      settings('/Users/ana/code/shop', 'azure'),
      execEnd('/home/ana/src/shop'),
    ];
    t.equal(out, want.join('\n') + '\n', `chunks of ${size} bytes`);
  }
  const untouched = session('/srv/other', 'azure');
  t.equal((await rewrite(untouched, MOVE)).out, untouched, 'a session elsewhere, already on that provider, is the same bytes');
});

t.test('a BOM, CRLF, blank lines and a torn last line come through as they were', async (t) => {
  const text = `\ufeff${meta('/home/ana/src', 'openai')}\r\n\n   \n${userSays('hi')}\n${turnContext('/home/ana/src/x', [])}`;
  const { out } = await rewrite(text, MOVE);
  t.equal(
    out,
    `\ufeff${meta('/Users/ana/code', 'azure')}\r\n\n   \n${userSays('hi')}\n${turnContext('/home/ana/src/x', [])}`,
    'the torn line is not rewritten',
  );
  const odd = '{"not":"an envelope","cwd":"/home/ana/src"}\nnot json at all\n';
  t.equal((await rewrite(odd, MOVE)).out, odd);
});

t.test("a fork's offsets into its parent follow the parent's rewrite, down the generations", async (t) => {
  const parentText = session('/home/ana/src/shop', 'openai') + userSays('second turn') + '\n';
  const cutAt = parentText.length - (userSays('second turn').length + 1); // before the parent's last line
  const childMeta = (cwd: string, off: number, provider = 'openai') =>
    meta(cwd, provider, `,"history_base":{"thread_id":"${ID}","end_ordinal_exclusive":5,"end_byte_offset":${off}}`);
  const childText = `${childMeta('/home/ana/src/shop', cutAt)}\n${userSays('forked')}\n`;

  const plan = new RetagPlan();
  for (const [id, text] of [
    [CHILD, childText],
    [ID, parentText],
  ] as const) {
    const r = await rewrite(text, MOVE);
    plan.add(id, r.shifts, r.refs);
  }
  const parent = (await rewrite(parentText, MOVE, plan.base)).out;
  const child = await rewrite(childText, MOVE, plan.base);
  const newCut = plan.shiftsOf(ID)!.apply(cutAt);
  t.equal(
    parent.slice(0, newCut),
    (await rewrite(parentText.slice(0, cutAt), MOVE)).out,
    'the new offset cuts the rewritten parent where the old one cut the original',
  );
  t.equal(child.out, `${childMeta('/Users/ana/code/shop', newCut, 'azure')}\n${userSays('forked')}\n`);

  // A grandchild reads the child: the child's head line grew by the rewrite and by the longer offset.
  const grandText = `${meta('/srv/g', 'x', `,"history_base":{"thread_id":"${CHILD}","end_ordinal_exclusive":7,"end_byte_offset":${childText.length}}`)}\n`;
  const g = await rewrite(grandText, MOVE);
  plan.add('0199a213-81c0-7800-8aa1-bbab2a035a99', g.shifts, g.refs);
  t.equal(plan.shiftsOf(CHILD)!.apply(childText.length), Buffer.byteLength(child.out), "the child's end is the rewritten child's end");

  const orphan = new RetagPlan();
  const c = await rewrite(childText, MOVE);
  orphan.add(CHILD, c.shifts, c.refs);
  t.equal(orphan.shiftsOf(CHILD), null, 'a fork whose parent is not in the set has no known rewrite');
  await t.rejects(collect(retagChunks(pieces(Buffer.from(childText), 9), MOVE, orphan.base).chunks), /how that rollout is rewritten is not known/);
});
