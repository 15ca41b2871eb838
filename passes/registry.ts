// Pass names → passes. A registry holds the built-in passes (passes/index.ts) and the passes
// users load (compiler/plugins.ts); pipeline text is read against one. Tests make their own
// registry so a test-only pass never leaks into the global one.
import { LatheError } from '../ir/errors.ts';
import { BUILTIN_PASSES } from './index.ts';
import type { OptionSpec, Pass } from './pass.ts';

const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** Option keys: camelCase or kebab-case words (pipeline text accepts either spelling). */
const OPTION_KEY = /^[a-z][a-zA-Z0-9]*(-[a-z0-9]+)*$/;
/** Words pipeline text gives a meaning of its own. */
const RESERVED = new Set(['default']);

export class PassRegistry {
  private readonly passes = new Map<string, { pass: Pass; origin: string }>();

  /** Adds a pass; `origin` (a file, 'built-in') is named in errors about it. */
  register(pass: Pass, origin = 'built-in'): void {
    checkPass(pass, origin);
    const had = this.passes.get(pass.name);
    if (had) {
      throw new LatheError('PassError', `a pass named '${pass.name}' is already registered (from ${had.origin})`, { file: origin === 'built-in' ? undefined : origin });
    }
    this.passes.set(pass.name, { pass, origin });
  }

  lookup(name: string): Pass | undefined {
    return this.passes.get(name)?.pass;
  }

  originOf(name: string): string | undefined {
    return this.passes.get(name)?.origin;
  }

  /** Every pass, sorted by name. */
  all(): Pass[] {
    return [...this.passes.values()].map((e) => e.pass).sort((a, b) => a.name.localeCompare(b.name));
  }

  names(): string[] {
    return this.all().map((p) => p.name);
  }
}

/** A registry holding the built-in passes. */
export function builtinRegistry(): PassRegistry {
  const r = new PassRegistry();
  for (const p of BUILTIN_PASSES) r.register(p);
  return r;
}

// The process-wide registry the CLI uses: built in passes plus --load-pass ones. Filled on first
// use so that importing this module never evaluates pass code in a half-loaded import cycle.
let global: PassRegistry | undefined;

export function passRegistry(): PassRegistry {
  return (global ??= builtinRegistry());
}

export function registerPass(pass: Pass, origin?: string): void {
  passRegistry().register(pass, origin);
}

export function lookupPass(name: string): Pass | undefined {
  return passRegistry().lookup(name);
}

export function allPasses(): Pass[] {
  return passRegistry().all();
}

/**
 * Throws a PassError naming `origin` unless `p` has the shape of a Pass: a kebab-case name, a
 * summary, an options object of well-formed specs (default of the declared type, in `choices`)
 * and a run function. Plain JS plugins get no type checking, so this is their only check.
 */
export function checkPass(p: unknown, origin: string): asserts p is Pass {
  const where = { file: origin === 'built-in' ? undefined : origin };
  const named = typeof p === 'object' && p !== null && typeof (p as Pass).name === 'string' ? `pass '${(p as Pass).name}'` : 'a pass';
  const bad = (why: string): never => {
    throw new LatheError('PassError', `${named} is malformed: ${why}`, where);
  };
  if (typeof p !== 'object' || p === null) return bad(`expected an object, got ${p === null ? 'null' : typeof p}`);
  const pass = p as Partial<Pass>;
  if (typeof pass.name !== 'string' || !KEBAB.test(pass.name)) {
    bad(`name must be a kebab-case string such as 'fold-constants', got ${JSON.stringify(pass.name)}`);
  }
  if (RESERVED.has(pass.name!)) bad(`'${pass.name}' is reserved in pipeline text`);
  if (typeof pass.summary !== 'string' || pass.summary.trim() === '') bad('summary must be a non-empty string');
  if (typeof pass.run !== 'function') bad('run must be a function (model, ctx) => model');
  if (typeof pass.options !== 'object' || pass.options === null) bad('options must be an object (use {} for none)');
  for (const [key, spec] of Object.entries(pass.options as Record<string, OptionSpec>)) {
    if (!OPTION_KEY.test(key)) bad(`option name '${key}' must be camelCase or kebab-case`);
    checkOptionSpec(key, spec, bad);
  }
  for (const list of ['requires', 'preserves'] as const) {
    const v = pass[list];
    if (v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) bad(`${list} must be an array of analysis names`);
  }
}

function checkOptionSpec(key: string, spec: OptionSpec, bad: (why: string) => never): void {
  if (typeof spec !== 'object' || spec === null) bad(`option '${key}' must be {type, default, summary}`);
  if (!['number', 'string', 'boolean'].includes(spec.type)) bad(`option '${key}' has type ${JSON.stringify(spec.type)}; want 'number', 'string' or 'boolean'`);
  if (typeof spec.default !== spec.type) bad(`option '${key}' is a ${spec.type} but its default is ${JSON.stringify(spec.default)}`);
  if (typeof spec.summary !== 'string') bad(`option '${key}' needs a summary`);
  if (spec.choices !== undefined) {
    if (spec.type !== 'string' || !Array.isArray(spec.choices) || !spec.choices.every((c) => typeof c === 'string')) {
      bad(`option '${key}': choices must be a list of strings, on a string option`);
    }
    if (!spec.choices.includes(spec.default as string)) bad(`option '${key}': default ${JSON.stringify(spec.default)} is not one of its choices`);
  }
}
