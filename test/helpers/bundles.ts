// A bundle manifest's session entry for tests, with nothing but its id and files set.
import type { BundledFile, BundledSession } from '../../lib/bundle/manifest.js';

export const bundledSession = (id: string, files: BundledFile[]): BundledSession => ({
  id,
  name: null,
  archived: false,
  parents: [],
  materialized: false,
  created_at: null,
  updated_at: null,
  cwd: null,
  model_provider: null,
  files,
});
