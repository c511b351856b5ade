// What rollout-feed publishes about its records: the JSON Schema of one line (rollout-export's
// NDJSON items, plus the usage and session records, each with its id and host), and, derived from
// it, the DDL that loads them into PostgreSQL and the columns DuckDB reads them with.
import { MODEL_VERSION } from '../items/model.js';
import { ndjsonSchema } from '../items/schema.js';
import { FEED_KINDS } from './records.js';

const str = { type: 'string' };
const strOrNull = { type: ['string', 'null'] };
const nonNegInt = { type: 'integer', minimum: 0 };
const time = { type: ['string', 'null'], format: 'date-time' };

const common = {
  record_id: {
    ...str,
    description:
      '<rollout id>:<byte offset of the line the record begins at>:<kind>. The same record is written again with this id when it is completed (a turn with its outcome, a tool call with its output, a session with its new facts): load by upsert, the later wins.',
  },
  host: { ...strOrNull, description: 'The --host label of the machine, or null.' },
};

interface ObjectSchema {
  type: 'object';
  required: string[];
  properties: Record<string, any>;
  [k: string]: unknown;
}

/** A kind of record: the export's item, with the feed's id and host first. */
function withIds(def: ObjectSchema): ObjectSchema {
  const properties: Record<string, any> = { ...common, ...def.properties };
  if (properties.time) properties.time = { ...properties.time, format: 'date-time' };
  return { ...def, required: Object.keys(properties), properties };
}

function kindDef(kind: string, description: string, properties: Record<string, unknown>): ObjectSchema {
  const props = { kind: { const: kind }, ...common, ...properties };
  return { type: 'object', description, required: Object.keys(props), additionalProperties: false, properties: props };
}

/** The schema of one line of rollout-feed's output. */
export function feedSchema(): { $defs: Record<string, ObjectSchema>; [k: string]: unknown } {
  const exported = ndjsonSchema() as { $defs: Record<string, ObjectSchema> };
  const $defs: Record<string, ObjectSchema> = {
    session: kindDef('session', "A session's facts as the index knows them when the record is written; written again as they change.", {
      session: str,
      rollout: { ...str, description: 'The rollout file read: the session id, unless a thread has several files.' },
      title: strOrNull,
      name: strOrNull,
      file: str,
      generation: strOrNull,
      history_mode: strOrNull,
      created: time,
      updated: time,
      cwd: strOrNull,
      git: exported.$defs.session!.properties.git,
      model: strOrNull,
      provider: strOrNull,
      cli_version: strOrNull,
      originator: strOrNull,
      source: { description: 'session_meta.source as Codex wrote it: a string or an object.' },
      forked_from: strOrNull,
      parent_thread: strOrNull,
      archived: { type: 'boolean' },
      turns: nonNegInt,
      tokens: { ...nonNegInt, description: "The thread's token total from its last token count." },
    }),
    usage: kindDef('usage', 'One model response, counted once (as rollout-usage counts it).', {
      session: str,
      turn: nonNegInt,
      time,
      model: strOrNull,
      tier: { ...strOrNull, description: 'The service tier (fast, flex, ...) when not the default.' },
      input_tokens: { ...nonNegInt, description: 'Input tokens, cached ones included.' },
      cached_input_tokens: nonNegInt,
      cache_write_input_tokens: nonNegInt,
      output_tokens: { ...nonNegInt, description: 'Output tokens, reasoning ones included.' },
      reasoning_output_tokens: nonNegInt,
      total_tokens: nonNegInt,
    }),
  };
  for (const k of ['turn', 'message', 'reasoning', 'tool_call', 'compaction']) $defs[k] = withIds(exported.$defs[k]!);
  $defs.tokens = exported.$defs.tokens!;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `urn:rollout-feed:record:v${MODEL_VERSION}`,
    title: 'rollout-feed record',
    description:
      "One line of rollout-feed: a session's facts, or a record appended to a session (rollout-export's NDJSON items, and the usage of each model response), with a stable record id. Turn numbers count the session's own file.",
    oneOf: FEED_KINDS.map((k) => ({ $ref: `#/$defs/${k}` })),
    $defs,
  };
}

/** Every column any kind has, in the order first seen, with the JSON Schema of its first kind. */
function columns(): Array<[string, any]> {
  const { $defs } = feedSchema();
  const seen = new Map<string, any>();
  for (const k of FEED_KINDS) for (const [name, s] of Object.entries($defs[k]!.properties)) if (!seen.has(name)) seen.set(name, s);
  return [...seen];
}

/** A JSON Schema type as DuckDB's. */
function duckType(s: any): string {
  const texts = (v: unknown[]) => v.every((x) => typeof x === 'string' || x === null);
  if (typeof s.const === 'string' || (Array.isArray(s.enum) && texts(s.enum))) return 'VARCHAR';
  const types = new Set([s.type ?? []].flat());
  if (s.format === 'date-time') return 'TIMESTAMPTZ';
  if (types.has('integer')) return 'BIGINT';
  if (types.has('boolean')) return 'BOOLEAN';
  if (types.has('string') && types.size <= 2 && !s.oneOf) return 'VARCHAR';
  return 'JSON';
}

/**
 * DuckDB: a table macro reading feed files with the schema's types, one column per field of any
 * kind (null where a kind has no such field). Also MotherDuck's SQL.
 */
export function duckdbSql(): string {
  const cols = columns()
    .map(([name, s]) => `${name}: '${duckType(s)}'`)
    .join(', ');
  return `-- rollout-feed records (schema v${MODEL_VERSION}), read with the types of 'rollout-feed --schema json'.
CREATE OR REPLACE MACRO rollout_feed(files) AS TABLE
  SELECT * FROM read_json(files, format = 'newline_delimited', filename = true, columns = {${cols}});
`;
}

/**
 * PostgreSQL: a staging table that `\copy` fills with raw lines, the records table keyed by
 * record_id, and the function that moves a batch from one to the other (the later record of an id
 * wins, in the batch and across batches), with views of the two questions teams ask most.
 */
export function postgresSql(): string {
  return `-- rollout-feed records (schema v${MODEL_VERSION}) in PostgreSQL 12 or later.
CREATE TABLE IF NOT EXISTS rollout_feed_staging (seq bigserial PRIMARY KEY, doc jsonb NOT NULL);

CREATE TABLE IF NOT EXISTS rollout_records (
  record_id text PRIMARY KEY,
  host      text,
  kind      text NOT NULL,
  session   text NOT NULL,
  turn      integer,
  time      timestamptz,
  doc       jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS rollout_records_kind_time ON rollout_records (kind, time);
CREATE INDEX IF NOT EXISTS rollout_records_session ON rollout_records (session);

-- Moves the staged lines into rollout_records (an id seen again replaces what was there) and empties
-- the staging table. Returns the records written.
CREATE OR REPLACE FUNCTION rollout_feed_load() RETURNS bigint LANGUAGE sql AS $$
  WITH latest AS (
    SELECT DISTINCT ON (doc->>'record_id') doc FROM rollout_feed_staging ORDER BY doc->>'record_id', seq DESC
  ), upserted AS (
    INSERT INTO rollout_records (record_id, host, kind, session, turn, time, doc)
    SELECT doc->>'record_id', doc->>'host', doc->>'kind', doc->>'session', (doc->>'turn')::integer,
           coalesce(doc->>'time', doc->>'updated')::timestamptz, doc
    FROM latest
    ON CONFLICT (record_id) DO UPDATE SET host = EXCLUDED.host, kind = EXCLUDED.kind, session = EXCLUDED.session,
      turn = EXCLUDED.turn, time = EXCLUDED.time, doc = EXCLUDED.doc
    RETURNING 1
  ), emptied AS (
    DELETE FROM rollout_feed_staging WHERE seq <= (SELECT max(seq) FROM rollout_feed_staging)
  )
  SELECT count(*) FROM upserted;
$$;

CREATE OR REPLACE VIEW rollout_tool_calls AS
  SELECT record_id, host, session, turn, time, doc->>'tool' AS tool, doc->>'command' AS command, doc->>'cwd' AS cwd,
         (doc->>'exit_code')::integer AS exit_code, (doc->>'duration_ms')::bigint AS duration_ms
  FROM rollout_records WHERE kind = 'tool_call';

CREATE OR REPLACE VIEW rollout_usage AS
  SELECT record_id, host, session, turn, time, doc->>'model' AS model, doc->>'tier' AS tier,
         (doc->>'input_tokens')::bigint AS input_tokens, (doc->>'cached_input_tokens')::bigint AS cached_input_tokens,
         (doc->>'output_tokens')::bigint AS output_tokens, (doc->>'reasoning_output_tokens')::bigint AS reasoning_output_tokens,
         (doc->>'total_tokens')::bigint AS total_tokens
  FROM rollout_records WHERE kind = 'usage';
`;
}

/** The \\copy that stages raw lines: CSV with a quote and a delimiter no JSON line holds, so each line arrives as written. */
export const POSTGRES_COPY = "\\copy rollout_feed_staging(doc) from stdin with (format csv, quote e'\\x01', delimiter e'\\x02')";
