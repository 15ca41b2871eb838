// Users' own passes: `--load-pass ./my-pass.ts` imports the module (TypeScript works because
// lathe runs under tsx), takes the passes it exports and registers them, so pipeline text can
// name them like built-in ones.
//
// A module may export passes by name (`export const myPass: Pass = …`), as its default export,
// or as a default-exported array. An export counts as a pass when it is an object with a `run`
// function; it is then checked (kebab-case name, summary, option specs) and any problem is
// reported naming the file. Other exports (helpers, rules, constants) are ignored.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LatheError } from '../ir/errors.ts';
import type { Pass } from '../passes/pass.ts';
import { checkPass, passRegistry, type PassRegistry } from '../passes/registry.ts';

/** Imports `file` (relative to the working directory) and registers its passes; returns them. */
export async function loadPassModule(file: string, registry: PassRegistry = passRegistry()): Promise<Pass[]> {
  const abs = resolve(file);
  if (!existsSync(abs)) throw new LatheError('UsageError', `--load-pass: no such file`, { file });
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (e) {
    const why = e instanceof LatheError ? e.message : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    // Node reads a .js file as CommonJS unless a package.json beside it says "type": "module".
    const hint = abs.endsWith('.js') && /require|import statement|export/.test(why)
      ? ' (a .js file using import/export needs "type": "module" in a package.json beside it; or name it .mjs or .ts)'
      : '';
    throw new LatheError('PassError', `cannot load this pass module: ${why}${hint}`, { file });
  }
  const found: Pass[] = [];
  const consider = (v: unknown) => {
    if (!looksLikePass(v) || found.includes(v as Pass)) return;
    checkPass(v, file);
    found.push(v);
  };
  for (const [key, v] of Object.entries(mod)) {
    if (key === 'default' && Array.isArray(v)) {
      v.forEach((p, i) => {
        if (!looksLikePass(p)) throw new LatheError('PassError', `default export: entry ${i} is not a pass (an object with a run function)`, { file });
        consider(p);
      });
    } else {
      consider(v);
    }
  }
  if (found.length === 0) {
    throw new LatheError('PassError', `exports no pass (an object {name, summary, options, run}); exports: ${Object.keys(mod).join(', ') || '(none)'}`, { file });
  }
  for (const p of found) registry.register(p, file);
  return found;
}

function looksLikePass(v: unknown): v is Pass {
  return typeof v === 'object' && v !== null && typeof (v as { run?: unknown }).run === 'function';
}

/** Loads each file in order (a later one may not reuse a name an earlier one registered). */
export async function loadPassModules(files: readonly string[], registry: PassRegistry = passRegistry()): Promise<Pass[]> {
  const all: Pass[] = [];
  for (const f of files) all.push(...(await loadPassModule(f, registry)));
  return all;
}
