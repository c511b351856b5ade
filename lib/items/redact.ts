// `--redact`: masks secrets in every string an export carries. The rules are data: each names a
// kind, the shape it catches (the man page lists them), an example (tested), and the anchor it
// starts from. One pass over the text (scan) finds the anchors: token-like runs with a
// random-looking stretch (where provider tokens and bare keys can be), `=` or `:` after a
// secret-sounding name, `@` after `://`, `--`, `-p`. Each rule then looks only near its anchors,
// and what it finds is a range to mask; overlapping ranges are masked as one. Most text has few
// anchors, and costs that one pass.
//
// Why our own table: the maintained rule sets were measured against what transcripts hold
// (December 2026). secretlint's recommended preset caught 2 of the 10 shapes an outside review
// found missing (basic-auth URLs, SendGrid) at 10 MB/s; gitleaks' published rules, translated to
// JavaScript and prefiltered by their keywords, caught 4 (three only through the generic key=value
// rule) at 4 MB/s. Export must stay near its speed with --redact, and a transcript's secrets are
// mostly in commands and their output, which neither set aims at. Token shapes below follow the
// providers' published formats, as those rule sets do.

/** What a rule starts from (see scan). */
export type Anchor =
  /** A token-like run holding a random-looking stretch: the rule runs on the run. */
  | 'run'
  /** `=` or `:` after a name ending in password, pwd, secret, key, token, sig, ...: the rule runs on that line. */
  | 'assign'
  /** `@` in a token that holds `://`: the rule runs on that token. */
  | 'at'
  /** `://`: the rule runs on the token around it. */
  | 'url'
  /** `--`: the rule runs on that line, or from there on (`-----BEGIN`). */
  | 'dashes'
  /** `-p` glued to a value: the rule runs on that line. */
  | 'glued-p';

export interface Rule {
  kind: string;
  /** What it catches, for the man page. */
  shape: string;
  /** A text holding one such secret (`secret` is what must be gone). */
  example: { text: string; secret: string };
  anchor: Anchor;
  /** A literal the stretch must hold before the expression is tried. */
  hint?: string | RegExp;
  /** Global; its masked part is the whole match, or the group `value` when it has one. */
  re?: RegExp;
  /** For rules that are no expression: the ranges to mask in `text` from `from` to `to`. */
  find?: (text: string, from: number, to: number, out: Range[]) => void;
}

interface Range {
  start: number;
  end: number;
  kind: string;
}

const mask = (kind: string) => `[REDACTED:${kind}]`;

const rule = (kind: string, anchor: Anchor, shape: string, re: RegExp, example: string, secret?: string, hint?: string | RegExp): Rule => ({
  kind,
  shape,
  anchor,
  // `d`: where the value group lies, for rules that mask only their value.
  re: new RegExp(re.source, `${re.flags}d`),
  hint,
  example: { text: example, secret: secret ?? example.match(re)?.[0] ?? '' },
});

const token = (kind: string, shape: string, hint: string | RegExp, re: RegExp, example: string) => rule(kind, 'run', shape, re, example, undefined, hint);

/**
 * The rules, most specific first. (Order only names a masked range: ranges that overlap are masked
 * as one, under the kind that comes first here.)
 */
export const RULES: readonly Rule[] = [
  rule(
    'private-key',
    'dashes',
    'PEM private keys (`-----BEGIN ... PRIVATE KEY-----` to its end, or to the end of the text)',
    /-----BEGIN[A-Z ]{0,40} PRIVATE KEY( BLOCK)?-----[\s\S]*?(?:-----END[A-Z ]{0,40} PRIVATE KEY( BLOCK)?-----|$)/g,
    '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oh6AmpHUxHfaoAoGCCqGSM49\n-----END EC PRIVATE KEY-----',
    'MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oh6AmpHUxHfaoAoGCCqGSM49',
    'PRIVATE KEY',
  ),
  token(
    'anthropic-key',
    'Anthropic keys `sk-ant-...`',
    'sk-ant-',
    /\bsk-ant-[A-Za-z0-9_-]{20,}/g,
    'ANTHROPIC_API_KEY=sk-ant-api03-A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6',
  ),
  token(
    'openai-key',
    'OpenAI keys `sk-...`, `sk-proj-...`, `sk-svcacct-...`, `sk-admin-...`',
    'sk-',
    /\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}/g,
    'OPENAI_API_KEY=sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6',
  ),
  token(
    'github-token',
    'GitHub tokens `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`',
    /gh[pousr]_|github_pat_/,
    /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g,
    'git clone https://ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8@github.com/a/b',
  ),
  token(
    'gitlab-token',
    'GitLab tokens `glpat-`, `gldt-`, `glrt-`, `glptt-`, `glsoat-`',
    /gl(?:pat|dt|rt|ptt|soat)-/,
    /\bgl(?:pat|dt|rt|ptt|soat)-[A-Za-z0-9_-]{20,}/g,
    'PRIVATE-TOKEN: glpat-A1b2C3d4E5f6G7h8I9j0',
  ),
  token(
    'aws-access-key',
    'AWS access key ids (`AKIA...`, `ASIA...`, `ABIA...`, `ACCA...`)',
    /A[KSBC][IC]A/,
    /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g,
    'aws_access_key_id = AKIAIOSFODNN7EXAMPLE',
  ),
  token('google-api-key', 'Google API keys `AIza...`', 'AIza', /\bAIza[0-9A-Za-z_-]{35}\b/g, "key: 'AIzaSyAA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6'"),
  token(
    'google-oauth',
    'Google OAuth client secrets `GOCSPX-...` and access tokens `ya29....`',
    /GOCSPX-|ya29\./,
    /\b(?:GOCSPX-[A-Za-z0-9_-]{28}|ya29\.[A-Za-z0-9_-]{20,})/g,
    'client_secret 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',
  ),
  token(
    'slack-token',
    'Slack tokens `xoxb-`, `xoxp-`, `xoxa-`, `xoxo-`, `xoxs-`, `xoxr-`, `xapp-`',
    /xox|xapp-/,
    /\b(?:xox[abposr]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})/g,
    'SLACK_TOKEN=xoxb-123456789012-1234567890123-A1b2C3d4E5f6G7h8I9j0K1l2',
  ),
  token(
    'stripe-key',
    'Stripe keys `sk_live_`, `sk_test_`, `rk_live_`, `rk_test_`',
    /[sr]k_(?:live|test)_/,
    /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b/g,
    'stripe.api_key = "sk_live_A1b2C3d4E5f6G7h8I9j0K1l2"',
  ),
  token(
    'twilio-key',
    'Twilio API keys `SK` + 32 hex digits',
    /SK[0-9a-fA-F]{32}/,
    /\bSK[0-9a-fA-F]{32}\b/g,
    'TWILIO_API_KEY SK0123456789abcdef0123456789abcdef',
  ),
  token(
    'sendgrid-key',
    'SendGrid keys `SG.<22>.<43>`',
    'SG.',
    /\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b/g,
    'key SG.abcdefghijklmnopqrstuv.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg',
  ),
  token('npm-token', 'npm tokens `npm_...`', 'npm_', /\bnpm_[A-Za-z0-9]{36}\b/g, '//registry.npmjs.org/:_authToken=npm_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'),
  token(
    'pypi-token',
    'PyPI upload tokens `pypi-AgEIcHlwaS5vcmc...`',
    'pypi-',
    /\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}/g,
    'password = pypi-AgEIcHlwaS5vcmcCJDAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMAACKlsz',
  ),
  token(
    'huggingface-token',
    'Hugging Face tokens `hf_...`, `api_org_...`',
    /hf_|api_org_/,
    /\b(?:hf_[A-Za-z0-9]{30,}|api_org_[A-Za-z0-9]{30,})\b/g,
    'HF_TOKEN=hf_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7',
  ),
  token(
    'databricks-token',
    'Databricks tokens `dapi` + 32 hex digits',
    'dapi',
    /\bdapi[0-9a-f]{32}(?:-\d)?\b/g,
    'DATABRICKS_TOKEN=dapi0123456789abcdef0123456789abcdef',
  ),
  token(
    'digitalocean-token',
    'DigitalOcean tokens `dop_v1_`, `doo_v1_`, `dor_v1_`',
    '_v1_',
    /\bdo[opr]_v1_[a-f0-9]{64}\b/g,
    'DIGITALOCEAN_TOKEN=dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
  ),
  token(
    'shopify-token',
    'Shopify tokens `shpat_`, `shpca_`, `shppa_`, `shpss_`',
    /shp(?:at|ca|pa|ss)_/,
    /\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b/g,
    'X-Shopify-Access-Token: shpat_0123456789abcdef0123456789abcdef',
  ),
  token('mailgun-key', 'Mailgun keys `key-` + 32 hex digits', 'key-', /\bkey-[0-9a-f]{32}\b/g, 'api:key-0123456789abcdef0123456789abcdef'),
  token(
    'telegram-token',
    'Telegram bot tokens `<bot id>:AA...`',
    ':AA',
    /\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b/g,
    'bot 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ',
  ),
  token(
    'vault-token',
    'HashiCorp Vault tokens `hvs.`, `hvb.`',
    /hv[sb]\./,
    /\bhv[sb]\.[A-Za-z0-9_-]{24,}/g,
    'VAULT_TOKEN=hvs.CAESIJ0123456789abcdefghijklmnopqrst',
  ),
  token(
    'ai-provider-key',
    'Groq `gsk_`, Perplexity `pplx-`, xAI `xai-`, Replicate `r8_` keys',
    /gsk_|pplx-|xai-|r8_/,
    /\b(?:gsk_[A-Za-z0-9]{48,}|pplx-[A-Za-z0-9]{40,}|xai-[A-Za-z0-9]{60,}|r8_[A-Za-z0-9]{37})\b/g,
    'GROQ_API_KEY=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',
  ),
  token(
    'jwt',
    'JSON Web Tokens `eyJ....eyJ....sig`',
    'eyJ',
    /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
    'session=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  ),
  rule(
    'slack-webhook',
    'url',
    'Slack webhook URLs',
    /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_-]+/g,
    'POST https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
    undefined,
    'hooks.slack.com',
  ),
  rule(
    'discord-webhook',
    'url',
    'Discord webhook URLs',
    /https:\/\/(?:ptb\.|canary\.)?discord(?:app)?\.com\/api\/webhooks\/\d+\/[A-Za-z0-9_-]+/gi,
    'hook = https://discord.com/api/webhooks/123456789012345678/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-ab',
    undefined,
    /discord/i,
  ),
  rule(
    'password',
    'at',
    '`scheme://user:PASSWORD@host` and `scheme://:PASSWORD@host` (git remotes, database URLs)',
    /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@'"[\]]*:(?<value>[^\s@/'"[\]]+)@/gi,
    'origin https://ana:hunter2pass@github.com/ana/shop.git',
    'hunter2pass',
  ),
  rule(
    'azure-key',
    'assign',
    'Azure connection strings: `AccountKey=`, `SharedAccessKey=`, `SharedAccessSignature=` values',
    /\b(?:AccountKey|SharedAccessKey|SharedAccessSignature)\s*=\s*(?<value>[^;\s"'`]+)/gi,
    'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==;EndpointSuffix=core.windows.net',
    'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==',
  ),
  rule(
    'azure-sas',
    'assign',
    'the signature of an Azure SAS URL (`?...&sig=`)',
    /[?&]sig=(?<value>[A-Za-z0-9%+/=]{16,})/g,
    'https://acct.blob.core.windows.net/c/f?sv=2022-11-02&se=2026-12-31&sr=b&sp=r&sig=abcDEF123ghiJKL456mnoPQR789%3D',
    'abcDEF123ghiJKL456mnoPQR789%3D',
  ),
  rule(
    'password',
    'glued-p',
    '`mysql`/`mysqldump`/`mariadb` `-pPASSWORD` (the password glued to `-p`)',
    /\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mariadb|mariadb-dump)\b[^\n|;&]*?\s-p(?<value>"[^"\n]+"|'[^'\n]+'|[^\s"'-][^\s"']*)/gi,
    'mysql -uroot -pS3cr3tPass app_db',
    'S3cr3tPass',
  ),
  rule(
    'credential',
    'run',
    '`Authorization:` credentials after `Bearer`, `Basic`, `Token`',
    /\b(?:Bearer|Basic|Token)\s+(?<value>[A-Za-z0-9._~+/=-]{16,})/gi,
    "curl -H 'Authorization: Bearer 3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c' https://api.example.com",
    '3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c',
    /[Bb][Ee][Aa][Rr][Ee][Rr]|[Bb][Aa][Ss][Ii][Cc]|[Tt][Oo][Kk][Ee][Nn]/,
  ),
  rule(
    'secret',
    'dashes',
    '`--password VALUE`, `--token=VALUE`, `--api-key`, `--secret`',
    /--(?:password|passwd|token|api-key|apikey|secret|client-secret)(?:=|\s+)(?<value>[^\s"'-][^\s"']{0,400}|"[^"\n]{1,400}"|'[^'\n]{1,400}')/gi,
    'psql --password s3cr3t-pass --host db',
    's3cr3t-pass',
  ),
  rule(
    'secret',
    'assign',
    '`KEY=value`, `KEY: value`, `"key": "value"` where KEY ends in password, passwd, passphrase, pwd, secret, secret_key, api_key, apikey, access_key, private_key or token (`PGPASSWORD=`, `MYSQL_PWD=`, `DB_PASSWORD=`, `client_secret`, `refresh_token`, ...)',
    // Anchored on the end of the key: whatever comes before it in the name stays as it is.
    /(?:pass(?:word|wd|phrase)|pwd|secret|(?:secret|api|access|private)[_-]?key|apikey|token)["']?[ \t]*(?:=|:)(?!=)[ \t]*(?<value>"[^"\n]{1,400}"|'[^'\n]{1,400}'|[^\s"',;)}\]]{1,400})/gi,
    'PGPASSWORD=S3cr3tPass psql -h db',
    'S3cr3tPass',
  ),
  {
    kind: 'aws-secret-key',
    shape: 'bare 40-character AWS secret access keys (mixed case and digits, high entropy, standing alone)',
    example: { text: 'the key is wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, keep it', secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    anchor: 'run',
    find: bareAwsKeys,
  },
];

// ---------------------------------------------------------------------------------------------
// The one pass.

const RUN = 1; // a character a token may hold, separators included (`sk-proj-`, `a.b.c`, `id:secret`, `KEY=`)
const WORD = 2; // of those, one of a token's random part
const DIGIT = 4;
const UPPER = 8;
const LOWER = 16;
const KEY = 32; // the base64 alphabet of an AWS secret key
const CLASS = new Uint8Array(128);
for (const c of '_-.+/=:') CLASS[c.charCodeAt(0)]! |= RUN;
for (const c of '_-') CLASS[c.charCodeAt(0)]! |= WORD;
for (const c of '+/') CLASS[c.charCodeAt(0)]! |= KEY;
for (let c = 48; c <= 57; c++) CLASS[c] = RUN | WORD | DIGIT | KEY;
for (let c = 65; c <= 90; c++) CLASS[c] = RUN | WORD | UPPER | KEY;
for (let c = 97; c <= 122; c++) CLASS[c] = RUN | WORD | LOWER | KEY;

/** Where scan() found each anchor: runs as start, end pairs; the others as positions. Reused. */
const found: Record<Anchor, number[]> = { run: [], assign: [], at: [], url: [], dashes: [], 'glued-p': [] };
const ANCHORS = Object.keys(found) as Anchor[];

/**
 * One pass over `text`, filling `found`: the runs of token characters that hold a stretch of 16 or
 * more word characters with a digit, or with both cases (a random part), and the other anchors.
 * Reads past the end give 0, never NaN, which would turn these small integers into slow doubles.
 */
function scan(text: string): boolean {
  for (const list of Object.values(found)) list.length = 0;
  let runStart = -1;
  let random = false;
  let url = -1;
  const n = text.length;
  for (let i = 0; i < n;) {
    let c = text.charCodeAt(i);
    let k = c < 128 ? CLASS[c]! : 0;
    if (k & WORD) {
      if (runStart < 0) {
        runStart = i;
        random = false;
      }
      // A stretch of word characters, in a tight loop; looked at closer only when long enough.
      const start = i;
      do {
        if (c === 45) {
          const next = i + 1 < n ? text.charCodeAt(i + 1) : 0;
          if (next === 45) found.dashes.push(i);
          else if (next === 112 && i + 2 < n && text.charCodeAt(i + 2) > 32) found['glued-p'].push(i);
        }
        c = ++i < n ? text.charCodeAt(i) : 0;
        k = c < 128 ? CLASS[c]! : 0;
      } while (k & WORD);
      if (i - start >= 16 && !random) random = mixed(text, start, i);
      if (i >= n) break;
    }
    if (k & RUN) {
      if (runStart < 0) {
        runStart = i;
        random = false;
      }
      if (c === 61 || c === 58) {
        if (secretName(text, i)) found.assign.push(i);
        if (c === 58 && i + 2 < n && text.charCodeAt(i + 1) === 47 && text.charCodeAt(i + 2) === 47) {
          url = i;
          found.url.push(i);
        }
      }
    } else {
      if (runStart >= 0) {
        if (random) found.run.push(runStart, i);
        runStart = -1;
      }
      if (c === 64 && url >= 0) found.at.push(i);
      // A token ends at a blank or a quote: an `@` after it has no `://` of its own.
      else if (c <= 32 || c === 34 || c === 39) url = -1;
    }
    i++;
  }
  if (runStart >= 0 && random) found.run.push(runStart, n);
  return ANCHORS.some((a) => found[a].length > 0);
}

/** Whether a stretch of word characters holds a digit, or both cases. */
function mixed(text: string, from: number, to: number): boolean {
  let seen = 0;
  for (let i = from; i < to; i++) seen |= CLASS[text.charCodeAt(i)]!;
  return (seen & DIGIT) !== 0 || (seen & (UPPER | LOWER)) === (UPPER | LOWER);
}

/** Whether text[end - s.length, end) is `s`, ignoring ASCII case (`s` in lower case). */
function endsWith(text: string, end: number, s: string): boolean {
  if (end < s.length) return false;
  for (let j = 0; j < s.length; j++) if ((text.charCodeAt(end - s.length + j) | 32) !== s.charCodeAt(j)) return false;
  return true;
}

const SECRET_NAMES = ['word', 'wd', 'phrase', 'pwd', 'secret', 'key', 'token', 'signature', 'sig'];

/** Whether the name before an `=` or `:` at `i` (past blanks and a quote) ends in a secret's word. */
function secretName(text: string, i: number): boolean {
  let end = i;
  while (end > 0 && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
  if (end > 0 && (text.charCodeAt(end - 1) === 34 || text.charCodeAt(end - 1) === 39)) end--;
  // Every name looked for ends in d, e, g, n, t or y: most `:` and `=` are done with at this test.
  const last = end > 0 ? text.charCodeAt(end - 1) | 32 : 0;
  if (last !== 100 && last !== 101 && last !== 103 && last !== 110 && last !== 116 && last !== 121) return false;
  for (const name of SECRET_NAMES) if (endsWith(text, end, name)) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Near each anchor.

const isBlank = (c: number) => c === 10 || c === 13;

/** The line around `i`, at most `reach` characters either side. */
function lineAround(text: string, i: number, reach = 512): [number, number] {
  let from = i;
  const low = Math.max(0, i - reach);
  while (from > low && !isBlank(text.charCodeAt(from - 1))) from--;
  let to = i;
  const high = Math.min(text.length, i + reach);
  while (to < high && !isBlank(text.charCodeAt(to))) to++;
  return [from, to];
}

/** The token around `i`: as far as there is no blank or quote, at most 2 KB either side. */
function tokenAround(text: string, i: number): [number, number] {
  const stop = (c: number) => c <= 32 || c === 34 || c === 39 || c === 96;
  let from = i;
  while (from > 0 && i - from < 2048 && !stop(text.charCodeAt(from - 1))) from--;
  let to = i;
  while (to < text.length && to - i < 2048 && !stop(text.charCodeAt(to))) to++;
  return [from, to];
}

/** Where a rule looks for each of its anchors. */
function windows(anchor: Anchor, text: string, each: (from: number, to: number) => void): void {
  const list = found[anchor];
  let done = -1;
  if (anchor === 'run') {
    // A credential's scheme word stands before its run.
    for (let s = 0; s < list.length; s += 2) each(Math.max(0, list[s]! - 16), list[s + 1]!);
    return;
  }
  for (const at of list) {
    if (at < done) continue;
    const [from, to] = anchor === 'at' || anchor === 'url' ? tokenAround(text, at) : lineAround(text, at);
    // A PEM block reaches past its first line: from its anchor to the end of the text.
    each(from, anchor === 'dashes' ? text.length : to);
    done = anchor === 'dashes' ? text.length : to;
  }
}

/** The ranges `r` masks in `part`, which starts at `from` of `text`. */
function search(r: Rule, text: string, part: string, from: number, out: Range[]): void {
  if (r.hint !== undefined && !(typeof r.hint === 'string' ? part.includes(r.hint) : r.hint.test(part))) return;
  if (r.find) return r.find(text, from, from + part.length, out);
  const re = r.re!;
  re.lastIndex = 0;
  for (let m = re.exec(part); m; m = re.exec(part)) {
    const value = m.groups?.value;
    if (value === undefined) out.push({ start: from + m.index, end: from + m.index + m[0].length, kind: r.kind });
    else if (!isPlaceholder(value)) {
      // The value, without quotes around it: `"password": "[REDACTED:secret]"` stays JSON.
      const q = value.length > 1 && /^["']/.test(value) && value.endsWith(value[0]!) ? 1 : 0;
      const [start, end] = m.indices!.groups!.value!;
      out.push({ start: from + start + q, end: from + end - q, kind: r.kind });
    }
    if (m[0].length === 0) re.lastIndex++;
  }
}

/** Runs of exactly 40 base64 characters standing alone that look random: bare AWS secret keys. */
function bareAwsKeys(text: string, from: number, to: number, out: Range[]): void {
  const isKey = (c: number) => c < 128 && (CLASS[c]! & KEY) !== 0;
  for (let i = from; i < to;) {
    if (!isKey(text.charCodeAt(i))) {
      i++;
      continue;
    }
    let end = i;
    while (end < text.length && isKey(text.charCodeAt(end))) end++;
    const before = i > 0 ? text.charCodeAt(i - 1) : 0;
    if (end - i === 40 && !isKey(before) && text.charCodeAt(end) !== 61 && looksRandom(text.slice(i, end))) out.push({ start: i, end, kind: 'aws-secret-key' });
    i = end;
  }
}

/** A bare 40-character run is a key only if it mixes cases and digits and is as varied as random base64. */
function looksRandom(s: string): boolean {
  if (!/[A-Z]/.test(s) || !/[a-z]/.test(s) || !/[0-9]/.test(s)) return false;
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / s.length) * Math.log2(n / s.length);
  return bits >= 4.2;
}

/** Values a `key=value` pair carries that are not secrets: types, placeholders, references. */
function isPlaceholder(value: string): boolean {
  const v = value.replace(/^["']|["']$/g, '');
  if (v.length < 4) return true;
  if (/^(string|number|boolean|bool|null|none|nil|undefined|true|false|str|int|bytes|optional|required|secret|password|token|redacted|changeme)$/i.test(v))
    return true;
  if (/^[*xX.•]+$/.test(v) || /^\[REDACTED/.test(v)) return true;
  if (/^(\$\{?[A-Za-z_]|%[A-Za-z_]+%|<[^>]*>|\{\{)/.test(v)) return true; // ${VAR}, $VAR, %VAR%, <placeholder>, {{ template }}
  if (/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$/.test(v)) return true; // args.password, process.env.TOKEN
  if (/^[A-Za-z_$][\w$.]*[([]/.test(v)) return true; // getpass(), os.environ["X"]
  // An unquoted word of letters is more often prose (`Secret: Keep it warm`) than a password.
  if (!/^["']/.test(value) && v.length < 8 && /^[A-Za-z]+$/.test(v)) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Masking.

const ranges: Range[] = [];

const RULES_AT = new Map(ANCHORS.map((a) => [a, RULES.filter((r) => r.anchor === a)]));
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Whether a run holds some run rule's hint: most runs (ids, hashes, paths) hold none, and are done with at once. */
const RUN_HINTS = new RegExp(
  RULES_AT.get('run')!
    .flatMap((r) => (r.hint === undefined ? [] : [typeof r.hint === 'string' ? escape(r.hint) : r.hint.source]))
    .join('|'),
);
/** Runs short of this hold no bare AWS key (40 characters) with a scheme word before it. */
const RUN_WITHOUT_HINT = 40;

/** `text` with every secret masked. */
export function redact(text: string): string {
  // Nothing shorter holds a secret any rule knows (the shortest: `pwd=abcd`).
  if (text.length < 8 || !scan(text)) return text;
  ranges.length = 0;
  for (const anchor of ANCHORS) {
    if (!found[anchor].length) continue;
    const rules = RULES_AT.get(anchor)!;
    windows(anchor, text, (from, to) => {
      const part = text.slice(from, to);
      if (anchor === 'run' && part.length < RUN_WITHOUT_HINT && !RUN_HINTS.test(part)) return;
      for (const r of rules) search(r, text, part, from, ranges);
    });
  }
  if (!ranges.length) return text;
  // Overlapping ranges are masked as one, under the first rule's kind.
  const order = RULES.map((r) => r.kind);
  ranges.sort((a, b) => a.start - b.start || b.end - a.end);
  const parts: string[] = [];
  let last = 0;
  for (let i = 0; i < ranges.length;) {
    const { start } = ranges[i]!;
    let { end, kind } = ranges[i++]!;
    while (i < ranges.length && ranges[i]!.start < end) {
      const r = ranges[i++]!;
      if (order.indexOf(r.kind) < order.indexOf(kind)) kind = r.kind;
      end = Math.max(end, r.end);
    }
    parts.push(text.slice(last, start), mask(kind));
    last = end;
  }
  parts.push(text.slice(last));
  return parts.join('');
}

/**
 * Masks secrets in every string of a value, in place: an item's or a session's every field, so
 * that no format (Markdown, HTML, JSON, NDJSON, CSV) can show a field redaction did not reach.
 */
export function redactDeep<T>(value: T): T {
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const v = record[key];
    if (typeof v === 'string') record[key] = redact(v);
    else if (v !== null && typeof v === 'object') redactDeep(v);
  }
  return value;
}
