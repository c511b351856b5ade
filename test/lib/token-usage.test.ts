// The usage ledger, line by line: which records count, which are repeats, which are a parent's,
// and what a file carries from one read to the next.
import t from 'tap';
import { decodeUsage, encodeUsage, LONG_CONTEXT, tokensOf, UsageLedger, type UsageCarry } from '../../lib/core/token-usage.js';

const usage = (input: number, output: number, cached = 0) => ({
  input_tokens: input,
  cached_input_tokens: cached,
  output_tokens: output,
  reasoning_output_tokens: 0,
  total_tokens: input + output,
});
/** A token_count event's `info`, as the bytes the reader hands the ledger. */
const event = (total: object | null, last: object | null) =>
  Buffer.from(JSON.stringify({ total_token_usage: total, last_token_usage: last, model_context_window: 258400 }));
const at = (ms: number, model = 'gpt-5.5', tier: string | null = null) => ({ at: ms, model, tier });

t.test('tokensOf: whole counts, missing ones as zero, a total made up when absent, anything else refused', async (t) => {
  t.same(tokensOf({ input_tokens: 5, output_tokens: 2 }), { input: 5, cached_input: 0, cache_write_input: 0, output: 2, reasoning_output: 0, total: 7 });
  t.equal(tokensOf({ input_tokens: -1, output_tokens: 2 }), null);
  t.equal(tokensOf({ input_tokens: 1.5 }), null);
  t.equal(tokensOf({ input_tokens: '5' }), null);
  t.equal(tokensOf(null), null);
});

t.test('token_count: last usage counted, repeats once, info null nothing, a missing last usage by the growth of the sum', async (t) => {
  const carry: UsageCarry = {};
  const l = new UsageLedger(null, carry);
  l.event(event(usage(100, 10), usage(100, 10)), at(0), false);
  l.event(event(usage(100, 10), usage(100, 10)), at(1000), false);
  l.event(Buffer.from('null'), at(2000), false);
  l.event(event(usage(300, 30), usage(200, 20)), at(3000), false);
  l.event(event(usage(700, 70), null), at(4000), false);
  const u = l.finish()!;
  t.equal(u.responses, 3);
  t.match(u.buckets, [{ at: 0, model: 'gpt-5.5', input: 700, output: 70, responses: 3 }]);
});

t.test('an event whose running sum did not move is no response, whatever its last usage says', async (t) => {
  // Codex 0.151 after a compaction: the sum as it was, and the new history's size as the last usage.
  const carry: UsageCarry = {};
  const l = new UsageLedger(null, carry);
  l.event(event(usage(1000, 10), usage(1000, 10)), at(0), false);
  l.event(event(usage(1000, 10), usage(5500, 47)), at(1000), false);
  t.equal(l.finish()!.responses, 1);
  // And across reads: the sum carried is the one compared.
  const next = new UsageLedger(null, carry);
  next.event(event(usage(1000, 10), usage(6000, 1)), at(2000), false);
  next.event(event(usage(2100, 20), usage(1100, 10)), at(3000), false);
  t.equal(next.finish()!.responses, 1, 'only the response that moved the sum');
});

t.test('copied lines count nothing but move the repeat check and the running sum on', async (t) => {
  const l = new UsageLedger(null, {});
  l.event(event(usage(100, 10), usage(100, 10)), at(0), true);
  l.event(event(usage(100, 10), usage(100, 10)), at(0), false); // the fork repeats its parent's last event
  l.event(event(usage(150, 15), null), at(0), false); // grew by 50 + 5 since the copy
  t.match(l.finish()!, { responses: 1, buckets: [{ input: 50, output: 5 }] });
  const restarted = new UsageLedger(null, {});
  restarted.event(event(usage(900, 90), usage(900, 90)), at(0), true);
  restarted.event(event(usage(40, 4), null), at(0), false);
  t.match(restarted.finish()!, { responses: 1, buckets: [{ input: 40, output: 4 }] }, 'a sum that went down started again');
});

t.test('token_usage_record: each response id once; from the first one on, token_count events are not counted', async (t) => {
  const carry: UsageCarry = {};
  const l = new UsageLedger(null, carry);
  l.event(event(usage(10, 1), usage(10, 1)), at(0), false); // written by an older Codex, before any record
  l.record({ response_id: 'a', usage: usage(20, 2) }, at(0), false);
  l.event(event(usage(30, 3), usage(20, 2)), at(0), false);
  l.record({ response_id: 'a', usage: usage(20, 2) }, at(0), false);
  l.record({ response_id: 'b', usage: usage(40, 4) }, at(0), true);
  l.record({ response_id: 'c', usage: usage(LONG_CONTEXT + 1, 5) }, at(0), false);
  const u = l.finish()!;
  t.equal(u.responses, 3);
  t.match(
    u.buckets.map((b) => [b.long, b.input, b.responses]),
    [
      [false, 30, 2],
      [true, LONG_CONTEXT + 1, 1],
    ],
  );
  t.ok(carry.perResponse);
});

t.test('buckets: 15-minute slots by model and tier; what is stored is read back, and carried on', async (t) => {
  const carry: UsageCarry = {};
  const l = new UsageLedger(null, carry);
  l.record({ response_id: 'a', usage: usage(1, 1) }, at(14 * 60_000), false);
  l.record({ response_id: 'b', usage: usage(2, 2) }, at(15 * 60_000), false);
  l.record({ response_id: 'c', usage: usage(4, 4) }, at(16 * 60_000, 'gpt-5.4', 'fast'), false);
  const text = encodeUsage(l.finish());
  const back = decodeUsage(text)!;
  t.same(back, l.finish());
  t.same(
    back.buckets.map((b) => [b.at / 60_000, b.model, b.tier]),
    [
      [0, 'gpt-5.5', null],
      [15, 'gpt-5.4', 'fast'],
      [15, 'gpt-5.5', null],
    ],
  );
  // The next read of the grown file starts from what is stored and what is carried.
  const next = new UsageLedger(back, JSON.parse(JSON.stringify(carry)) as UsageCarry);
  next.record({ response_id: 'c', usage: usage(4, 4) }, at(16 * 60_000, 'gpt-5.4', 'fast'), false);
  next.record({ response_id: 'd', usage: usage(8, 8) }, at(16 * 60_000), false);
  t.equal(next.finish()!.responses, 4, 'the repeat of c across reads once');
  t.equal(encodeUsage(new UsageLedger(null, {}).finish()), null, 'no response counted: nothing stored (unknown)');
});

t.test('token_count across reads: a repeat of the last event of the previous read, and the sum it had', async (t) => {
  const carry: UsageCarry = {};
  const first = new UsageLedger(null, carry);
  first.event(event(usage(100, 10), usage(100, 10)), at(0), false);
  const stored = first.finish();
  const kept = JSON.parse(JSON.stringify(carry)) as UsageCarry;
  const next = new UsageLedger(stored, kept);
  next.event(event(usage(100, 10), usage(100, 10)), at(1000), false); // Codex repeats it on resume
  next.event(event(usage(160, 16), null), at(2000), false); // grew by 60 + 6 since the last read's sum
  t.match(next.finish(), { responses: 2, buckets: [{ input: 160, output: 16, responses: 2 }] });
});

t.test('a usage column in a form this rollout does not read is an error that says what to do', async (t) => {
  t.throws(() => decodeUsage('{"n":1,"b":[[1795311900000,"gpt-5.5",null,0,1,10,0,0,1,0,11]]}'), /run 'rollout-index --rebuild'/);
});
