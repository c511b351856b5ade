// --redact against its corpus: every secret in positives.jsonl is gone after redaction, and every
// text in negatives.jsonl comes out unchanged.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { redact } from '../../lib/export/redact.js';
import { REPO } from '../helpers/fixtures.js';

const corpus = (name: string) =>
  readFileSync(join(REPO, 'test/fixtures/redact', name), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

t.test('positives: the secret is masked, the text around it kept', async (t) => {
  const cases = corpus('positives.jsonl');
  t.ok(cases.length >= 20, 'a corpus worth the name');
  for (const c of cases) {
    const out = redact(c.text);
    t.notOk(out.includes(c.secret), `${c.name}: secret gone (${JSON.stringify(out)})`);
    t.match(out, /\[REDACTED:[a-z-]+\]/, `${c.name}: masked visibly`);
    const before = c.text.slice(0, c.text.indexOf(c.secret)).replace(/(-----BEGIN[^\n]*\n)?\S*$/, '');
    t.ok(out.startsWith(before), `${c.name}: what comes before the secret is kept`);
  }
});

t.test('negatives: nothing is masked', async (t) => {
  const cases = corpus('negatives.jsonl');
  t.ok(cases.length >= 10);
  for (const c of cases) t.equal(redact(c.text), c.text, c.name);
});

t.test('key=value pairs keep the key and the quotes', async (t) => {
  t.equal(redact('DB_PASSWORD=hunter22'), 'DB_PASSWORD=[REDACTED:secret]');
  t.equal(redact('{"password": "hunter22"}'), '{"password": "[REDACTED:secret]"}');
  t.equal(redact('Authorization: Bearer abcdefghijklmnop1234'), 'Authorization: Bearer [REDACTED:credential]');
});

t.test('redaction is idempotent', async (t) => {
  for (const c of corpus('positives.jsonl')) t.equal(redact(redact(c.text)), redact(c.text), c.name);
});
