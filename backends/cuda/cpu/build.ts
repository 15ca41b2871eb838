// Compile CUDA source for the CPU (g++ against cuda_cpu.h) and run it: the numerical check of
// CUDA kernels on a machine without a GPU. See docs/cuda-cpu.md.
//
//   const exe = compileCpu(sourceText);                 // or compileCpu(['a.cu', 'b.cu'])
//   const r = runCpu(exe, ['arg'], { order: 'reverse' });
//
// Executables are cached under <repo>/.cache/cuda-cpu/ by a sha256 of the sources, the harness
// headers, the flags and the compiler version; every header a build included (g++ -MMD) is
// re-hashed on a cache hit, so an edited include rebuilds.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding cuda_cpu.h and lathe_cuda_compat.h (passed to g++ as -I). */
export const cudaCpuDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(cudaCpuDir, '../../..');
/** Default cache folder: <repo>/.cache/cuda-cpu. */
export const defaultCacheDir = join(repoRoot, '.cache', 'cuda-cpu');

export interface CompileOptions {
  /** AddressSanitizer + UndefinedBehaviorSanitizer build (-O1 -g, errors abort). */
  sanitize?: boolean;
  /** Extra -I folders (the harness folder is always first). */
  includeDirs?: string[];
  /** -D macros: { N: 4, FAST: true } gives -DN=4 -DFAST; strings are passed as written. */
  defines?: Record<string, string | number | boolean>;
  /** Optimisation flag; default '-O2' ('-O1' with sanitize). */
  opt?: string;
  /** -Werror (default true; -Wall -Wextra are always on). */
  werror?: boolean;
  /** Further flags, appended last. */
  extraFlags?: string[];
  /** The C++ compiler; default $CXX or 'g++'. */
  compiler?: string;
  /** Cache folder; default <repo>/.cache/cuda-cpu. */
  cacheDir?: string;
}

// ASCII quotes and English messages from g++, whatever the locale.
const gccEnv = { ...process.env, LC_ALL: 'C' };

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

const versions = new Map<string, string>();
function compilerVersion(cxx: string): string {
  let v = versions.get(cxx);
  if (v === undefined) {
    const r = spawnSync(cxx, ['--version'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(`cannot run the C++ compiler '${cxx}': ${r.error?.message ?? r.stderr}`);
    v = r.stdout.split('\n')[0];
    versions.set(cxx, v);
  }
  return v;
}

function harnessHeaders(): { name: string; hash: string }[] {
  return readdirSync(cudaCpuDir)
    .filter((f) => /\.(h|hpp|cpp)$/.test(f))
    .sort()
    .map((name) => ({ name, hash: sha256(readFileSync(join(cudaCpuDir, name))) }));
}

/** The first error lines of a compiler's output: from the first `error:` line on, at most `max`. */
export function firstErrorLines(stderr: string, max = 20): string {
  const lines = stderr.split('\n');
  let start = lines.findIndex((l) => /\berror\b/.test(l));
  if (start < 0) start = 0;
  // Keep the "In function ..." context line just above the first error.
  if (start > 0 && /In (member )?function|In instantiation|required from/.test(lines[start - 1])) start -= 1;
  return lines.slice(start, start + max).join('\n').trimEnd();
}

function depsValid(depsFile: string): boolean {
  try {
    const deps = JSON.parse(readFileSync(depsFile, 'utf8')) as Record<string, string>;
    return Object.entries(deps).every(([file, hash]) => existsSync(file) && sha256(readFileSync(file)) === hash);
  } catch {
    return false;
  }
}

function parseDepFile(text: string): string[] {
  const body = text.replace(/\\\n/g, ' ');
  const colon = body.indexOf(': ');
  const list = colon < 0 ? '' : body.slice(colon + 2);
  const out: string[] = [];
  for (const m of list.matchAll(/((?:\\ |[^\s])+)/g)) out.push(m[1].replace(/\\ /g, ' '));
  return out;
}

/**
 * Compile CUDA source with g++ against the CPU harness and return the executable's path.
 * `source`: the text of one translation unit, or an array of file paths (.cu/.cpp, all compiled
 * as C++). Cached; a compile error throws an Error whose message holds g++'s first error lines.
 */
export function compileCpu(source: string | string[], options: CompileOptions = {}): string {
  const cxx = options.compiler ?? process.env.CXX ?? 'g++';
  const cacheDir = options.cacheDir ?? defaultCacheDir;
  const sanitize = options.sanitize ?? false;
  const flags = [
    '-std=c++17',
    options.opt ?? (sanitize ? '-O1' : '-O2'),
    '-Wall',
    '-Wextra',
    ...(options.werror === false ? [] : ['-Werror']),
    '-pthread',
    ...(sanitize ? ['-g', '-fsanitize=address,undefined', '-fno-omit-frame-pointer', '-fno-sanitize-recover=all'] : []),
    `-I${cudaCpuDir}`,
    ...(options.includeDirs ?? []).map((d) => `-I${resolve(d)}`),
    ...Object.entries(options.defines ?? {}).flatMap(([k, v]) => (v === false ? [] : [v === true ? `-D${k}` : `-D${k}=${v}`])),
    ...(options.extraFlags ?? []),
  ];
  const inline = typeof source === 'string';
  const files = inline ? [] : source.map((f) => resolve(f));
  const sources = inline
    ? [{ name: 'source.cu', hash: sha256(source) }]
    : files.map((f) => {
        if (!existsSync(f)) throw new Error(`compileCpu: no such source file: ${f}`);
        return { name: f, hash: sha256(readFileSync(f)) };
      });
  const key = sha256(JSON.stringify({ v: 1, cxx, version: compilerVersion(cxx), flags, sources, headers: harnessHeaders() })).slice(0, 32);
  const dir = join(cacheDir, key);
  const exe = join(dir, 'prog');
  const depsFile = join(dir, 'deps.json');
  if (existsSync(exe) && depsValid(depsFile)) return exe;

  mkdirSync(dir, { recursive: true });
  let inputs = files;
  if (inline) {
    const src = join(dir, 'source.cu');
    writeFileSync(src, source);
    inputs = [src];
  }
  const tmp = `${exe}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const depTmp = `${tmp}.d`;
  // One translation unit at a time keeps -MF simple; several files are compiled to objects first.
  const depTexts: string[] = [];
  const objects: string[] = [];
  const fail = (stderr: string, status: number | null, what: string) => {
    for (const f of [tmp, depTmp, ...objects]) rmSync(f, { force: true });
    const names = (inline ? ['<source text>'] : files.map((f) => basename(f))).join(', ');
    throw new Error(`${cxx} failed (exit ${status}) ${what} ${names}:\n${firstErrorLines(stderr)}`);
  };
  if (inputs.length === 1) {
    const r = spawnSync(cxx, [...flags, '-MMD', '-MF', depTmp, '-x', 'c++', inputs[0], '-x', 'none', '-o', tmp], { encoding: 'utf8', env: gccEnv });
    if (r.error) throw new Error(`cannot run ${cxx}: ${r.error.message}`);
    if (r.status !== 0) fail(r.stderr, r.status, 'compiling');
    depTexts.push(readFileSync(depTmp, 'utf8'));
  } else {
    for (const [i, f] of inputs.entries()) {
      const obj = `${tmp}.${i}.o`;
      objects.push(obj);
      const r = spawnSync(cxx, [...flags, '-MMD', '-MF', depTmp, '-x', 'c++', '-c', f, '-o', obj], { encoding: 'utf8', env: gccEnv });
      if (r.error) throw new Error(`cannot run ${cxx}: ${r.error.message}`);
      if (r.status !== 0) fail(r.stderr, r.status, 'compiling');
      depTexts.push(readFileSync(depTmp, 'utf8'));
    }
    const r = spawnSync(cxx, [...flags, ...objects, '-o', tmp], { encoding: 'utf8', env: gccEnv });
    if (r.status !== 0) fail(r.stderr, r.status, 'linking');
  }
  const deps: Record<string, string> = {};
  for (const text of depTexts)
    for (const f of parseDepFile(text)) {
      const p = resolve(f);
      if (existsSync(p)) deps[p] = sha256(readFileSync(p));
    }
  writeFileSync(depsFile, JSON.stringify(deps, null, 1));
  renameSync(tmp, exe);
  for (const f of [depTmp, ...objects]) rmSync(f, { force: true });
  return exe;
}

export type FiberOrder = 'forward' | 'reverse' | 'random';

export interface RunOptions {
  /** LATHE_CUDA_CPU_ORDER: the order fibers start and resume after each barrier. */
  order?: FiberOrder;
  /** LATHE_CUDA_CPU_SEED for the random order. */
  seed?: number;
  /** LATHE_CUDA_CPU_WORKERS: worker threads (blocks run in parallel). */
  workers?: number;
  /** Further environment variables (on top of process.env). */
  env?: Record<string, string>;
  /** Kill after this many milliseconds (default 120000). */
  timeoutMs?: number;
  /** Standard input. */
  input?: string | Buffer;
  cwd?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** Exit status, or null when killed by a signal. */
  status: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  ms: number;
}

/** Run an executable from compileCpu with the harness's environment variables set. */
export function runCpu(exe: string, args: string[] = [], options: RunOptions = {}): RunResult {
  const env: Record<string, string | undefined> = {
    ...process.env,
    // Leak checking is off: the worker pool lives until exit by design.
    ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=0',
    UBSAN_OPTIONS: 'print_stacktrace=1',
    ...(options.order ? { LATHE_CUDA_CPU_ORDER: options.order } : {}),
    ...(options.seed !== undefined ? { LATHE_CUDA_CPU_SEED: String(options.seed) } : {}),
    ...(options.workers !== undefined ? { LATHE_CUDA_CPU_WORKERS: String(options.workers) } : {}),
    ...options.env,
  };
  const t0 = performance.now();
  const r = spawnSync(exe, args, {
    env,
    cwd: options.cwd,
    input: options.input,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = performance.now() - t0;
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw new Error(`cannot run ${exe}: ${r.error.message}`);
  return {
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    status: r.status,
    signal: r.signal,
    timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT',
    ms,
  };
}
