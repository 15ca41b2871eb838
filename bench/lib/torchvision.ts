// The torchvision models the benchmarks and checks use, made on first use into bench/out/ by
// bench/make-torchvision.py with Debian's python (python3-torch, python3-torchvision).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

const PYTHON = '/usr/bin/python3';
const SCRIPT = 'bench/make-torchvision.py';

export type TorchvisionModel = 'vit_b_16' | 'resnet50';

/** bench/out/<name>.onnx relative to the repository root. */
export const torchvisionFile = (name: TorchvisionModel): string => `bench/out/${name}.onnx`;

/** The absolute path of the model, exporting it first if it is missing (vit_b_16 ~30 s). */
export function ensureTorchvision(root: string, name: TorchvisionModel, log: (line: string) => void): string {
  const file = path.join(root, torchvisionFile(name));
  if (existsSync(file)) return file;
  log(`making ${torchvisionFile(name)} (torchvision ${name}, random weights, seed 0)`);
  const r = spawnSync(PYTHON, [path.join(root, SCRIPT), name, file], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) throw new Error(`cannot run ${PYTHON}: ${r.error.message} (see scripts/setup.sh)`);
  if (r.status !== 0 || !existsSync(file)) throw new Error(`${SCRIPT} ${name} failed (exit code ${r.status})`);
  return file;
}
