// The pass manager: runs a pipeline on a model, with the instrumentation MLIR's pass manager
// gives (verify after each pass, print before/after, numbered dumps, timing) and every failure
// naming the pass. It imports no pass, so passes that run other passes may import it.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freeze } from 'immer';
import { LatheError } from '../ir/errors.ts';
import type { Model } from '../ir/graph.ts';
import { printModel } from '../ir/text/print.ts';
import { SidecarWeights, type WeightSink } from '../ir/text/weights.ts';
import type { FileRange } from '../ir/tensor-data.ts';
import { verifyModel } from '../ir/verify.ts';
import type { Analysis, OptionValue, Pass, PassContext } from './pass.ts';
import type { Pipeline } from './pipeline.ts';

export interface RunOptions {
  /** Verify the input, then the model after every pass that changed it (default true). */
  verifyEach?: boolean;
  /** Print the model after every pass. */
  printIrAfterAll?: boolean;
  /** Print the model after each pass that changed it (returned a new object). */
  printIrAfterChange?: boolean;
  /** Print the model before each pass with one of these names. */
  printIrBefore?: readonly string[];
  /** Write `000-input.lir`, `001-<pass>.lir`, … here, with one shared weight file. */
  dumpDir?: string;
  /** Write a table of per-pass times to the sink at the end. */
  timePasses?: boolean;
  /** Where prints and the timing table go (default: standard error). */
  out?: (text: string) => void;
  /** The model's file, for messages. */
  file?: string;
}

export interface PassRecord {
  /** The pass name, with its index when a pipeline runs a pass twice (`cse#2`). */
  readonly pass: string;
  readonly ms: number;
  readonly changed: boolean;
  /** Time spent verifying after the pass. */
  readonly verifyMs: number;
}

export interface PipelineResult {
  readonly model: Model;
  readonly records: readonly PassRecord[];
}

/**
 * Caches analysis results by analysis name for one model object. When a pass changes the model,
 * `advance` keeps only what the pass declared it preserves.
 */
export class AnalysisCache {
  private readonly results = new Map<string, unknown>();
  constructor(private model: Model) {}

  get<T>(a: Analysis<T>): T {
    if (!this.results.has(a.name)) this.results.set(a.name, a.compute(this.model));
    return this.results.get(a.name) as T;
  }

  /** Moves to `next`: unchanged keeps everything; otherwise only `preserves` survive. */
  advance(next: Model, preserves: readonly string[] = []): void {
    if (next === this.model) return;
    for (const name of [...this.results.keys()]) if (!preserves.includes(name)) this.results.delete(name);
    this.model = next;
  }

  /** Names cached right now (for tests and debugging). */
  cached(): string[] {
    return [...this.results.keys()];
  }
}

/** Runs `pipeline` on `model`. The input is never modified (it is frozen first). */
export function runPipeline(model: Model, pipeline: Pipeline, opts: RunOptions = {}): PipelineResult {
  const out = opts.out ?? ((s: string) => void process.stderr.write(s));
  const verifyEach = opts.verifyEach ?? true;
  const records: PassRecord[] = [];
  const dump = opts.dumpDir ? new Dumper(opts.dumpDir) : undefined;
  // Frozen, a pass that edits its input in place (without immer) fails at once, naming the pass,
  // instead of corrupting the caller's model. produce() already returns frozen models.
  let current = freeze(model, true);
  const cache = new AnalysisCache(current);
  const label = labeller(pipeline);
  try {
    if (verifyEach) {
      try {
        verifyModel(current, { file: opts.file });
      } catch (e) {
        throw e instanceof LatheError ? new LatheError(e.kind, `the input does not verify (before any pass ran): ${e.detail}`, e.where) : e;
      }
    }
    dump?.write('input', current);
    for (const [i, entry] of pipeline.entries()) {
      const name = label(i);
      if (opts.printIrBefore?.includes(entry.pass.name)) out(banner(`before '${name}'`, current));
      const ctx: PassContext<Record<string, OptionValue>> = { options: entry.options, analysis: (a) => cache.get(a) };
      const t0 = performance.now();
      let next: Model;
      try {
        next = entry.pass.run(current, ctx);
      } catch (e) {
        throw passFailed(name, e);
      }
      const ms = performance.now() - t0;
      if (!isModel(next)) throw new LatheError('PassError', `pass '${name}' returned ${describe(next)} instead of a model`);
      const changed = next !== current;
      next = freeze(next, true);
      let verifyMs = 0;
      if (verifyEach && changed) {
        const v0 = performance.now();
        try {
          verifyModel(next, { file: opts.file });
        } catch (e) {
          dump?.write(`${name}.broken`, next, true);
          if (e instanceof LatheError) throw new LatheError(e.kind, `pass '${name}' broke the IR: ${e.detail}`, e.where);
          throw passFailed(name, e);
        }
        verifyMs = performance.now() - v0;
      }
      cache.advance(next, entry.pass.preserves);
      current = next;
      records.push({ pass: name, ms, changed, verifyMs });
      if (opts.printIrAfterAll || (opts.printIrAfterChange && changed)) {
        out(banner(`after '${name}'${changed ? '' : ' (unchanged)'}`, current));
      }
      dump?.write(name, current);
    }
  } finally {
    dump?.close();
  }
  if (opts.timePasses) out(timingTable(records));
  return { model: current, records };
}

/** Pass names for messages; a pass that runs twice gets `#2` on its second run. */
function labeller(p: Pipeline): (i: number) => string {
  const labels = p.map((e, i) => {
    const before = p.slice(0, i).filter((x) => x.pass.name === e.pass.name).length;
    const total = p.filter((x) => x.pass.name === e.pass.name).length;
    return total > 1 ? `${e.pass.name}#${before + 1}` : e.pass.name;
  });
  return (i) => labels[i]!;
}

/** A pass's exception as a LatheError naming the pass, keeping the node/value location. */
function passFailed(name: string, e: unknown): LatheError {
  if (e instanceof LatheError) {
    // A nested pass manager (a pass running passes) already named the inner pass.
    const err = new LatheError(e.kind, `pass '${name}' failed: ${e.detail}`, e.where);
    err.stack = e.stack;
    return err;
  }
  const err = new LatheError('PassError', `pass '${name}' threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  if (e instanceof Error) err.stack = `${err.name}: ${err.message}\n(thrown at)\n${e.stack}`;
  return err;
}

function isModel(m: unknown): m is Model {
  return typeof m === 'object' && m !== null && typeof (m as Model).graph === 'object' && (m as Model).graph !== null;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  return typeof v === 'object' ? 'an object that is not a model' : `a ${typeof v}`;
}

function banner(title: string, m: Model): string {
  return `// ----- IR ${title} -----\n${printModel(m, { weights: new ElidedWeights() })}\n`;
}

/**
 * For printing to a terminal: in-memory constants too large to print inline show as a reference
 * to `<in memory>` with their size, instead of megabytes of numbers.
 */
class ElidedWeights implements WeightSink {
  private offset = 0;
  write(bytes: Uint8Array): FileRange {
    const r: FileRange = { kind: 'file', path: resolve('<in memory>'), offset: this.offset, length: bytes.length };
    this.offset += bytes.length;
    return r;
  }
  // Never asked to copy file-backed weights: they print as references where they are.
  replaces(): boolean {
    return false;
  }
}

/**
 * Numbered dumps sharing one weight file (`weights.bin`). Weights are stored once however many
 * dumps refer to them (deduplicated by content), so a 20-pass dump of a big model stays small.
 */
class Dumper {
  private n = 0;
  private readonly dir: string;
  private readonly sink: SidecarWeights;
  private readonly byHash = new Map<string, FileRange>();
  private readonly dedup: WeightSink;

  constructor(dir: string) {
    this.dir = resolve(dir);
    mkdirSync(this.dir, { recursive: true });
    this.sink = new SidecarWeights(join(this.dir, 'weights.bin'));
    this.dedup = {
      write: (bytes) => {
        const key = `${bytes.length}:${createHash('sha1').update(bytes).digest('hex')}`;
        let r = this.byHash.get(key);
        if (!r) this.byHash.set(key, (r = this.sink.write(bytes)));
        return r;
      },
      replaces: (path) => this.sink.replaces(path),
    };
  }

  write(name: string, m: Model, bestEffort = false): void {
    const file = join(this.dir, `${String(this.n++).padStart(3, '0')}-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.lir`);
    try {
      writeFileSync(file, printModel(m, { baseDir: this.dir, weights: this.dedup }));
    } catch (e) {
      // A broken model may not even print; the verifier's message is what matters then.
      if (!bestEffort) throw e;
      writeFileSync(file, `// could not print this model: ${(e as Error).message}\n`);
    }
  }

  close(): void {
    this.sink.close();
  }
}

function timingTable(records: readonly PassRecord[]): string {
  const w = Math.max(4, ...records.map((r) => r.pass.length));
  const ms = (x: number) => x.toFixed(2).padStart(10);
  const rows = records.map((r) => `${r.pass.padEnd(w)} ${ms(r.ms)} ${ms(r.verifyMs)}  ${r.changed ? 'yes' : 'no'}`);
  const sum = (f: (r: PassRecord) => number) => records.reduce((a, r) => a + f(r), 0);
  return [
    `// ----- pass timing -----`,
    `${'pass'.padEnd(w)} ${'ms'.padStart(10)} ${'verify ms'.padStart(10)}  changed`,
    ...rows,
    `${'total'.padEnd(w)} ${ms(sum((r) => r.ms))} ${ms(sum((r) => r.verifyMs))}`,
    '',
  ].join('\n');
}
