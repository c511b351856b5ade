// --redact against its corpus: every secret in positives.jsonl is gone after redaction, and every
// text in negatives.jsonl comes out unchanged.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { redact, RULES } from '../../lib/items/redact.js';
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

t.test('every rule masks its own example, and says what it masked', async (t) => {
  for (const r of RULES) {
    const out = redact(r.example.text);
    t.ok(r.example.secret.length >= 8, `${r.kind}: the example names its secret`);
    t.notOk(out.includes(r.example.secret), `${r.kind}: ${JSON.stringify(out)}`);
    t.match(out, `[REDACTED:${r.kind}]`, `${r.kind}: masked under its own kind`);
  }
});

t.test('the man page lists every shape, and only those', async (t) => {
  const page = readFileSync(join(REPO, 'man/rollout-export.md'), 'utf8');
  for (const r of RULES) t.ok(page.includes(r.shape), `${r.kind}: ${r.shape}`);
  const listed = page
    .slice(page.indexOf('## REDACTION'))
    .split('\n')
    .filter((l) => l.startsWith('* `'));
  t.equal(listed.length, RULES.length, 'one line a rule');
});

t.test('a secret across a cut is masked whole; overlapping finds are masked once', async (t) => {
  t.equal(redact('DB_URL=postgres://app:ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8@db/x'), 'DB_URL=postgres://app:[REDACTED:github-token]@db/x');
  t.equal(redact('token: sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6'), 'token: [REDACTED:openai-key]');
});
