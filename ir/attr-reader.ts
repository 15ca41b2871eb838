// Typed reading of a node's attributes, shared by op inference (ir/infer.ts) and the reference
// interpreter (ir/interp/run.ts): a missing attribute gives the default or a clear error, and a
// present one must have the kind asked for.
import { LatheError } from './errors.ts';
import type { Attr, Node } from './graph.ts';

export interface AttrReader {
  int(name: string, dflt?: number): number;
  float(name: string, dflt?: number): number;
  string(name: string, dflt?: string): string;
  ints(name: string, dflt?: readonly number[]): readonly number[];
  floats(name: string, dflt?: readonly number[]): readonly number[];
  strings(name: string, dflt?: readonly string[]): readonly string[];
  attr(name: string): Attr | undefined;
}

export function attrReader(node: Node): AttrReader {
  const read = <T,>(name: string, kind: Attr['kind'], dflt: T | undefined): T => {
    const a = node.attrs[name];
    if (!a) {
      if (dflt === undefined) throw new LatheError('VerifyError', `missing attribute '${name}'`);
      return dflt;
    }
    // ONNX files sometimes write an integral float attribute as an int.
    if (a.kind === 'int' && kind === 'float') return a.value as T;
    if (a.kind !== kind) throw new LatheError('VerifyError', `attribute '${name}' must be ${kind}, got ${a.kind}`);
    return a.value as T;
  };
  return {
    int: (n, d) => read(n, 'int', d),
    float: (n, d) => read(n, 'float', d),
    string: (n, d) => read(n, 'string', d),
    ints: (n, d) => read(n, 'ints', d),
    floats: (n, d) => read(n, 'floats', d),
    strings: (n, d) => read(n, 'strings', d),
    attr: (n) => node.attrs[n],
  };
}
