#!/usr/bin/env python3
"""Writes zhangsan.json: 张三 in running script (行书) on a 600 x 240 pad at 160 dpi.

Each stroke is a Catmull-Rom curve through hand-placed control points, sampled every 10 ms
(a 100 Hz digitiser) with a bell-shaped speed profile (slow at pen-down and pen-up, fast in
the middle), a little hand tremor, and pressure that rises after pen-down and fades at the
tail. Strokes are separated by 90-220 ms of pen-up time. Deterministic (fixed seed).

    python3 make_zhangsan.py > zhangsan.json
"""
import json
import math
import random

random.seed(20260515)

# Control points in pad units (x right, y down), 600 x 240.
STROKES = [
    # 张: 弓 written as one connected stroke (横折, 横, 竖, 横折折钩 with the hook)
    [(62, 58), (98, 54), (132, 50), (128, 76), (122, 98), (96, 101), (72, 104),
     (70, 128), (69, 150), (104, 148), (134, 145), (131, 178), (124, 208), (112, 199), (103, 191)],
    # 张: 长, the upright with its rising tick (竖提)
    [(168, 40), (167, 90), (166, 140), (168, 198), (184, 187), (198, 176)],
    # 长: the short falling stroke (撇) into the upright
    [(228, 46), (212, 68), (192, 90), (172, 108)],
    # 长: the long horizontal (横)
    [(146, 121), (190, 118), (232, 115), (264, 112)],
    # 长: the sweeping press-down (捺)
    [(184, 125), (206, 152), (230, 181), (262, 204), (276, 207)],
    # 三: three horizontals, the last the longest, rising slightly to the right
    [(332, 73), (380, 69), (430, 65), (463, 62)],
    [(346, 127), (392, 124), (434, 121), (455, 119)],
    [(312, 188), (380, 183), (450, 178), (520, 173), (540, 177)],
]

DT_MS = 10


def catmull_rom(points, samples_per_segment=40):
    pts = [points[0]] + points + [points[-1]]
    out = []
    for i in range(1, len(pts) - 2):
        p0, p1, p2, p3 = pts[i - 1], pts[i], pts[i + 1], pts[i + 2]
        for s in range(samples_per_segment):
            t = s / samples_per_segment
            t2, t3 = t * t, t * t * t
            x = 0.5 * ((2 * p1[0]) + (-p0[0] + p2[0]) * t + (2 * p0[0] - 5 * p1[0] + 4 * p2[0] - p3[0]) * t2
                       + (-p0[0] + 3 * p1[0] - 3 * p2[0] + p3[0]) * t3)
            y = 0.5 * ((2 * p1[1]) + (-p0[1] + p2[1]) * t + (2 * p0[1] - 5 * p1[1] + 4 * p2[1] - p3[1]) * t2
                       + (-p0[1] + 3 * p1[1] - 3 * p2[1] + p3[1]) * t3)
            out.append((x, y))
    out.append(points[-1])
    return out


def resample(curve, peak_speed):
    """Points every DT_MS along the curve, speed = bell(u) * peak (pad units per ms)."""
    lengths = [0.0]
    for a, b in zip(curve, curve[1:]):
        lengths.append(lengths[-1] + math.dist(a, b))
    total = lengths[-1]
    out, s, j = [], 0.0, 0
    while True:
        while j < len(lengths) - 2 and lengths[j + 1] < s:
            j += 1
        seg = lengths[j + 1] - lengths[j] or 1.0
        f = min(max((s - lengths[j]) / seg, 0.0), 1.0)
        x = curve[j][0] + (curve[j + 1][0] - curve[j][0]) * f
        y = curve[j][1] + (curve[j + 1][1] - curve[j][1]) * f
        out.append((x, y, s / total))
        if s >= total:
            return out
        u = s / total
        speed = peak_speed * (0.18 + 0.82 * math.sin(math.pi * u) ** 0.8)
        s = min(s + speed * DT_MS, total)


def main():
    strokes, t = [], 0
    for k, control in enumerate(STROKES):
        t += 0 if k == 0 else random.randint(90, 220)
        peak = random.uniform(0.7, 0.95)
        stroke = []
        for x, y, u in resample(catmull_rom(control), peak):
            x += random.gauss(0, 0.35)
            y += random.gauss(0, 0.35)
            pressure = 0.32 + 0.5 * math.sin(math.pi * min(u * 1.25, 1.0)) ** 0.6 + random.gauss(0, 0.02)
            pressure = min(max(pressure, 0.3), 0.9)
            stroke.append([round(x, 1), round(y, 1), t, round(pressure, 2)])
            t += DT_MS
        t -= DT_MS
        strokes.append(stroke)
    doc = {"width": 600, "height": 240, "dpi": 160, "signer": "张三", "strokes": strokes}
    lines = ['{"width": 600, "height": 240, "dpi": 160, "signer": "张三",', ' "strokes": [']
    for i, s in enumerate(strokes):
        lines.append("  " + json.dumps(s, separators=(",", ":")) + ("," if i < len(strokes) - 1 else ""))
    lines.append(" ]}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == doc
    print(text, end="")


if __name__ == "__main__":
    main()
