// Shell completion for a binary, made from the rows its --help is made from, so that the two cannot
// drift. bash, zsh and fish read one model: each flag's names, description and what its value is, and
// what each positional word of the synopsis is. Sessions are offered from the index through the
// installed rollout-ls, with --no-update (completing must be quick and change nothing) and its
// errors out of sight (a home without an index completes nothing, and says nothing).
import { UsageError } from './errors.js';
import type { OptionRow, Program } from './program.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** What a flag's value is completed with: a fixed set of words, or a kind of thing; 'text' is typed by hand. */
export type Completion = 'directories' | 'files' | 'text' | readonly string[];

/** Placeholders that say what their value is; any other (`<n>`, `<when>`, `<query>`) is typed by hand. */
const KINDS: Record<string, Completion> = { dir: 'directories', file: 'files', path: 'files' };
const kindOf = (placeholder: string): Completion => KINDS[placeholder] ?? 'text';

export interface Flag {
  /** Without its dash: `q`. */
  short?: string;
  /** Without its dashes: `quiet`. */
  long: string;
  description: string;
  value?: { placeholder: string; optional: boolean; completion: Completion };
}

const FLAGS = /^(?:-([a-zA-Z]), )?--([a-z][\w-]*)(?: (?:<([\w=-]+)>|\[([\w=-]+)\]))?$/;

/** The flags of option rows: `-f, --format <format>` with its values, `--schema [kind]`, `-q, --quiet`. */
export function flagsOf(rows: readonly OptionRow[]): Flag[] {
  return rows.map(([flags, description, , values]) => {
    const m = FLAGS.exec(flags);
    if (!m) throw new Error(`option row '${flags}' is not of the form '-x, --long <value>'`);
    const [, short, long, required, optional] = m;
    const placeholder = required ?? optional;
    const flag: Flag = { long: long!, description };
    if (short) flag.short = short;
    if (placeholder) flag.value = { placeholder, optional: optional !== undefined, completion: values ?? kindOf(placeholder) };
    return flag;
  });
}

/** `-q`, `--quiet`: every name a flag answers to, as typed. */
export const namesOf = (f: Flag): string[] => [...(f.short ? [`-${f.short}`] : []), `--${f.long}`];

/**
 * The positional words of a synopsis such as `[options] <session> [<name>]`, by placeholder, and
 * whether the last repeats. A `<session>` is a session reference (an id, a name or a path); any other
 * word is typed by hand.
 */
export function positionalsOf(usage: string): { words: string[]; repeats: boolean } {
  const found = [...usage.matchAll(/<([\w-]+)>(\.\.\.)?/g)];
  return { words: found.map((m) => m[1]!), repeats: found.at(-1)?.[2] !== undefined };
}

/** Where sessions go among the positional words (counted from 0): exactly at `at`, or there and after. */
export function sessionSlots(usage: string): Array<{ at: number; onwards: boolean }> {
  const { words, repeats } = positionalsOf(usage);
  return words.flatMap((w, at) => (w === 'session' ? [{ at, onwards: repeats && at === words.length - 1 }] : []));
}

/** The shell asked for by `--completion SHELL` (or `=SHELL`) among the flags, if it is asked. */
export function completionShell(flags: readonly string[]): Shell | undefined {
  const i = flags.findIndex((f) => f === '--completion' || f.startsWith('--completion='));
  if (i === -1) return undefined;
  const shell = flags[i]!.includes('=') ? flags[i]!.slice('--completion='.length) : flags[i + 1];
  if (!SHELLS.includes(shell as Shell)) throw new UsageError(`--completion takes bash, zsh or fish${shell === undefined ? '' : `, not '${shell}'`}`);
  return shell as Shell;
}

/** The completion script of `program` (all its option rows, the standard ones included) for `shell`. */
export function completionScript(program: Pick<Program, 'name' | 'usage' | 'options'>, shell: Shell): string {
  const flags = flagsOf(program.options);
  const write = { bash: bashScript, zsh: zshScript, fish: fishScript }[shell];
  return write(program.name, program.usage, flags);
}

/** A shell function's name for a binary: `_rollout_cat`. */
const fnName = (name: string) => `_${name.replace(/\W/g, '_')}`;

/** The sessions, one a line: id, name (or nothing) and label, tab-separated (`--format` keeps tabs out of values). */
const SESSION_ATOMS = ['%(id)', '%(name)', '%(label)'];

const header = (shell: Shell, name: string) => `# ${shell} completion for ${name}: \`${name} --completion ${shell}\` writes it from the options of its --help.`;

// ---- bash ----

const bashQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The commands that complete a value, or '' for one typed by hand. */
function bashValue(c: Completion): string {
  if (Array.isArray(c)) return `mapfile -t COMPREPLY < <(compgen -W ${bashQuote(c.join(' '))} -- "$q")`;
  switch (c) {
    case 'directories':
      return 'compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$q")';
    case 'files':
      return 'compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$q")';
    default:
      return '';
  }
}

function bashScript(name: string, usage: string, flags: Flag[]): string {
  const fn = fnName(name);
  const slots = sessionSlots(usage);
  const takes = flags.filter((f) => f.value && !f.value.optional);
  const mayTake = flags.filter((f) => f.value?.optional);
  const hasHome = flags.some((f) => f.long === 'codex-home');
  // One arm per way of completing a value, naming every flag that completes its value that way.
  const arms = new Map<string, string[]>();
  for (const f of flags) {
    const complete = f.value && bashValue(f.value.completion);
    // An optional value typed by hand leaves the word to what follows the flag.
    if (!f.value || (f.value.optional && !complete)) continue;
    const action = !complete ? 'return' : f.value.optional ? `${complete}; ((\${#COMPREPLY[@]})) && return` : `${complete}; return`;
    arms.set(action, [...(arms.get(action) ?? []), ...namesOf(f)]);
  }
  const out = [
    header('bash', name),
    '',
    `${fn}() {`,
    '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} home=',
    "  # With '=' in COMP_WORDBREAKS (the default), `--flag=value` arrives as three words.",
    '  [[ $cur == = ]] && cur=',
    '  [[ $prev == = ]] && ((COMP_CWORD > 1)) && prev=${COMP_WORDS[COMP_CWORD-2]}',
    '  # The word as the shell will read it, near enough: an opening quote and backslashes dropped.',
    '  local q=${cur#[\\"\\\']}',
    '  q=${q//\\\\/}',
    '  COMPREPLY=()',
  ];
  if (arms.size) {
    out.push('  case $prev in');
    for (const [action, names] of arms) out.push(`    ${names.join('|')}) ${action} ;;`);
    out.push('  esac');
  }
  if (slots.length) {
    const takeNames = takes.flatMap(namesOf).join('|');
    out.push(
      '  if [[ $cur != -* ]]; then',
      '    local i w n=0',
      '    for ((i = 1; i < COMP_CWORD; i++)); do',
      '      w=${COMP_WORDS[i]}',
      '      case $w in',
      ...(takeNames
        ? [
            `        ${takeNames})`,
            '          [[ ${COMP_WORDS[i+1]} == = ]] && ((i++))',
            '          ((i++))',
            ...(hasHome ? ['          [[ $w == --codex-home ]] && home=${COMP_WORDS[i]}'] : []),
            '          ;;',
          ]
        : []),
      ...(mayTake.length
        ? [
            `        ${mayTake.flatMap(namesOf).join('|')})`,
            '          if [[ ${COMP_WORDS[i+1]} == = ]]; then ((i += 2)); elif ((i + 1 < COMP_CWORD)) && [[ ${COMP_WORDS[i+1]} != -* ]]; then ((i++)); fi',
            '          ;;',
          ]
        : []),
      '        -?*) ;;',
      '        *) ((n++)) ;;',
      '      esac',
      '    done',
      `    if (( ${slots.map((s) => `n ${s.onwards ? '>=' : '=='} ${s.at}`).join(' || ')} )); then`,
      `      ${fn}_sessions "$home"`,
      '      return',
      '    fi',
      '  fi',
    );
  }
  out.push(`  mapfile -t COMPREPLY < <(compgen -W ${bashQuote(flags.flatMap(namesOf).join(' '))} -- "$cur")`, '}');
  if (slots.length) {
    out.push(
      '',
      '# Session ids and names from the index as it is (never updated here); a word that looks like a path completes as one.',
      `${fn}_sessions() {`,
      '  if [[ $q == */* || $q == [.~]* ]]; then',
      '    compopt -o filenames 2>/dev/null',
      '    mapfile -t COMPREPLY < <(compgen -f -- "$q")',
      '    return',
      '  fi',
      '  local home=${1#[\\"\\\']} line id rest name',
      '  home=${home%[\\"\\\']}',
      '  local -a where=()',
      '  [[ -n $home ]] && where=(--codex-home "${home/#\\~/$HOME}")',
      '  # Names may hold spaces: readline quotes what it inserts, as it does file names.',
      '  compopt -o filenames 2>/dev/null',
      '  while IFS= read -r line; do',
      "    id=${line%%$'\\t'*} rest=${line#*$'\\t'}",
      "    name=${rest%%$'\\t'*}",
      '    [[ $id == "$q"* ]] && COMPREPLY+=("$id")',
      '    [[ -n $name && $name == "$q"* ]] && COMPREPLY+=("$name")',
      `  done < <(rollout-ls "\${where[@]}" --no-update --format $'${SESSION_ATOMS.join('\\t')}' 2>/dev/null)`,
      '}',
    );
  }
  out.push('', `complete -F ${fn} ${name}`, '');
  return out.join('\n');
}

// ---- zsh ----

/** A text inside a single-quoted `_arguments` spec: the spec's own brackets and colons escaped, then the quotes. */
const zshSpecText = (s: string) => s.replace(/[\\[\]:]/g, '\\$&').replace(/'/g, `'\\''`);

function zshAction(c: Completion): string {
  if (Array.isArray(c)) return `(${c.join(' ')})`;
  return { directories: '_files -/', files: '_files', text: ' ' }[c as string]!;
}

function zshSpec(f: Flag): string {
  const value = f.value ? `${f.value.optional ? '::' : ':'}${f.value.placeholder}:${zshAction(f.value.completion)}` : '';
  const rest = `[${zshSpecText(f.description)}]${value}'`;
  // A value may be given again (the last counts); a plain flag is offered once, under either name.
  if (!f.short) return f.value ? `'*--${f.long}=${rest}` : `'--${f.long}${rest}`;
  if (f.value) return `'*'{-${f.short}+,--${f.long}=}'${rest}`;
  return `'(-${f.short} --${f.long})'{-${f.short},--${f.long}}'${rest}`;
}

function zshScript(name: string, usage: string, flags: Flag[]): string {
  const fn = fnName(name);
  const { words, repeats } = positionalsOf(usage);
  const positional = words.map((w, i) => `'${repeats && i === words.length - 1 ? '*' : i + 1}:${w}:${w === 'session' ? `${fn}_sessions` : ' '}'`);
  const specs = [...flags.map(zshSpec), ...positional];
  const out = [`#compdef ${name}`, header('zsh', name), ''];
  if (words.includes('session')) {
    out.push(
      '# Session ids and names from the index as it is (never updated here); a word that looks like a path completes as one.',
      `${fn}_sessions() {`,
      '  if [[ $PREFIX == (*/*|[.~]*) ]]; then _files; return; fi',
      '  local home=${(Q)opt_args[--codex-home]} line',
      '  local -a where sessions fields',
      '  [[ -n $home ]] && where=(--codex-home "${home/#\\~/$HOME}")',
      `  rollout-ls $where --no-update --format $'${SESSION_ATOMS.join('\\t')}' 2>/dev/null | while IFS= read -r line; do`,
      '    fields=("${(@ps:\\t:)line}")',
      '    sessions+=("$fields[1]:$fields[3]")',
      '    [[ -n $fields[2] ]] && sessions+=("${fields[2]//:/\\\\:}:$fields[1]")',
      '  done',
      '  _describe -t sessions session sessions',
      '}',
      '',
    );
  }
  out.push(
    `${fn}() {`,
    '  _arguments -s -S \\',
    ...specs.map((s, i) => `    ${s}${i < specs.length - 1 ? ' \\' : ''}`),
    '}',
    '',
    '# Autoloaded from $fpath this file is the function itself; sourced, it registers the function.',
    `if [[ $funcstack[1] == _${name} ]]; then`,
    `  ${fn} "$@"`,
    'else',
    `  compdef ${fn} ${name}`,
    'fi',
    '',
  );
  return out.join('\n');
}

// ---- fish ----

const fishQuote = (s: string) => `'${s.replace(/[\\']/g, '\\$&')}'`;

function fishValue(f: Flag): string {
  const c = f.value!.completion;
  // Without -r the value is optional: fish offers it as `--flag=value`.
  const r = f.value!.optional ? '' : ' -r';
  if (Array.isArray(c)) return `${r} -f -a ${fishQuote(c.join(' '))}`;
  switch (c) {
    case 'directories':
      return `${r} -f -a '(__fish_complete_directories (commandline -ct))'`;
    case 'files':
      return `${r} -F`;
    default:
      return `${r} -f`;
  }
}

function fishScript(name: string, usage: string, flags: Flag[]): string {
  const fn = `_${fnName(name)}`;
  const slots = sessionSlots(usage);
  const out = [header('fish', name), '', '# Nothing but what is offered below: no file names where a session or a value is meant.', `complete -c ${name} -f`];
  for (const f of flags) {
    const short = f.short ? ` -s ${f.short}` : '';
    out.push(`complete -c ${name}${short} -l ${f.long}${f.value ? fishValue(f) : ''} -d ${fishQuote(f.description)}`);
  }
  if (slots.length) {
    const takes = flags.filter((f) => f.value && !f.value.optional).flatMap(namesOf);
    const mayTake = flags.filter((f) => f.value?.optional).flatMap(namesOf);
    out.push(
      '',
      '# Sessions where the synopsis takes one: ids and names from the index as it is (never updated here);',
      '# a word that looks like a path completes as one.',
      `function ${fn}_sessions`,
      '    set -l words (commandline -opc)',
      '    set -e words[1]',
      '    set -l n 0',
      '    set -l home',
      '    while set -q words[1]',
      '        switch $words[1]',
      ...(flags.some((f) => f.long === 'codex-home')
        ? [
            '            case --codex-home',
            '                set home $words[2]',
            '                set -e words[1]',
            "            case '--codex-home=*'",
            '                set home (string replace -- --codex-home= "" $words[1])',
          ]
        : []),
      ...(takes.length ? [`            case ${takes.filter((t) => t !== '--codex-home').join(' ')}`, '                set -e words[1]'] : []),
      ...(mayTake.length
        ? [`            case ${mayTake.join(' ')}`, "                set -q words[2]; and not string match -q -- '-*' $words[2]; and set -e words[1]"]
        : []),
      "            case '-?*'",
      "            case '*'",
      '                set n (math $n + 1)',
      '        end',
      '        set -e words[1]',
      '    end',
      `    test ${slots.map((s) => `$n ${s.onwards ? '-ge' : '-eq'} ${s.at}`).join(' -o ')}; or return`,
      '    set -l token (commandline -ct)',
      "    if string match -qr '^[.~]|/' -- $token",
      '        __fish_complete_path $token',
      '        return',
      '    end',
      '    set -l where',
      '    test -n "$home"; and set where --codex-home (string replace -r \'^~\' $HOME -- $home)',
      `    for line in (rollout-ls $where --no-update --format ${SESSION_ATOMS.map(fishQuote).join('\\t')} 2>/dev/null)`,
      '        set -l f (string split \\t -- $line)',
      "        printf '%s\\t%s\\n' $f[1] $f[3]",
      '        test -n "$f[2]"; and printf \'%s\\t%s\\n\' $f[2] $f[1]',
      '    end',
      'end',
      `complete -c ${name} -a '(${fn}_sessions)'`,
    );
  }
  out.push('');
  return out.join('\n');
}
