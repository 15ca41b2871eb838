#!/usr/bin/python3
"""Renders text lines as PaddleOCR recognizer inputs, for the svdquant real-model benchmark.

Each line is drawn in black DejaVu Sans on white, scaled to height 48, padded to width 320, and
normalized as PaddleOCR does ((x / 255 - 0.5) / 0.5, CHW float32). Writes ONNX TensorProto files
laid out as the ONNX test data: OUT/calib/test_data_set_N/input_0.pb and OUT/eval/..., plus
OUT/lines.json with the strings.

Usage: /usr/bin/python3 bench/make-text-lines.py OUT
"""
import json
import os
import sys

import numpy as np
import onnx.numpy_helper
from PIL import Image, ImageDraw, ImageFont

CALIB = ["the quick brown fox", "jumps over 13 lazy dogs", "Invoice No. 20481", "total 129.95 EUR",
         "Main Street 42", "phone 555-0123", "SALE 50% OFF", "open daily 9-17"]
EVAL = ["hello world 2026", "compiler passes", "low rank branch", "price 7.50 USD", "Room 314 B", "keep left"]
FONTS = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"]


def render(text, font_path):
    font = ImageFont.truetype(font_path, 32)
    left, top, right, bottom = font.getbbox(text)
    img = Image.new("L", (right - left + 16, bottom - top + 16), 255)
    ImageDraw.Draw(img).text((8 - left, 8 - top), text, fill=0, font=font)
    w = min(320, max(1, round(img.width * 48 / img.height)))
    img = img.resize((w, 48), Image.BILINEAR).convert("RGB")
    canvas = Image.new("RGB", (320, 48), (255, 255, 255))
    canvas.paste(img, (0, 0))
    x = np.asarray(canvas, dtype=np.float32) / 255.0
    x = (x - 0.5) / 0.5
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])  # [1, 3, 48, 320]


def main():
    out = sys.argv[1]
    font = next((f for f in FONTS if os.path.exists(f)), None)
    if font is None:
        sys.exit(f"no DejaVu font found (tried {', '.join(FONTS)}); install fonts-dejavu-core")
    for split, lines in (("calib", CALIB), ("eval", EVAL)):
        for i, text in enumerate(lines):
            d = os.path.join(out, split, f"test_data_set_{i}")
            os.makedirs(d, exist_ok=True)
            t = onnx.numpy_helper.from_array(render(text, font), "x")
            with open(os.path.join(d, "input_0.pb"), "wb") as f:
                f.write(t.SerializeToString())
    with open(os.path.join(out, "lines.json"), "w") as f:
        json.dump({"calib": CALIB, "eval": EVAL}, f, indent=1)
    print(f"wrote {len(CALIB)} calibration and {len(EVAL)} evaluation lines into {out}")


if __name__ == "__main__":
    main()
