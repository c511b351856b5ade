// DuckDB embedded (@duckdb/node-api: its binary comes as a platform npm package, nothing to compile,
// and the JSON and Parquet extensions are built into it, so read_json, COPY ... (FORMAT parquet) and
// read_parquet work offline).
import { DuckDBInstance } from '@duckdb/node-api';

export interface DuckDB {
  /**
   * The rows as objects, values as @duckdb/node-api's getRowObjectsJS gives them, except that integers
   * (BIGINT, and the HUGEINT that sum() and count() return) are numbers when they fit, bigints when not.
   * TIMESTAMP, TIMESTAMPTZ and DATE come back as Dates (to the millisecond, naive times read as UTC),
   * JSON columns as strings, DECIMAL as numbers, BLOB as Uint8Array, LIST as arrays, STRUCT as objects.
   */
  all(sql: string): Promise<Record<string, unknown>[]>;
  run(sql: string): Promise<void>;
  close(): Promise<void>;
}

// Tests compare with numbers from JSON; a bigint is kept only where a number would lose digits.
function narrow(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= Number.MIN_SAFE_INTEGER && v <= Number.MAX_SAFE_INTEGER ? Number(v) : v;
  if (Array.isArray(v)) return v.map(narrow);
  if (v && typeof v === 'object' && !(v instanceof Date) && !ArrayBuffer.isView(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, narrow(x)]));
  }
  return v;
}

/** A fresh in-memory database. Relative paths in SQL are the process's cwd's. */
export async function duckdb(): Promise<DuckDB> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  return {
    all: async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJS().map((row) => narrow(row) as Record<string, unknown>),
    run: async (sql) => void (await conn.run(sql)),
    close: async () => {
      conn.closeSync();
      instance.closeSync();
    },
  };
}
