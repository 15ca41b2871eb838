#!/usr/bin/python3
"""Exports torchvision's resnet50 (random weights, seeded) to ONNX for the benchmarks.

Usage (Debian's python; see scripts/setup.sh):
    /usr/bin/python3 bench/make-resnet50.py bench/out/resnet50.onnx [--seed 0] [--force]

Does nothing if the file exists (unless --force). No pretrained weights are downloaded: the model
is randomly initialized from the seed (torchvision's own init: Kaiming-normal convolutions,
batch norms at weight 1, bias 0, running mean 0, running variance 1) and put in eval mode, so
the exporter folds each batch norm into its convolution. Opset 17, dynamic batch axis, input
`pixel_values` [batch, 3, 224, 224] -> `logits` [batch, 1000]. The file is written next to its
final path and renamed into place, so an interrupted run never leaves a partial model behind.
About 102 MB.
"""
import argparse
import os
import sys
import time
import warnings

import torch
import torchvision


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="output .onnx path, e.g. bench/out/resnet50.onnx")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--force", action="store_true", help="export even if the file exists")
    args = parser.parse_args()

    if os.path.exists(args.out) and not args.force:
        print(f"{args.out} exists; skipping (use --force to export again)")
        return 0

    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    start = time.time()
    torch.manual_seed(args.seed)
    model = torchvision.models.resnet50(weights=None)
    model.eval()

    folder = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(args.out)}.{os.getpid()}.tmp")
    dummy = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(args.seed))
    try:
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
