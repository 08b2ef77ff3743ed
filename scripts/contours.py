#!/usr/bin/env python3
"""The Python path yoloarchive's contour extraction is compared with
(scripts/bench.sh): what Ultralytics' Comet callback does for every mask of
a predictions.json, with numpy for the RLE decode (pycocotools' rleFrString
and rleDecode) and OpenCV's findContours (RETR_LIST, CHAIN_APPROX_SIMPLE,
contours of 3+ points), written as JSON lines of flat polygons.

    python3 scripts/contours.py predictions.json out.jsonl
"""
import json
import sys

import cv2
import numpy as np


def counts_from_string(s):
    """pycocotools' rleFrString: the compressed COCO RLE counts."""
    counts, p = [], 0
    while p < len(s):
        x, k, more = 0, 0, True
        while more:
            c = ord(s[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = c & 0x20
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def decode(seg):
    """rleDecode: the h×w uint8 mask of a COCO RLE segmentation."""
    h, w = seg["size"]
    counts = seg["counts"]
    if isinstance(counts, str):
        counts = counts_from_string(counts)
    flat = np.repeat(np.arange(len(counts), dtype=np.uint8) & 1, counts)
    return np.ascontiguousarray(flat.reshape(w, h).T)


def main():
    with open(sys.argv[1]) as f:
        preds = json.load(f)
    with open(sys.argv[2], "w") as out:
        for p in preds:
            mask = decode(p["segmentation"])
            contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
            polys = [c.flatten().tolist() for c in contours if len(c) >= 3]
            out.write(json.dumps(polys) + "\n")


if __name__ == "__main__":
    main()
