// The one grammar of each kind of value a flag takes: ages and dates, durations, sizes.
import t from 'tap';
import { UsageError } from '../../lib/cli/errors.js';
import { humanBytes, parseDuration, parseSize, parseWhen } from '../../lib/cli/units.js';

t.test('parseDuration: a number and a unit; a bare number is seconds', async (t) => {
  t.equal(parseDuration('10m', '--grace'), 600_000);
  t.equal(parseDuration('12h', '--grace'), 43_200_000);
  t.equal(parseDuration('30d', '--grace'), 30 * 86_400_000);
  t.equal(parseDuration('2w', '--grace'), 14 * 86_400_000);
  t.equal(parseDuration('1y', '--grace'), 365 * 86_400_000);
  t.equal(parseDuration('45s', '--grace'), 45_000);
  t.equal(parseDuration('90', '--wait'), 90_000);
  t.equal(parseDuration('1.5h', '--grace'), 5_400_000);
  t.equal(parseDuration('0', '--grace'), 0);
  for (const bad of ['', 'm', '-1d', '1d2h', 'soon', '10 minutes']) {
    t.throws(() => parseDuration(bad, '--wait'), new UsageError(`--wait takes a duration (10m, 2h, 30s, 0), not '${bad}'`), bad);
  }
});

t.test('parseWhen: an age back from now, or a date; never a bare number', async (t) => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  t.equal(parseWhen('30d', '--since', now), now - 30 * 86_400_000);
  t.equal(parseWhen('90m', '--since', now), now - 90 * 60_000);
  t.equal(parseWhen('2026-01-31', '--until', now), Date.parse('2026-01-31'));
  t.equal(parseWhen('2026-01-31T10:00:00Z', '--until', now), Date.parse('2026-01-31T10:00:00Z'));
  for (const bad of ['30', 'yesterday', '2026-13-45', ''])
    t.throws(() => parseWhen(bad, '--since', now), { message: /^--since takes an age/, exitCode: 2 }, bad);
});

t.test('parseSize: binary units', async (t) => {
  t.equal(parseSize('500', '--min-size'), 500);
  t.equal(parseSize('10k', '--min-size'), 10 * 1024);
  t.equal(parseSize('2M', '--min-size'), 2 * 1024 ** 2);
  t.equal(parseSize('1GiB', '--min-size'), 1024 ** 3);
  t.throws(() => parseSize('lots', '--min-size'), { message: /^--min-size takes a size/, exitCode: 2 });
  t.equal(humanBytes(512), '512 B');
  t.equal(humanBytes(1536), '1.5 KB');
});
