"""A direct Python transliteration of pycocotools common/maskApi.c rleFrPoly (and rleMerge for the
union of parts), used as an independent reference for segtune's C++ port.

C semantics reproduced: (int)d truncates toward zero (NaN -> INT_MIN as gcc/x86-64 gives), uint32
arithmetic for the run lengths, qsort ascending.

Usage: maskapi_frpoly_transliteration.py IN.json OUT.json
IN.json: [{"h": H, "w": W, "xy": [x1, y1, x2, y2, ...]}, ...]
OUT.json: [[counts...], ...]
"""
import json
import math
import sys

INT_MIN = -2147483648
U32 = 0xFFFFFFFF


def c_int(d):
    if d != d or d <= -2147483649.0 or d >= 2147483648.0:
        return INT_MIN
    return int(d)  # Python int() truncates toward zero like a C cast.


def rle_fr_poly(xy, k, h, w):
    scale = 5.0
    x = [c_int(scale * xy[j * 2 + 0] + .5) for j in range(k)]
    x.append(x[0])
    y = [c_int(scale * xy[j * 2 + 1] + .5) for j in range(k)]
    y.append(y[0])
    u = []
    v = []
    for j in range(k):
        xs, xe, ys, ye = x[j], x[j + 1], y[j], y[j + 1]
        dx = abs(xe - xs)
        dy = abs(ys - ye)
        flip = (dx >= dy and xs > xe) or (dx < dy and ys > ye)
        if flip:
            xs, xe = xe, xs
            ys, ye = ye, ys
        if dx >= dy:
            s = (ye - ys) / dx if dx != 0 else float('nan')
            for d in range(dx + 1):
                t = dx - d if flip else d
                u.append(t + xs)
                v.append(c_int(ys + s * t + .5))
        else:
            s = (xe - xs) / dy
            for d in range(dy + 1):
                t = dy - d if flip else d
                v.append(t + ys)
                u.append(c_int(xs + s * t + .5))
    bx = []
    by = []
    for j in range(1, len(u)):
        if u[j] == u[j - 1]:
            continue
        xd = float(u[j] if u[j] < u[j - 1] else u[j] - 1)
        xd = (xd + .5) / scale - .5
        if math.floor(xd) != xd or xd < 0 or xd > w - 1:
            continue
        yd = float(v[j] if v[j] < v[j - 1] else v[j - 1])
        yd = (yd + .5) / scale - .5
        if yd < 0:
            yd = 0
        elif yd > h:
            yd = h
        yd = math.ceil(yd)
        bx.append(int(xd))
        by.append(int(yd))
    a = [((bx[j] * h + by[j]) & U32) for j in range(len(bx))]
    a.append((h * w) & U32)
    a.sort()
    p = 0
    for j in range(len(a)):
        t = a[j]
        a[j] = (a[j] - p) & U32
        p = t
    b = [a[0]]
    j = 1
    while j < len(a):
        if a[j] > 0:
            b.append(a[j])
            j += 1
        else:
            j += 1
            if j < len(a):
                b[-1] += a[j]
                j += 1
    return b


def main():
    cases = json.load(open(sys.argv[1]))
    out = [rle_fr_poly(c['xy'], len(c['xy']) // 2, c['h'], c['w']) for c in cases]
    json.dump(out, open(sys.argv[2], 'w'))


if __name__ == '__main__':
    main()
