// What a pass is: declared data (name, summary, typed options with defaults, the analyses it reads
// and those it keeps valid) plus a function from model to model. Passes edit with immer's
// `produce`, so a pass that throws leaves its input untouched, and a pass that changes nothing
// returns its input object itself (the manager uses identity to tell "changed" from "unchanged").
//
//   export const dce: Pass<{}> = {
//     name: 'dce',
//     summary: 'remove nodes whose results nobody uses',
//     options: {},
//     run: (model, ctx) => removeDeadNodes(model, ctx.analysis(useDef)),
//   };
import type { Model } from '../ir/graph.ts';

export type OptionValue = number | string | boolean;

export interface OptionSpec<T extends OptionValue = OptionValue> {
  readonly type: 'number' | 'string' | 'boolean';
  readonly default: T;
  readonly summary: string;
  /** For string options with a fixed set of values (e.g. `format=int4|nvfp4`). */
  readonly choices?: readonly string[];
}

export type OptionSpecs<O> = { readonly [K in keyof O]: OptionSpec<O[K] & OptionValue> };

/** A fact computed from a model and cached by the pass manager until a pass invalidates it. */
export interface Analysis<T> {
  readonly name: string;
  compute(model: Model): T;
}

export interface PassContext<O> {
  /** The pass's options, defaults filled in. */
  readonly options: O;
  /** The (cached) result of an analysis on the model the pass received. */
  analysis<T>(a: Analysis<T>): T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface Pass<O extends Record<string, OptionValue> = any> {
  /** kebab-case, unique: the name used in pipeline text. */
  readonly name: string;
  readonly summary: string;
  readonly options: OptionSpecs<O>;
  /** Names of analyses this pass reads (documentation; `ctx.analysis` computes on demand). */
  readonly requires?: readonly string[];
  /** Analyses still valid after this pass changed the model; all others are dropped. */
  readonly preserves?: readonly string[];
  /** Returns the new model, or the same object when nothing changed. */
  run(model: Model, ctx: PassContext<O>): Model;
}
