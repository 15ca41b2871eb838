// Which ONNX IR version an exported model declares. Readers check it against what they know (ORT
// 1.30 reads up to IR 11), so the exporter writes the lowest version that is still correct: the
// one ONNX released with the model's opsets (ONNX's versioning table), raised where the model uses
// something younger than that opset (a dtype, an optional type, an initializer that is not an
// input).
import type { DType } from '../dtype.ts';
import type { Graph, Model } from '../graph.ts';
import { ONNX_DOMAIN, subgraphsOf } from '../graph.ts';
import type { ValueType } from '../types.ts';

/** IR version ONNX shipped with each ai.onnx opset (onnx/helper.py VERSION_TABLE). */
export function irForOnnxOpset(v: number): number {
  if (v <= 8) return 3;
  if (v === 9) return 4;
  if (v === 10) return 5;
  if (v === 11) return 6;
  if (v <= 14) return 7;
  if (v <= 18) return 8;
  if (v <= 20) return 9;
  if (v <= 22) return 10;
  return 11;
}

/** The same for the other official domains (ai.onnx.ml 1..5, the training domains). */
function irForOpset(domain: string, v: number): number {
  if (domain === ONNX_DOMAIN) return irForOnnxOpset(v);
  if (domain === 'ai.onnx.ml') return [3, 3, 6, 8, 9, 10][Math.min(v, 5)]!;
  if (domain === 'ai.onnx.training' || domain === 'ai.onnx.preview.training') return 7;
  return 3;
}

/** IR version that introduced each dtype, for those younger than IR 3. */
const DTYPE_IR: Partial<Record<DType, number>> = {
  f8e4m3fn: 9, f8e4m3fnuz: 9, f8e5m2: 9, f8e5m2fnuz: 9,
  i4: 10, u4: 10,
  f4e2m1: 11,
};

export interface IrNeeds {
  /** From the opsets alone (the default). */
  fromOpsets: number;
  /** From what the graph uses: the least version that can hold it, and why. */
  fromFeatures: number;
  reason?: string;
}

export function irNeeds(model: Model, externalData: boolean): IrNeeds {
  let fromOpsets = 3;
  for (const [domain, v] of Object.entries(model.opsets)) fromOpsets = Math.max(fromOpsets, irForOpset(domain, v));
  const needs: IrNeeds = { fromOpsets, fromFeatures: 3 };
  const need = (ir: number, reason: string) => {
    if (ir > needs.fromFeatures) Object.assign(needs, { fromFeatures: ir, reason });
  };
  // IR 4 let initializers be something other than graph inputs, and brought external data.
  if (externalData) need(4, 'external data');
  const seeType = (t: ValueType): void => {
    if (t.kind === 'optional') need(8, 'optional types');
    if (t.kind === 'tensor') seeDtype(t.dtype);
    else seeType(t.elem);
  };
  const seeDtype = (d: DType) => {
    const ir = DTYPE_IR[d];
    if (ir) need(ir, `${d} tensors`);
  };
  const walk = (g: Graph): void => {
    if (g.constants.length) need(4, 'initializers that are not graph inputs');
    for (const v of g.inputs) seeType(v.type);
    for (const c of [...g.constants, ...(g.inputDefaults ?? [])]) seeDtype(c.tensor.dtype);
    for (const n of g.nodes) {
      for (const o of n.outputs) if (o) seeType(o.type);
      for (const a of Object.values(n.attrs)) {
        if (a.kind === 'type') seeType(a.value);
        else if (a.kind === 'types') a.value.forEach(seeType);
        else if (a.kind === 'tensor') seeDtype(a.value.dtype);
        else if (a.kind === 'tensors') for (const t of a.value) seeDtype(t.dtype);
      }
      for (const s of subgraphsOf(n)) walk(s.graph);
    }
  };
  walk(model.graph);
  return needs;
}
