// The WebGPU devices lathe runs WGSL on, in Node through Dawn (npm `webgpu`):
//  - the real adapter: Mesa 25's lavapipe (llvmpipe, software Vulkan) that scripts/setup-webgpu.sh
//    unpacks into .cache/webgpu/; VK_ICD_FILENAMES is pointed at its ICD JSON before Dawn starts.
//  - the null backend (`create(['backend=null'])`): validates WGSL fully with no driver at all,
//    for fast tests that every emitted kernel compiles.
// Each is opened once per process and kept: the object `create()` returns must stay referenced
// (Dawn crashes or hangs after some dispatches once it is garbage-collected), so it is held on
// globalThis.
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeviceCaps } from './lowering.ts';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WEBGPU_CACHE = path.join(PROJECT_ROOT, '.cache', 'webgpu');
/** The ICD JSON scripts/setup-webgpu.sh writes. */
export const LAVAPIPE_ICD = path.join(WEBGPU_CACHE, 'lvp_icd.json');

export interface Gpu {
  readonly kind: 'adapter' | 'null';
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly caps: DeviceCaps;
  /** `llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6)`, or `null backend`. */
  readonly adapterName: string;
  /** Set once the device is lost (the runtime reports it naming the kernel it was running). */
  lost?: string;
}

interface DawnHold {
  gpus: Map<string, unknown>;
  opened: Map<string, Promise<Gpu | undefined>>;
  reasons: Map<string, string>;
}
const HOLD_KEY = Symbol.for('lathe.webgpu');
function hold(): DawnHold {
  const g = globalThis as unknown as Record<symbol, DawnHold | undefined>;
  return (g[HOLD_KEY] ??= { gpus: new Map(), opened: new Map(), reasons: new Map() });
}

/** Environment Dawn and Mesa read; set before Dawn is loaded (the user's own settings win). */
export function prepareEnvironment(): void {
  const env = process.env;
  if (!env.VK_ICD_FILENAMES && !env.VK_DRIVER_FILES && existsSync(LAVAPIPE_ICD)) env.VK_ICD_FILENAMES = LAVAPIPE_ICD;
  if (!env.MESA_SHADER_CACHE_DIR) {
    env.MESA_SHADER_CACHE_DIR = path.join(WEBGPU_CACHE, 'mesa-shader-cache');
  }
  // Mesa's Wayland probe prints "XDG_RUNTIME_DIR is invalid" on a headless machine without it.
  if (!env.XDG_RUNTIME_DIR) {
    const dir = path.join(WEBGPU_CACHE, 'xdg-runtime');
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      env.XDG_RUNTIME_DIR = dir;
    } catch {
      // a read-only checkout: live with the message
    }
  }
}

async function dawn(): Promise<typeof import('webgpu')> {
  prepareEnvironment();
  return import('webgpu');
}

/**
 * The real adapter's device (lavapipe after scripts/setup-webgpu.sh), or undefined when none can
 * be created; `gpuUnavailableReason()` then says why.
 */
export function openGpu(): Promise<Gpu | undefined> {
  return openOnce('adapter', []);
}

/** A device on Dawn's null backend: validates WGSL and pipelines, runs nothing. */
export async function openValidationGpu(): Promise<Gpu> {
  const g = await openOnce('null', ['backend=null']);
  if (!g) throw new Error(`cannot open Dawn's null backend: ${gpuUnavailableReason('null')}`);
  return g;
}

/** Why openGpu() gave undefined (with what to run to fix it). */
export function gpuUnavailableReason(kind: 'adapter' | 'null' = 'adapter'): string {
  return hold().reasons.get(kind) ?? 'not tried yet';
}

function openOnce(kind: 'adapter' | 'null', options: string[]): Promise<Gpu | undefined> {
  const h = hold();
  let p = h.opened.get(kind);
  if (!p) {
    p = open(kind, options).catch((e: unknown) => {
      h.reasons.set(kind, `Dawn failed: ${(e as Error).message}`);
      return undefined;
    });
    h.opened.set(kind, p);
  }
  return p;
}

async function open(kind: 'adapter' | 'null', options: string[]): Promise<Gpu | undefined> {
  const h = hold();
  const { create } = await dawn();
  const gpu = create(options);
  h.gpus.set(kind, gpu); // keep it referenced for the life of the process
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    const icd = process.env.VK_ICD_FILENAMES;
    h.reasons.set(
      kind,
      kind === 'null'
        ? "Dawn's null backend gave no adapter"
        : icd
          ? `Dawn found no adapter with VK_ICD_FILENAMES=${icd} (run: bash scripts/setup-webgpu.sh)`
          : `no Vulkan driver: ${LAVAPIPE_ICD} is missing (run: bash scripts/setup-webgpu.sh)`,
    );
    return undefined;
  }
  const want: GPUFeatureName[] = [];
  for (const f of ['shader-f16', 'subgroups'] as const) if (adapter.features.has(f)) want.push(f);
  const al = adapter.limits;
  const requiredLimits: Record<string, number> = {};
  for (const name of [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupSizeY',
    'maxComputeWorkgroupSizeZ',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBuffersPerShaderStage',
  ] as const) {
    requiredLimits[name] = al[name];
  }
  const device = await adapter.requestDevice({ requiredFeatures: want, requiredLimits });
  const info = adapter.info;
  const adapterName = kind === 'null' ? 'null backend' : info.description || `${info.vendor} ${info.device}`.trim() || 'unknown adapter';
  const l = device.limits;
  const caps: DeviceCaps = {
    f16: device.features.has('shader-f16'),
    subgroups: device.features.has('subgroups'),
    maxWorkgroupInvocations: l.maxComputeInvocationsPerWorkgroup,
    maxWorkgroupStorageBytes: l.maxComputeWorkgroupStorageSize,
    maxStorageBufferBindingBytes: l.maxStorageBufferBindingSize,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
  };
  const g: Gpu = { kind, adapter, device, caps, adapterName };
  void device.lost.then((why) => {
    if (why.reason !== 'destroyed') g.lost = `${why.reason}: ${why.message}`;
  });
  return g;
}

/**
 * The caps kernels may assume on every adapter lathe targets (Chromium's SwiftShader: no f16,
 * 256 invocations, 32 KiB workgroup storage); for compiling without a device.
 */
export const PORTABLE_CAPS: DeviceCaps = {
  f16: false,
  subgroups: false,
  maxWorkgroupInvocations: 256,
  maxWorkgroupStorageBytes: 16384,
  maxStorageBufferBindingBytes: 128 * 1024 * 1024,
  maxComputeWorkgroupsPerDimension: 65535,
};
