// cse: common subexpression elimination. Two nodes with the same op, domain, attributes and
// operands compute the same results (lathe's ops are pure; random ops and ops of unknown
// domains are left alone), so the later one's results are replaced by the earlier one's.
// Constants with equal dtype, shape and bytes are merged the same way (option `constants`).
// Per graph; a subgraph's nodes are compared with each other, not with the outer graph's.
import { produce } from 'immer';
import type { Attr, Graph, Model, Node } from '../ir/graph.ts';
import { ONNX_DOMAIN } from '../ir/graph.ts';
import { typeText } from '../ir/text/print.ts';
import { constantNodeValue, isPure, mapSubgraphs, renameUses } from './graph-edit.ts';
import type { Pass } from './pass.ts';
import { constKey } from './rewrite.ts';

export type CseOptions = {
  /** Merge constants with equal contents (up to `max-const-bytes` bytes each). */
  constants: boolean;
  'max-const-bytes': number;
};

export const cse: Pass<CseOptions> = {
  name: 'cse',
  summary: 'merge nodes (and constants) that compute the same value',
  options: {
    constants: { type: 'boolean', default: true, summary: 'merge constants with equal contents' },
    'max-const-bytes': { type: 'number', default: 1 << 20, summary: 'largest constant compared by contents' },
  },
  run: (model, ctx) => eliminateCommon(model, ctx.options),
};

export function eliminateCommon(model: Model, opts: Partial<CseOptions> = {}): Model {
  const o = { constants: opts.constants ?? true, maxBytes: opts['max-const-bytes'] ?? 1 << 20 };
  const g = cseGraph(model.graph, true, o);
  if (g === model.graph) return model;
  return produce(model, (d) => {
    d.graph = g as typeof d.graph;
  });
}

function cseGraph(input: Graph, isMain: boolean, o: { constants: boolean; maxBytes: number }): Graph {
  let g = input;
  // The model's returned names are its interface: a returned value is never renamed away.
  const pinned = new Set(isMain ? g.outputs : []);
  const rename = new Map<string, string>();
  const seen = new Map<string, string[]>();
  let constants = g.constants;
  if (o.constants) {
    const byKey = new Map<string, string>();
    constants = g.constants.filter((c) => {
      if (c.tensor.data.kind === 'file' || bytesOf(c.tensor) > o.maxBytes || pinned.has(c.name)) return true;
      const k = constKey(c.tensor);
      const first = byKey.get(k);
      if (first === undefined) {
        byKey.set(k, c.name);
        return true;
      }
      rename.set(c.name, first);
      return false;
    });
    // Constant nodes join the same table: equal contents, one value.
    for (const [k, name] of byKey) seen.set(`const:${k}`, [name]);
  }
  const nodes: Node[] = [];
  for (const n0 of g.nodes) {
    const n = renameNode(n0, rename);
    const key = nodeKey(n, o.maxBytes);
    const prev = key === undefined ? undefined : seen.get(key);
    if (prev && n.outputs.every((r, i) => !r || (prev[i] !== undefined && !pinned.has(r.name)))) {
      n.outputs.forEach((r, i) => r && rename.set(r.name, prev[i]!));
      continue;
    }
    if (key !== undefined && !prev) seen.set(key, n.outputs.map((r) => r?.name ?? ''));
    nodes.push(mapSubgraphs(n, (sg) => cseGraph(sg, false, o)));
  }
  const changed = rename.size > 0 || nodes.length !== g.nodes.length || nodes.some((n, i) => n !== g.nodes[i]) || constants.length !== g.constants.length;
  if (!changed) return input;
  g = { ...g, constants: constants.length === g.constants.length ? g.constants : constants, nodes };
  // Later nodes were renamed as we went; the returns (subgraph results only) are renamed here.
  return isMain ? g : renameUses(g, rename, true);
}

function renameNode(n: Node, rename: ReadonlyMap<string, string>): Node {
  if (rename.size === 0) return n;
  const g: Graph = { name: '', inputs: [], constants: [], nodes: [n], outputs: [] };
  return renameUses(g, rename, false).nodes[0]!;
}

function bytesOf(t: { shape: readonly number[] }): number {
  return t.shape.reduce((a, b) => a * b, 1) * 8;
}

/** What makes two nodes compute the same thing; undefined for nodes never merged. */
function nodeKey(n: Node, maxBytes: number): string | undefined {
  if (!isPure(n, { deterministic: true })) return undefined;
  const c = constantNodeValue(n);
  if (c) return c.data.kind !== 'file' && bytesOf(c) <= maxBytes ? `const:${constKey(c)}` : undefined;
  const attrs: string[] = [];
  for (const name of Object.keys(n.attrs).sort()) {
    const a = attrKey(n.attrs[name]!, maxBytes);
    if (a === undefined) return undefined;
    attrs.push(`${name}=${a}`);
  }
  const results = n.outputs.map((r) => (r ? '1' : '0')).join('');
  return `${n.domain || ONNX_DOMAIN}.${n.op}(${n.inputs.map((x) => x ?? '_').join(',')}){${attrs.join(',')}}${results}`;
}

function attrKey(a: Attr, maxBytes: number): string | undefined {
  switch (a.kind) {
    case 'graph':
    case 'graphs':
      return undefined; // subgraphs are not compared
    case 'tensor':
      return a.value.data.kind === 'file' || bytesOf(a.value) > maxBytes ? undefined : constKey(a.value);
    case 'tensors':
      return a.value.some((t) => t.data.kind === 'file' || bytesOf(t) > maxBytes) ? undefined : a.value.map(constKey).join(';');
    case 'type':
      return typeText(a.value);
    case 'types':
      return a.value.map(typeText).join(';');
    default:
      return `${a.kind}:${JSON.stringify(a.value)}`;
  }
}
