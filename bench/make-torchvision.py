#!/usr/bin/python3
"""Exports a torchvision model (random weights, seeded) to ONNX for the benchmarks and checks.

Usage (Debian's python; see scripts/setup.sh):
    /usr/bin/python3 bench/make-torchvision.py vit_b_16 bench/out/vit_b_16.onnx [--seed 0] [--force]
    /usr/bin/python3 bench/make-torchvision.py resnet50 bench/out/resnet50.onnx

Does nothing if the file exists (unless --force). No pretrained weights are downloaded: each
model is randomly initialized from the seed with torchvision's own init, in eval mode (resnet50's
batch norms then fold into its convolutions). vit_b_16's classifier head, which torchvision
initializes to zero (every output would be 0), is re-initialized with small nonzero weights, and
the export runs with gradients enabled: exporting vit_b_16 under torch.no_grad() fails in
torch 1.13. Opset 17, dynamic batch axis, input `pixel_values` [batch, 3, 224, 224] -> `logits`
[batch, 1000]. The file is written beside its final path and renamed into place, so an
interrupted run never leaves a partial model behind. vit_b_16 is about 346 MB, resnet50 102 MB.
"""
import argparse
import os
import sys
import time
import warnings

import torch
import torch.nn as nn
import torchvision


def vit_b_16():
    model = torchvision.models.vit_b_16(weights=None)
    with torch.no_grad():
        nn.init.normal_(model.heads.head.weight, std=0.02)
        nn.init.normal_(model.heads.head.bias, std=0.02)
    return model


MODELS = {"vit_b_16": vit_b_16, "resnet50": lambda: torchvision.models.resnet50(weights=None)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", choices=sorted(MODELS), help="which torchvision model")
    parser.add_argument("out", help="output .onnx path, e.g. bench/out/vit_b_16.onnx")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--force", action="store_true", help="export even if the file exists")
    args = parser.parse_args()

    if os.path.exists(args.out) and not args.force:
        print(f"{args.out} exists; skipping (use --force to export again)")
        return 0

    # torchvision's shape asserts become constants in the trace; expected, and noisy.
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    start = time.time()
    torch.manual_seed(args.seed)
    model = MODELS[args.model]()
    model.eval()

    folder = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(args.out)}.{os.getpid()}.tmp")
    dummy = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(args.seed))
    try:
        # Not under torch.no_grad(): see the docstring.
        torch.onnx.export(
            model,
            (dummy,),
            tmp,
            opset_version=17,
            input_names=["pixel_values"],
            output_names=["logits"],
            dynamic_axes={"pixel_values": {0: "batch"}, "logits": {0: "batch"}},
            do_constant_folding=True,
        )
        os.replace(tmp, args.out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    size = os.path.getsize(args.out)
    print(f"wrote {args.out} ({size / 1e6:.0f} MB) in {time.time() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
