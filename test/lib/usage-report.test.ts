// Grouping and pricing of usage, with no home: calendar days and ISO weeks in a zone, and the
// price table's rules (names, tiers, missing cache prices, long context).
import t from 'tap';
import { noTokens, type Tokens } from '../../lib/core/token-usage.js';
import { Pricing } from '../../lib/usage/prices.js';
import { Calendar, parseBy } from '../../lib/usage/report.js';

t.test('days and ISO weeks in a zone, across the turn of a year', async (t) => {
  const utc = new Calendar('UTC');
  const at = (s: string) => Date.parse(s);
  t.equal(utc.week(at('2026-12-31T12:00:00Z')), '2026-W53', '2026 has 53 weeks (it starts on a Thursday)');
  t.equal(utc.week(at('2027-01-03T12:00:00Z')), '2026-W53', 'Sunday Jan 3 2027 is still in it');
  t.equal(utc.week(at('2027-01-04T00:00:00Z')), '2027-W01');
  t.equal(utc.week(at('2025-12-29T00:00:00Z')), '2026-W01', 'Monday Dec 29 2025 opens 2026-W01');
  t.equal(utc.week(at('2021-01-03T00:00:00Z')), '2020-W53');
  const tokyo = new Calendar('Asia/Tokyo');
  t.equal(tokyo.day(at('2026-12-31T15:00:00Z')), '2027-01-01');
  t.equal(tokyo.month(at('2026-12-31T15:00:00Z')), '2027-01');
  t.equal(new Calendar('America/St_Johns').day(at('2026-07-01T02:15:00Z')), '2026-06-30', 'UTC-2:30 in summer');
});

t.test('--by: several groupings in their order, each once, one calendar unit', async (t) => {
  t.same(parseBy(undefined), ['day']);
  t.same(parseBy('model,day'), ['model', 'day']);
  t.throws(() => parseBy('day,month'), /one of day, week and month/);
  t.throws(() => parseBy('session,session'), /twice/);
  t.throws(() => parseBy('hour'), /--by takes/);
});

const tokens = (t: Partial<Tokens>): Tokens => ({ ...noTokens(), ...t });

t.test('prices: by name, prefix or snapshot date; tiers; cache prices missing; long context', async (t) => {
  const p = Pricing.bundled();
  t.same(p.rates('gpt-5.5', null, false), { input: 5e-6, output: 3e-5, cached_input: 5e-7, cache_write_input: 5e-6 });
  t.same(p.rates('openai/gpt-5.5-2026-09-01', null, false), p.rates('gpt-5.5', null, false), 'a prefix and an unknown snapshot date fall back to the model');
  t.equal(p.rates('gpt-5.5', 'fast', false)!.input, 1e-5, 'fast is priority');
  t.equal(p.rates('gpt-5.5', 'flex', false)!.output, 1.5e-5);
  t.equal(p.rates('gpt-5.5', 'scale', false), null, 'a tier no file prices');
  t.equal(p.rates('gpt-5-codex', 'priority', false), null, 'no priority price for this model');
  t.equal(p.rates('gpt-5.2-pro', null, false)!.cached_input, 2.1e-5, 'no cache price: cached input costs what input does');
  t.same(p.rates('gpt-5.5', null, true), { input: 1e-5, output: 4.5e-5, cached_input: 1e-6, cache_write_input: 1e-5 });
  t.equal(p.rates('gpt-5.1-codex', null, true)!.input, 1.25e-6, 'a model without a long-context price charges its usual one');
  t.equal(p.rates('gpt-5.5', 'fast', true), null, 'no price for fast and long together');
  t.equal(p.rates(null, null, false), null);
  const r = p.rates('gpt-5.5', null, false)!;
  t.equal(
    p.cost(tokens({ input: 1000, cached_input: 400, output: 100, reasoning_output: 60, total: 1100 }), r),
    600 * 5e-6 + 400 * 5e-7 + 100 * 3e-5,
    'reasoning is inside output, once',
  );
});
