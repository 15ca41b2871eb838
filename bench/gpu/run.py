#!/usr/bin/env python3
"""The GPU benchmark: builds lathe's compiled CUDA (from bench/gpu/prepare.ts), checks it against
the interpreter's outputs and times it; times the key kernels (f16/f32 GEMM, flash attention)
against PyTorch on the same GPU (cuBLAS through torch.matmul, F.scaled_dot_product_attention).
Prints a table and writes gpu.json (to $OUT when set, else into the prepared folder).

    node --import tsx bench/gpu/prepare.ts            # here: bench/out/gpu
    python3 bench/gpu/run.py bench/out/gpu            # on the GPU machine (nvcc, PyTorch)
"""
import ctypes
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

ROOT = sys.argv[1] if len(sys.argv) > 1 else "bench/out/gpu"
ARCH = os.environ.get("ARCH", "90")
NP = {"f32": np.float32, "f64": np.float64, "f16": np.float16, "i64": np.int64, "i32": np.int32,
      "u8": np.uint8, "i8": np.int8, "bool": np.uint8}
TORCH = {"f16": torch.float16, "f32": torch.float32, "bf16": torch.bfloat16}


def timed(fn, warmup=10, iters=50):
    """Median milliseconds of fn() over iters runs, with CUDA events around each."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    times.sort()
    return times[len(times) // 2]


def check(status, what):
    if status != 0:
        raise RuntimeError(f"{what} failed with status {status}")


def bench_model(spec):
    d = os.path.join(ROOT, spec["name"])
    t0 = time.time()
    subprocess.run(["sh", "build.sh"], cwd=d, check=True, env={**os.environ, "ARCHS": ARCH})
    build_s = time.time() - t0
    lib = ctypes.CDLL(os.path.join(d, "liblathe_model.so"))
    lib.lathe_last_error.restype = ctypes.c_char_p
    m = ctypes.c_void_p()
    st = lib.lathe_model_create(os.path.join(d, "weights.safetensors").encode(), ctypes.byref(m))
    if st != 0:
        raise RuntimeError(lib.lathe_last_error().decode())
    ins = [torch.from_numpy(np.fromfile(os.path.join(d, f"input_{i}.bin"), dtype=np.uint8)).cuda() for i in range(len(spec["inputs"]))]
    outs = [torch.empty(o["bytes"], dtype=torch.uint8, device="cuda") for o in spec["outputs"]]
    in_ptrs = (ctypes.c_void_p * max(1, len(ins)))(*[t.data_ptr() for t in ins])
    out_ptrs = (ctypes.c_void_p * max(1, len(outs)))(*[t.data_ptr() for t in outs])

    def run():
        st = lib.lathe_model_run(m, in_ptrs, out_ptrs, 1)
        if st != 0:
            raise RuntimeError(lib.lathe_last_error().decode())

    run()
    torch.cuda.synchronize()
    worst = 0.0
    for i, o in enumerate(spec["outputs"]):
        got = np.frombuffer(outs[i].cpu().numpy().tobytes(), dtype=NP[o["dtype"]]).astype(np.float64)
        want = np.fromfile(os.path.join(d, f"expected_{i}.bin"), dtype=NP[o["dtype"]]).astype(np.float64)
        scale = max(np.abs(want).max(), 1e-30)
        worst = max(worst, float(np.abs(got - want).max() / scale))
    ms = timed(run, warmup=20, iters=200)
    lib.lathe_model_destroy(m)
    return {"model": spec["name"], "buildSeconds": round(build_s, 1), "maxRelErrVsInterpreter": worst, "latheMs": ms}


def bench_kernel(spec):
    src = os.path.join(ROOT, spec["file"])
    so = src[:-3] + ".so"
    subprocess.run(["nvcc", "-std=c++17", "-O3", f"-arch=sm_{ARCH}", "-shared", "-Xcompiler", "-fPIC", "--Werror", "all-warnings",
                    "-I", os.path.dirname(src), "-o", so, src], check=True)
    lib = ctypes.CDLL(so)
    dt = TORCH[spec["dtype"]]
    torch.manual_seed(0)
    tensors = [torch.randn(*a["shape"], device="cuda", dtype=dt) if not a["output"] else torch.empty(*a["shape"], device="cuda", dtype=dt) for a in spec["args"]]
    stream = torch.cuda.current_stream().cuda_stream
    ptrs = [ctypes.c_void_p(t.data_ptr()) for t in tensors]

    def lathe():
        check(lib.lathe_bench_launch(*ptrs, ctypes.c_void_p(stream)), spec["name"])

    if spec["reference"] == "matmul":
        a, b = tensors[0], tensors[1]
        ref = lambda: torch.matmul(a, b)
    else:
        q, k, v = tensors[0], tensors[1], tensors[2]
        ref = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=bool(spec.get("causal")))
    lathe()
    want = ref().float()
    got = tensors[-1].float()
    rel = float((got - want).abs().max() / want.abs().max())
    lathe_ms = timed(lathe)
    ref_ms = timed(ref)
    tf = lambda ms: spec["flops"] / (ms * 1e-3) / 1e12
    return {"kernel": spec["name"], "maxRelErr": rel, "latheMs": lathe_ms, "torchMs": ref_ms,
            "latheTflops": tf(lathe_ms), "torchTflops": tf(ref_ms), "latheOverTorchTime": lathe_ms / ref_ms}


def main():
    spec = json.load(open(os.path.join(ROOT, "bench.json")))
    res = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "cuda": torch.version.cuda, "arch": f"sm_{ARCH}",
           "models": [], "kernels": []}
    for m in spec["models"]:
        try:
            res["models"].append(bench_model(m))
        except Exception as e:  # one broken model must not hide the others' figures
            res["models"].append({"model": m["name"], "error": str(e)[:2000]})
    for k in spec["kernels"]:
        try:
            res["kernels"].append(bench_kernel(k))
        except Exception as e:
            res["kernels"].append({"kernel": k["name"], "error": str(e)[:2000]})
    print(f"device: {res['device']} (torch {res['torch']}, CUDA {res['cuda']})")
    print(f"{'model':<12} {'build s':>8} {'lathe ms':>10} {'rel err':>10}")
    for r in res["models"]:
        if "error" in r:
            print(f"{r['model']:<12} ERROR {r['error'][:300]}")
        else:
            print(f"{r['model']:<12} {r['buildSeconds']:>8} {r['latheMs']:>10.4f} {r['maxRelErrVsInterpreter']:>10.2e}")
    print(f"{'kernel':<34} {'lathe ms':>9} {'torch ms':>9} {'lathe TF/s':>10} {'torch TF/s':>10} {'torch/lathe':>11} {'rel err':>9}")
    for r in res["kernels"]:
        if "error" in r:
            print(f"{r['kernel']:<34} ERROR {r['error'][:300]}")
        else:
            print(f"{r['kernel']:<34} {r['latheMs']:>9.4f} {r['torchMs']:>9.4f} {r['latheTflops']:>10.1f} {r['torchTflops']:>10.1f} {1 / r['latheOverTorchTime']:>11.2f} {r['maxRelErr']:>9.2e}")
    out = os.environ.get("OUT") or ROOT
    with open(os.path.join(out, "gpu.json"), "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
