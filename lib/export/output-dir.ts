// An export into a directory: one `<id>.<format>` per session. Within a run nothing is written twice
// and nothing is overwritten: the same file named again (by id and by path, twice in --batch) is
// exported once, and a different file that would take a name already written this run (an active
// and an archived copy of one thread, two copies given by path) is an error about that file. A file
// left by an earlier run is replaced: exporting again brings it up to date.
import { join } from 'node:path';
import { RolloutError, warn } from '../cli/errors.js';
import { realPath } from '../core/real-path.js';
import type { Target } from '../home/resolve.js';
import { writeFileExport, type Format, type PreparedExport } from './export.js';
import type { SessionFacts } from '../items/model.js';

/** The file name of a session's export in an output directory. */
export const exportName = (facts: SessionFacts, format: Format): string => `${facts.session.replace(/[^\w.-]/g, '_')}.${format}`;

export class OutputDir {
  /** The real path of every source file taken in this run, exported or failed. */
  private readonly taken = new Set<string>();
  /** Every output path written in this run, to the label of its source. */
  private readonly written = new Map<string, string>();

  constructor(
    readonly dir: string,
    readonly format: Format,
  ) {}

  /** Whether `target` was taken already in this run (said as a warning): then it is not taken again. */
  already(target: Target): boolean {
    const sources = this.sourcesOf(target);
    if (sources.some((f) => this.taken.has(f))) {
      warn(`${target.label}: named again; each file is exported once`);
      return true;
    }
    for (const f of sources) this.taken.add(f);
    return false;
  }

  /** Writes `prepared` as its session's file, unless another source of this run has that name. */
  async write(target: Target, prepared: PreparedExport): Promise<void> {
    const path = join(this.dir, exportName(prepared.facts, this.format));
    const other = this.written.get(path);
    if (other !== undefined) {
      throw new RolloutError(
        `would overwrite ${path}, written earlier in this run from ${other} (the same session id); export this one on its own with -o FILE`,
        { file: target.label },
      );
    }
    await writeFileExport(path, prepared);
    this.written.set(path, target.label);
  }

  /** The files that are `target` (a plain file and its compressed twin are one), as real paths; none for stdin. */
  private sourcesOf(target: Target): string[] {
    return target.stdin ? [] : [target.file.path, ...target.file.files].map(realPath);
  }
}
