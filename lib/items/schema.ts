// JSON Schemas (draft 2020-12) of what `--format json` and `--format ndjson` write, printed by
// `--schema`. They describe model.ts; the tests validate every fixture's export against them.
import { FORMAT_NAME, MODEL_VERSION } from './model.js';

const str = { type: 'string' };
const strOrNull = { type: ['string', 'null'] };
const intOrNull = { type: ['integer', 'null'] };
const nonNegInt = { type: 'integer', minimum: 0 };

const common = {
  session: { ...str, description: 'The id of the exported session (the thread id).' },
  turn: { ...nonNegInt, description: '1-based turn number in the effective history; 0 before the first user turn.' },
  time: { ...strOrNull, description: 'RFC 3339 time of the record (bare 2025 generations carry only the session start).' },
};

function kind(name: string, description: string, properties: Record<string, unknown>) {
  const props = { kind: { const: name }, ...common, ...properties };
  return { type: 'object', description, required: Object.keys(props), additionalProperties: false, properties: props };
}

const defs = {
  tokens: {
    type: 'object',
    required: ['input', 'cached_input', 'output', 'reasoning_output', 'total'],
    additionalProperties: false,
    properties: { input: nonNegInt, cached_input: nonNegInt, output: nonNegInt, reasoning_output: nonNegInt, total: nonNegInt },
  },
  session: (() => {
    const properties = {
      kind: { const: 'session' },
      session: common.session,
      title: { ...strOrNull, description: 'Its first user message, as rollout-ls titles it.' },
      name: { ...strOrNull, description: 'The name given it (session_index.jsonl, or Codex state), or null.' },
      file: { ...str, description: 'The rollout read: a path, or <stdin>.' },
      generation: {
        enum: ['0', 'A', 'B', 'C', 'D', 'E', null],
        description: 'Format generation of the file (0, A-C bare 2025 files; D legacy envelope; E paginated).',
      },
      history_mode: { enum: ['legacy', 'paginated'] },
      created: strOrNull,
      updated: { ...strOrNull, description: 'Time of the last record.' },
      cwd: strOrNull,
      git: {
        oneOf: [
          { type: 'null' },
          {
            type: 'object',
            required: ['branch', 'commit', 'repository'],
            additionalProperties: false,
            properties: { branch: strOrNull, commit: strOrNull, repository: strOrNull },
          },
        ],
      },
      model: { ...strOrNull, description: 'The model of the latest turn.' },
      provider: strOrNull,
      cli_version: strOrNull,
      originator: strOrNull,
      source: { description: 'session_meta.source as Codex wrote it: a string or an object.' },
      forked_from: strOrNull,
      turns: { ...nonNegInt, description: 'Turns in the effective history (after rollbacks), inherited ones included.' },
      inherited_turns: { ...nonNegInt, description: 'Turns read from the ancestors a fork or revert references.' },
      rolled_back_turns: nonNegInt,
      compactions: nonNegInt,
      tokens: { oneOf: [{ type: 'null' }, { $ref: '#/$defs/tokens' }], description: 'Cumulative usage from the last token count.' },
    };
    return { type: 'object', description: "The session's facts.", required: Object.keys(properties), additionalProperties: false, properties };
  })(),
  turn: kind('turn', 'The start of a user turn.', {
    turn_id: strOrNull,
    status: { enum: ['completed', 'failed', 'aborted', 'open', 'unknown'] },
    duration_ms: intOrNull,
    error: strOrNull,
    model: strOrNull,
    cwd: strOrNull,
    inherited: { type: 'boolean', description: 'The turn comes from an ancestor the session references.' },
  }),
  message: kind('message', 'A message (injected context only with --all).', {
    role: { enum: ['user', 'assistant', 'developer', 'system'] },
    phase: strOrNull,
    text: { ...str, description: 'Text parts joined by newlines; each image is the placeholder [Image].' },
    images: nonNegInt,
    context: { type: 'boolean', description: 'Injected context, or a developer or system message.' },
  }),
  reasoning: kind('reasoning', 'A reasoning summary (with --reasoning).', { text: str }),
  tool_call: kind('tool_call', 'A tool call with its output, paired by call_id.', {
    call_id: strOrNull,
    tool: str,
    command: { ...strOrNull, description: 'The shell command, for shell tools.' },
    input: { ...strOrNull, description: 'The input as the model wrote it: JSON text for function tools, raw text for custom tools.' },
    cwd: strOrNull,
    output: strOrNull,
    omitted_chars: { ...nonNegInt, description: 'Characters of output left out by --max-output.' },
    exit_code: intOrNull,
    duration_ms: intOrNull,
  }),
  compaction: kind('compaction', "The point where Codex replaced the model's history with a summary.", {
    summary: str,
    replaced_by: { ...intOrNull, description: "Items in the model's replacement history." },
  }),
  item: {
    oneOf: ['turn', 'message', 'reasoning', 'tool_call', 'compaction'].map((k) => ({ $ref: `#/$defs/${k}` })),
  },
};

/** The schema of one `--format json` document. */
export function documentSchema(): object {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `urn:rollout-export:document:v${MODEL_VERSION}`,
    title: 'rollout-export document',
    description: 'One Codex session, normalized: its facts and the items of its effective history.',
    type: 'object',
    required: ['format', 'version', 'session', 'items'],
    additionalProperties: false,
    properties: {
      format: { const: FORMAT_NAME },
      version: { const: MODEL_VERSION },
      session: { $ref: '#/$defs/session' },
      items: { type: 'array', items: { $ref: '#/$defs/item' } },
    },
    $defs: defs,
  };
}

/** The schema of one `--format ndjson` line: a session's facts or one of its items. */
export function ndjsonSchema(): object {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `urn:rollout-export:ndjson-line:v${MODEL_VERSION}`,
    title: 'rollout-export NDJSON line',
    description: "One line: a session's facts (kind session, first) or one of its items; every line carries the session id.",
    oneOf: [{ $ref: '#/$defs/session' }, { $ref: '#/$defs/item' }],
    $defs: defs,
  };
}
