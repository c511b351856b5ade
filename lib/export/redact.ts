// `--redact`: masks secrets in any text a transcript carries. Patterns are of two kinds: tokens
// whose shape gives them away (provider prefixes, JWTs, PEM blocks), masked wherever they appear,
// and `key=value` pairs whose key names a secret, where only the value is masked. The test corpus
// in test/fixtures/redact/ holds what must be masked and what must be left alone.

interface Rule {
  kind: string;
  re: RegExp;
}

/** Tokens recognized by their shape; each match is masked whole. */
const TOKENS: Rule[] = [
  { kind: 'private-key', re: /-----BEGIN[A-Z ]{0,40} PRIVATE KEY( BLOCK)?-----[\s\S]*?(?:-----END[A-Z ]{0,40} PRIVATE KEY( BLOCK)?-----|$)/g },
  { kind: 'anthropic-key', re: /\bsk-ant-[A-Za-z0-9_-]{20,}/g },
  { kind: 'openai-key', re: /\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}/g },
  { kind: 'github-token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g },
  { kind: 'gitlab-token', re: /\bglpat-[A-Za-z0-9_-]{20,}/g },
  { kind: 'aws-access-key', re: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g },
  { kind: 'google-api-key', re: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  { kind: 'slack-token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g },
  { kind: 'slack-webhook', re: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]+/g },
  { kind: 'stripe-key', re: /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b/g },
  { kind: 'npm-token', re: /\bnpm_[A-Za-z0-9]{36}\b/g },
  { kind: 'huggingface-token', re: /\bhf_[A-Za-z0-9]{30,}\b/g },
  { kind: 'jwt', re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g },
];

/** `Authorization: Bearer X`, `Bearer X`, `token X`: the scheme stays, the credential goes. */
const BEARER = /\b(Bearer|Basic|Token)(\s+)([A-Za-z0-9._~+/=-]{16,})/g;

/** `scheme://user:password@host`: the password goes. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@'"[\]]+:)([^\s@/'"[\]]+)(@)/gi;

/**
 * `password=x`, `API_KEY: "x"`, `"client_secret": "x"`, `--password x`: a key naming a secret, then
 * `=` or `:` (not `==`), then a value. The key may be part of a longer name that ends in it.
 */
const PAIR =
  /((?:\b|[-_])(?:password|passwd|pwd|passphrase|secret|secret[_-]?key|client[_-]?secret|api[_-]?key|apikey|access[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token|private[_-]?key|token)["']?[ \t]*(?:=|:)(?!=)[ \t]*)("[^"\n]{1,400}"|'[^'\n]{1,400}'|[^\s"',;)}\]]{1,400})/gi;

const FLAG = /(--(?:password|passwd|token|api-key|secret)(?:=|\s+))([^\s"'-][^\s"']{0,400}|"[^"\n]{1,400}"|'[^'\n]{1,400}')/gi;

/** Values a `key=value` pair carries that are not secrets: types, placeholders, references. */
function isPlaceholder(value: string): boolean {
  const v = value.replace(/^["']|["']$/g, '');
  if (v.length < 4) return true;
  if (/^(string|number|boolean|bool|null|none|nil|undefined|true|false|str|int|bytes|optional|required|secret|password|token|redacted|changeme)$/i.test(v)) return true;
  if (/^[*xX.•]+$/.test(v) || /^\[REDACTED/.test(v)) return true;
  if (/^(\$\{?[A-Za-z_]|%[A-Za-z_]+%|<[^>]*>|\{\{)/.test(v)) return true; // ${VAR}, $VAR, %VAR%, <placeholder>, {{ template }}
  if (/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$/.test(v)) return true; // args.password, process.env.TOKEN
  if (/^[A-Za-z_$][\w$.]*[([]/.test(v)) return true; // getpass(), os.environ["X"]
  return false;
}

const mask = (kind: string) => `[REDACTED:${kind}]`;

/** `text` with every secret masked. */
export function redact(text: string): string {
  if (!text) return text;
  let out = text.replace(URL_PASSWORD, (_m, head: string, _pw: string, at: string) => `${head}${mask('password')}${at}`);
  for (const { kind, re } of TOKENS) out = out.replace(re, mask(kind));
  out = out.replace(BEARER, (_m, scheme: string, space: string) => `${scheme}${space}${mask('credential')}`);
  out = out.replace(FLAG, (m, head: string, value: string) => (isPlaceholder(value) ? m : `${head}${mask('secret')}`));
  out = out.replace(PAIR, (m, head: string, value: string) => {
    const q = /^["']/.test(value) ? value[0] : '';
    if (isPlaceholder(value) || value.startsWith('[REDACTED')) return m;
    // An unquoted word of letters is more often prose (`Secret: Keep it warm`) than a password.
    if (!q && value.length < 8 && /^[A-Za-z]+$/.test(value)) return m;
    return `${head}${q}${mask('secret')}${q}`;
  });
  return out;
}
