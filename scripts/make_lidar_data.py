#!/usr/bin/python3
"""Generates the SYNTHETIC lidar data set: simulated spinning-LIDAR scans of single objects.

Nothing here is recorded data. Each scene holds one object of one of twelve classes, built from
simple primitives (boxes, cylinders, ellipsoids, cones/frusta), standing on a flat ground plane in
front of a simulated spinning LIDAR mounted 1.8 m above the nominal ground: a 32-beam sensor (beams
evenly over -25..+15 deg of elevation) or a sparse 16-beam one (-15..+15 deg, 2 deg apart), half of
the scenes each; horizontal resolution drawn per scene in 0.1..0.4 deg. Rays are cast against every
primitive, the ground and an optional occluder; the nearest hit wins. A sample is the set of returns
that hit the object (ground removal by construction), plus, now and then, a few ground returns at the
object's foot (an imperfect ground removal).

The classes come in groups of look-alikes: car / suv / van / truck (sizes and roof lines overlap at the
edges), pedestrian / child / cyclist (a rider, or someone standing beside and pushing the bike),
pole (bare or a street light) / traffic_light (a signal head on a post or a mast arm) / sign,
tree (young trees included) / bush (bushes and hedges).

Variation per scene: class-specific size/shape parameters, range 4..75 m (skewed to near: median
22 m, 20 % beyond 50 m, where a pedestrian is a handful of returns on one or two beams), bearing, yaw,
pose (a walking phase, a rider's lean), partial occlusion (a parked car / van / wall / bush / trunk
between the sensor and the object, 50 % of scenes), a cropped angular sector (20 %), range noise
(sigma 0.01..0.04 m), per-return dropout (0..30 %), ground height jitter (+-0.1 m); on foliage
(tree crowns, bushes, hedges) the beam goes some way into the leaves (exponential, mean 5..25 cm) or
through a gap (0..25 % of those returns lost). Scenes with fewer than MIN_POINTS (15) object returns
are redrawn (as data sets skip objects with too few points).

Determinism and unseen scenes: scene i of a split is drawn from numpy's PCG64 seeded with
(split seed, i); train, calibration and test use different split seeds, so no scene repeats across
splits (every parameter is continuous). Classes cycle with i (balanced, interleaved).

Output: data/lidar/{train,calibration,test}.ipcl in the IPCL point-cloud format (little-endian):
    char[4] "IPCL" | u32 version = 1 | u32 fields (3: x y z; 4: x y z intensity) | u32 clouds
    | u32 names_bytes | names (UTF-8, comma-separated class names, may be empty)
    | clouds x { i32 label (-1: none) | u32 points | points x fields float32 }
Coordinates are metres in the sensor frame (x forward, y left, z up, sensor at the origin).
The reader is include/imprecise/data/point_cloud.hpp. Run from the repository root:
    /usr/bin/python3 scripts/make_lidar_data.py [--out data/lidar] [--train 9600 --calibration 2400 --test 2400]
        [--splits train,calibration,test] [--jobs 2]
--splits (comma-separated, default all) writes only the listed splits' files and leaves the others alone;
scene i of a split depends only on (split seed, i), so a split built alone is byte-identical to one built
with the others (for the same count), and --jobs (worker processes) does not change a byte either.
The test split alone (2 400 scenes) takes ~30 s with 2 processes on a 2-core VM, all three ~3 min.
"""
import argparse
import math
import multiprocessing
import os
import struct
import sys
import time

import numpy as np

CLASSES = ["car", "suv", "van", "truck", "pedestrian", "child", "cyclist", "pole", "traffic_light", "sign",
           "tree", "bush"]
SPLIT_SEEDS = {"train": 1001, "calibration": 2002, "test": 3003}
SENSOR_HEIGHT = 1.8           # m above the nominal ground; the front end uses the same figure
SENSORS = [(32, -25.0, 15.0),  # (beams, lowest and highest elevation in deg): a 32-beam sensor ...
           (16, -15.0, 15.0)]  # ... or a sparse 16-beam one (2 deg between beams), half of the scenes each
RANGE = (4.0, 75.0)           # m, object centre: RANGE[0] + (RANGE[1] - RANGE[0]) * u ** RANGE_SKEW, u uniform
RANGE_SKEW = 2.0              # median 22 m; 20 % of the draws beyond 50 m (mixed difficulty: mostly near, some far)
MIN_POINTS = 15
FOLIAGE_CLASSES = {CLASSES.index("tree"), CLASSES.index("bush")}  # every part but a trunk (a cylinder) is leaves
OCCLUDED = 0.5                # the share of scenes with an occluder drawn between sensor and object
MAX_DROPOUT = 0.3             # per-return dropout, drawn per scene in 0..MAX_DROPOUT
EPS = 1e-6

# ---------------------------------------------------------------------------------------------
# Primitives: (kind, centre[3], rotation[3x3] (columns = local axes in the object frame), params)
#   box: half extents (hx, hy, hz); cyl: (radius, half height) along local z;
#   ell: semi-axes (a, b, c); cone: (radius at -h, radius at +h, half height) along local z.


def rot_z(a):
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def rot_y(a):
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_x(a):
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


AXIS_Y = rot_x(math.pi / 2)   # a cylinder whose axis is the object's y (wheels)
AXIS_X = rot_y(math.pi / 2)   # ... the object's x (a round sign facing forward)
I3 = np.eye(3)


def box(c, h, r=I3):
    return ("box", np.array(c, float), r, np.array(h, float))


def cyl(c, radius, half, r=I3):
    return ("cyl", np.array(c, float), r, np.array([radius, half], float))


def ell(c, axes, r=I3):
    return ("ell", np.array(c, float), r, np.array(axes, float))


def cone(c, r0, r1, half, r=I3):
    return ("cone", np.array(c, float), r, np.array([r0, r1, half], float))


def segment_cyl(p0, p1, radius):
    """A cylinder from point p0 to p1 (limbs)."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    axis = p1 - p0
    length = float(np.linalg.norm(axis))
    z = axis / length
    helper = np.array([1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return cyl((p0 + p1) / 2, radius, length / 2, np.stack([x, y, z], axis=1))


def wheels(rng, length, width, radius, axle_inset):
    out = []
    for sx in (-1, 1):
        for sy in (-1, 1):
            out.append(cyl((sx * (length / 2 - axle_inset), sy * (width / 2 - 0.12), radius), radius,
                           0.11, AXIS_Y))
    return out


# ---------------------------------------------------------------------------------------------
# Object models, in the object frame: x forward, y left, z up, origin on the ground at the centre.


def make_car(rng):
    """A saloon / hatchback: low body, a short cabin."""
    L, W = rng.uniform(3.6, 4.8), rng.uniform(1.6, 1.85)
    clr, hb = rng.uniform(0.14, 0.22), rng.uniform(0.5, 0.66)
    lc, wc, hc = L * rng.uniform(0.42, 0.58), W * rng.uniform(0.82, 0.92), rng.uniform(0.4, 0.55)
    xc = -L * rng.uniform(0.0, 0.12)
    parts = [box((0, 0, clr + hb / 2), (L / 2, W / 2, hb / 2)),
             box((xc, 0, clr + hb + hc / 2), (lc / 2, wc / 2, hc / 2))]
    return parts + wheels(rng, L, W, rng.uniform(0.29, 0.33), rng.uniform(0.7, 0.9))


def make_suv(rng):
    """Like a car, but higher off the ground, taller and with a long cabin ending square at the back:
    a look-alike of both car and van."""
    L, W = rng.uniform(4.2, 4.95), rng.uniform(1.78, 1.98)
    clr, hb = rng.uniform(0.24, 0.32), rng.uniform(0.65, 0.8)
    lc, wc, hc = L * rng.uniform(0.6, 0.72), W * rng.uniform(0.88, 0.95), rng.uniform(0.52, 0.66)
    xc = -L / 2 + lc / 2 + rng.uniform(0.05, 0.25)  # the cabin reaches the rear
    parts = [box((0, 0, clr + hb / 2), (L / 2, W / 2, hb / 2)),
             box((xc, 0, clr + hb + hc / 2), (lc / 2, wc / 2, hc / 2))]
    return parts + wheels(rng, L, W, rng.uniform(0.33, 0.38), rng.uniform(0.72, 0.9))


def make_van(rng):
    L, W, H = rng.uniform(4.5, 5.9), rng.uniform(1.8, 2.05), rng.uniform(1.95, 2.6)
    clr = rng.uniform(0.2, 0.32)
    hood = rng.uniform(0.5, 0.9)
    hh = rng.uniform(0.85, 1.1)
    parts = [box((-hood / 2, 0, (clr + H) / 2), ((L - hood) / 2, W / 2, (H - clr) / 2)),
             box((L / 2 - hood / 2, 0, clr + (hh - clr) / 2), (hood / 2, W / 2 * 0.97, (hh - clr) / 2))]
    return parts + wheels(rng, L, W, rng.uniform(0.32, 0.38), rng.uniform(0.8, 1.0))


def make_truck(rng):
    W = rng.uniform(2.2, 2.55)
    lcab, hcab = rng.uniform(1.8, 2.4), rng.uniform(2.5, 3.2)
    lcargo, hcargo = rng.uniform(3.5, 9.0), rng.uniform(2.8, 4.0)  # from a box truck to a semi
    gap, clr = rng.uniform(0.2, 0.5), rng.uniform(0.8, 1.15)
    L = lcab + gap + lcargo
    parts = [box((L / 2 - lcab / 2, 0, 0.5 + hcab / 2 - 0.25), (lcab / 2, W / 2 * 0.98, (hcab - 0.5) / 2 + 0.125)),
             box((-L / 2 + lcargo / 2, 0, (clr + hcargo) / 2), (lcargo / 2, W / 2, (hcargo - clr) / 2))]
    r = rng.uniform(0.45, 0.55)
    for x in (L / 2 - lcab / 2, -L / 2 + 1.2, -L / 2 + 1.2 + 2 * r + 0.15):
        for sy in (-1, 1):
            parts.append(cyl((x, sy * (W / 2 - 0.15), r), r, 0.15, AXIS_Y))
    return parts


def person(rng, H, swing, offset=(0.0, 0.0)):
    """A standing / walking person of height H (head size does not scale down with H: children have
    relatively bigger heads), feet at the object-frame ground, shifted by offset (x, y)."""
    ox, oy = offset
    hip = 0.47 * H
    leg_r = rng.uniform(0.05, 0.065) * H / 1.1 + 0.02
    parts = []
    for side, phase in ((-1, 1), (1, -1)):
        foot = (ox + phase * swing * hip * 0.5, oy + side * rng.uniform(0.07, 0.13), leg_r)
        parts.append(segment_cyl((ox, oy + side * 0.08, hip), foot, leg_r))
    head_r = rng.uniform(0.085, 0.105) + 0.01 * H
    torso_h = H - hip - 2 * head_r - 0.05
    depth, width = rng.uniform(0.1, 0.15) * H / 1.7, rng.uniform(0.16, 0.22) * H / 1.7 + 0.02
    parts.append(ell((ox, oy, hip + torso_h / 2), (depth, width, torso_h / 2 + 0.04)))
    parts.append(ell((ox, oy, H - head_r), (head_r, head_r * 0.9, head_r)))
    shoulder = hip + torso_h - 0.03
    arm_r = rng.uniform(0.03, 0.045)
    for side, phase in ((-1, -1), (1, 1)):
        hand = (ox + phase * swing * 0.35 * H * 0.5, oy + side * (width + 0.07), shoulder - 0.36 * H)
        parts.append(segment_cyl((ox, oy + side * (width + 0.03), shoulder), hand, arm_r))
    return parts, depth, width, hip, torso_h


def make_pedestrian(rng):
    H = rng.uniform(1.5, 1.95)
    parts, depth, width, hip, torso_h = person(rng, H, rng.uniform(-0.45, 0.45))
    if rng.random() < 0.3:  # backpack
        parts.append(box((-depth - 0.08, 0, hip + torso_h * 0.6), (0.09, width * 0.8, torso_h * 0.35)))
    return parts


def make_child(rng):
    """A child of 0.95..1.45 m: a pedestrian look-alike that differs in height and proportions."""
    H = rng.uniform(0.95, 1.45)
    parts, depth, width, hip, torso_h = person(rng, H, rng.uniform(-0.5, 0.5))
    if rng.random() < 0.4:  # a school bag
        parts.append(box((-depth - 0.07, 0, hip + torso_h * 0.55), (0.08, width * 0.85, torso_h * 0.4)))
    return parts


def bicycle(rng, wr, base):
    parts = [cyl((base, 0, wr), wr, 0.02, AXIS_Y), cyl((-base, 0, wr), wr, 0.02, AXIS_Y)]
    seat = np.array([-0.18, 0.0, wr + rng.uniform(0.55, 0.7)])
    bar = np.array([base - 0.12, 0.0, seat[2] + rng.uniform(-0.02, 0.12)])
    parts.append(segment_cyl((-base, 0, wr), seat, 0.025))
    parts.append(segment_cyl(seat - (0, 0, 0.1), (base - 0.05, 0, wr + 0.25), 0.03))
    parts.append(segment_cyl((base, 0, wr), bar, 0.025))
    parts.append(box(bar, (0.03, rng.uniform(0.22, 0.3), 0.02)))
    return parts, seat, bar


def make_cyclist(rng):
    """A rider on a bicycle (60 %) or a cyclist standing beside the bike, pushing it (40 %): the standing
    kind is a pedestrian look-alike with thin wheels next to it."""
    wr = rng.uniform(0.3, 0.36)
    base = rng.uniform(0.5, 0.58)
    parts, seat, bar = bicycle(rng, wr, base)
    if rng.random() < 0.4:
        side = 1 if rng.random() < 0.5 else -1
        walker, *_ = person(rng, rng.uniform(1.5, 1.95), rng.uniform(-0.3, 0.3),
                            (rng.uniform(-0.2, 0.3), side * rng.uniform(0.45, 0.6)))
        return parts + walker
    lean = rng.uniform(0.35, 0.9)  # torso pitch forward (rad)
    torso = rng.uniform(0.5, 0.62)
    hip = seat + (0, 0, 0.05)
    shoulder = hip + torso * np.array([math.sin(lean), 0.0, math.cos(lean)])
    parts.append(ell((hip + shoulder) / 2, (rng.uniform(0.11, 0.15), rng.uniform(0.17, 0.22), torso / 2 + 0.03),
                     rot_y(lean)))
    head_r = rng.uniform(0.095, 0.12)
    parts.append(ell(shoulder + np.array([math.sin(lean), 0, math.cos(lean)]) * (head_r + 0.1), (head_r,) * 3))
    crank = rng.uniform(0, 2 * math.pi)
    for side, ph in ((-1, 0.0), (1, math.pi)):
        pedal = np.array([0.05 + 0.17 * math.cos(crank + ph), side * 0.12, wr + 0.02 + 0.17 * math.sin(crank + ph)])
        knee = (hip + pedal) / 2 + np.array([0.18, side * 0.03, 0.1])
        parts.append(segment_cyl(hip + (0, side * 0.1, 0), knee, 0.07))
        parts.append(segment_cyl(knee, pedal, 0.055))
        parts.append(segment_cyl(shoulder + (0, side * 0.18, -0.04), bar + (0, side * 0.22, 0), 0.04))
    return parts


def make_pole(rng):
    """A bare pole (mast, bollard-topped post) or a street light (arm + lamp, 50 %)."""
    r, H = rng.uniform(0.05, 0.2), rng.uniform(2.5, 9.0)
    parts = [cone((0, 0, H / 2), r * rng.uniform(1.0, 1.4), r, H / 2)]
    if rng.random() < 0.5:  # a street light's arm and lamp
        arm = rng.uniform(0.8, 2.5)
        parts.append(box((arm / 2, 0, H - 0.05), (arm / 2, 0.05, 0.05)))
        parts.append(ell((arm, 0, H - 0.12), (0.3, 0.16, 0.1)))
    return parts


def make_traffic_light(rng):
    """A signal head (a tall narrow box) on a post, or hanging from a mast arm (30 %): look-alikes of a
    sign (a plate on a post) and of a street light (a lamp on an arm)."""
    r = rng.uniform(0.06, 0.12)
    hw, hh, hd = rng.uniform(0.16, 0.2), rng.uniform(0.45, 0.56), rng.uniform(0.14, 0.2)  # half extents
    if rng.random() < 0.3:
        H, arm = rng.uniform(5.0, 6.5), rng.uniform(2.0, 5.0)
        parts = [cyl((0, 0, H / 2), r, H / 2), box((arm / 2, 0, H - 0.1), (arm / 2, 0.06, 0.06)),
                 box((arm, 0, H - 0.2 - hh), (hw, hd, hh))]
        return parts
    H = rng.uniform(2.8, 3.8)
    parts = [cyl((0, 0, H / 2), r, H / 2), box((r + hd, 0, H - hh), (hd, hw, hh))]
    if rng.random() < 0.3:  # a second head facing the other way
        parts.append(box((-r - hd, 0, H - hh), (hd, hw, hh)))
    return parts


def make_sign(rng):
    pr, H = rng.uniform(0.03, 0.06), rng.uniform(1.8, 2.8)
    parts = [cyl((0, 0, H / 2), pr, H / 2)]
    kind = rng.integers(0, 3)
    if kind == 0:  # rectangle facing +x
        w, h = rng.uniform(0.5, 1.0), rng.uniform(0.5, 1.0)
        parts.append(box((pr + 0.03, 0, H - h / 2), (0.015, w / 2, h / 2)))
        top = H - h
    elif kind == 1:  # disc
        rad = rng.uniform(0.3, 0.45)
        parts.append(cyl((pr + 0.03, 0, H - rad), rad, 0.015, AXIS_X))
        top = H - 2 * rad
    else:  # triangle-ish: a diamond (box rotated 45 deg about x)
        s = rng.uniform(0.45, 0.7)
        parts.append(box((pr + 0.03, 0, H - s * 0.71), (0.015, s / 2, s / 2), rot_x(math.pi / 4)))
        top = H - 1.42 * s
    if rng.random() < 0.3:  # a second, smaller plate below
        w2, h2 = rng.uniform(0.4, 0.7), rng.uniform(0.2, 0.35)
        parts.append(box((pr + 0.03, 0, top - 0.05 - h2 / 2), (0.015, w2 / 2, h2 / 2)))
    return parts


def make_tree(rng):
    """Broadleaf (one or two crown ellipsoids) or conifer, from a young tree (small crown, thin trunk:
    a bush look-alike) to a tall one."""
    young = rng.random() < 0.3
    tr, th = (rng.uniform(0.04, 0.1), rng.uniform(0.8, 1.6)) if young else (rng.uniform(0.1, 0.35), rng.uniform(1.5, 3.5))
    parts = [cyl((0, 0, th / 2), tr, th / 2)]
    lo, hi = (0.5, 1.0) if young else (1.0, 2.5)
    if rng.random() < 0.5:  # broadleaf crown: one or two ellipsoids
        a, b, c = rng.uniform(lo, hi), rng.uniform(lo, hi), rng.uniform(lo, hi)
        parts.append(ell((0, 0, th + c * 0.8), (a, b, c), rot_z(rng.uniform(0, math.pi))))
        if rng.random() < 0.5:
            parts.append(ell((rng.uniform(-0.8, 0.8) * a, rng.uniform(-0.8, 0.8) * b, th + c * rng.uniform(1.2, 1.6)),
                             (a * 0.7, b * 0.7, c * 0.7)))
    else:  # conifer
        R, h = (rng.uniform(0.5, 1.0), rng.uniform(1.5, 3.0)) if young else (rng.uniform(1.0, 2.5), rng.uniform(3.0, 7.0))
        z0 = th * rng.uniform(0.4, 0.7)
        parts.append(cone((0, 0, z0 + h / 2), R, rng.uniform(0.0, 0.15), h / 2))
    return parts


def make_bush(rng):
    """A bush (one to three ellipsoids sitting on the ground) or a hedge (an elongated, flat-topped row,
    40 %): no trunk, unlike a tree."""
    if rng.random() < 0.4:
        L, W, H = rng.uniform(2.0, 6.0), rng.uniform(0.5, 1.2), rng.uniform(0.7, 2.0)
        parts = [box((0, 0, H / 2 * 0.9), (L / 2, W / 2, H / 2 * 0.9))]
        parts.append(ell((0, 0, H * 0.9), (L / 2 * 1.02, W / 2 * 1.05, H * 0.12)))  # a rounded top
        return parts
    parts = []
    for k in range(rng.integers(1, 4)):
        a, b, c = rng.uniform(0.4, 1.3), rng.uniform(0.4, 1.3), rng.uniform(0.35, 1.0)
        off = (0.0, 0.0) if k == 0 else (rng.uniform(-1, 1) * a, rng.uniform(-1, 1) * b)
        parts.append(ell((off[0], off[1], c * rng.uniform(0.6, 0.9)), (a, b, c), rot_z(rng.uniform(0, math.pi))))
    return parts


MAKERS = [make_car, make_suv, make_van, make_truck, make_pedestrian, make_child, make_cyclist, make_pole,
          make_traffic_light, make_sign, make_tree, make_bush]


def make_occluder(rng):
    kind = rng.integers(0, 5)
    if kind == 0:  # a parked car seen at some angle (low box)
        return [box((0, 0, 0.75), (rng.uniform(1.5, 2.4), rng.uniform(0.8, 0.95), rng.uniform(0.55, 0.75)))]
    if kind == 1:  # a low wall / fence
        return [box((0, 0, 0.5), (rng.uniform(0.8, 3.0), 0.1, rng.uniform(0.3, 0.6)))]
    if kind == 2:  # a bush
        r = rng.uniform(0.4, 1.0)
        return [ell((0, 0, r * 0.8), (r * rng.uniform(1, 1.6), r, r * 0.9))]
    if kind == 3:  # a parked van or bus: hides the lower part of anything behind it, often most of it
        return [box((0, 0, 1.3), (rng.uniform(2.2, 5.0), rng.uniform(0.9, 1.2), rng.uniform(0.9, 1.4)))]
    return [cyl((0, 0, 3.0), rng.uniform(0.15, 0.4), 3.0)]  # a trunk or pillar


# ---------------------------------------------------------------------------------------------
# Ray casting: origin at the sensor (0, 0, 0), directions D [M, 3]; returns t [M] (inf: no hit).


def _first_positive(t0, t1):
    t = np.where(t0 > EPS, t0, np.where(t1 > EPS, t1, np.inf))
    return t


def intersect(prim, D):
    kind, c, R, p = prim
    o = (-c) @ R               # local origin (the sensor, same for every ray)
    d = D @ R                  # local directions
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if kind == "box":
            t1 = (-p - o) / d
            t2 = (p - o) / d
            tmin = np.nanmax(np.minimum(t1, t2), axis=1)
            tmax = np.nanmin(np.maximum(t1, t2), axis=1)
            hit = (tmax >= tmin) & (tmax > EPS)
            return np.where(hit, np.where(tmin > EPS, tmin, tmax), np.inf)
        if kind == "ell":
            o2, d2 = o / p, d / p
            a = np.sum(d2 * d2, axis=1)
            b = 2 * (d2 @ o2)
            cc = o2 @ o2 - 1
            disc = b * b - 4 * a * cc
            sq = np.sqrt(np.maximum(disc, 0))
            t = _first_positive((-b - sq) / (2 * a), (-b + sq) / (2 * a))
            return np.where(disc >= 0, t, np.inf)
        if kind == "cyl":
            r, h = p
            k, m = 0.0, r
        else:
            r0, r1, h = p
            k, m = (r1 - r0) / (2 * h), (r0 + r1) / 2
            r = None
        # side: x^2 + y^2 = (k z + m)^2, |z| <= h, k z + m >= 0
        dx, dy, dz = d[:, 0], d[:, 1], d[:, 2]
        a = dx * dx + dy * dy - k * k * dz * dz
        b = 2 * (o[0] * dx + o[1] * dy - k * dz * (k * o[2] + m))
        cc = o[0] ** 2 + o[1] ** 2 - (k * o[2] + m) ** 2
        disc = b * b - 4 * a * cc
        sq = np.sqrt(np.maximum(disc, 0))
        best = np.full(len(D), np.inf)
        for t in ((-b - sq) / (2 * a), (-b + sq) / (2 * a)):
            z = o[2] + t * dz
            ok = (disc >= 0) & (t > EPS) & (np.abs(z) <= h) & (k * z + m >= 0) & np.isfinite(t)
            best = np.where(ok & (t < best), t, best)
        caps = ((-h, p[0]), (h, p[0] if kind == "cyl" else p[1]))
        for zc, rc in caps:
            t = (zc - o[2]) / dz
            x, y = o[0] + t * dx, o[1] + t * dy
            ok = (t > EPS) & (x * x + y * y <= rc * rc) & np.isfinite(t)
            best = np.where(ok & (t < best), t, best)
        return best


def place(parts, pos, yaw, ground_z):
    """Object frame -> sensor frame."""
    Rz = rot_z(yaw)
    shift = np.array([pos[0], pos[1], ground_z])
    return [(k, Rz @ c + shift, Rz @ R, p) for k, c, R, p in parts]


def bounding_radius(parts):
    r = 0.0
    for kind, c, R, p in parts:
        if kind in ("cyl", "cone"):
            radius = float(max(p[:-1]))
            extent = radius if R[2, 2] > 0.999 else math.hypot(radius, p[-1])
        else:
            extent = float(np.linalg.norm(p)) if kind == "box" else float(np.max(p))
        r = max(r, math.hypot(c[0], c[1]) + extent)
    return r


def simulate(rng, label):
    """One scene of class `label`: returns the object's returns [P, 3] (float32)."""
    while True:
        parts = MAKERS[label](rng)
        rad = bounding_radius(parts)
        rng_m = RANGE[0] + (RANGE[1] - RANGE[0]) * rng.random() ** RANGE_SKEW
        bearing = rng.uniform(-math.pi, math.pi)
        pos = (rng_m * math.cos(bearing), rng_m * math.sin(bearing))
        ground_z = -SENSOR_HEIGHT + rng.uniform(-0.1, 0.1)
        obj = place(parts, pos, rng.uniform(-math.pi, math.pi), ground_z)
        half = math.asin(min(1.0, rad / rng_m)) + 0.02
        lo, hi = bearing - half, bearing + half
        if rng.random() < 0.2:  # a cropped sector (segmentation / field-of-view edge)
            keep = rng.uniform(0.5, 0.9) * (hi - lo)
            if rng.random() < 0.5:
                lo = hi - keep
            else:
                hi = lo + keep
        occ = []
        if rng.random() < OCCLUDED:
            oparts = make_occluder(rng)
            orad = bounding_radius(oparts)
            orng = rng.uniform(0.3, 0.85) * rng_m
            obear = bearing + rng.uniform(-1.0, 1.0) * half
            opos = (orng * math.cos(obear), orng * math.sin(obear))
            if orng > orad + 1.0 and math.hypot(opos[0] - pos[0], opos[1] - pos[1]) > orad + rad:
                occ = place(oparts, opos, rng.uniform(-math.pi, math.pi), ground_z)
        res = math.radians(rng.uniform(0.1, 0.4))
        az = np.arange(lo + rng.uniform(0, res), hi, res)
        beams, el_lo, el_hi = SENSORS[int(rng.integers(0, len(SENSORS)))]
        el = np.radians(np.linspace(el_lo, el_hi, beams))
        A, E = np.meshgrid(az, el, indexing="ij")  # scan order: column by column, beams bottom-up
        D = np.stack([np.cos(E) * np.cos(A), np.cos(E) * np.sin(A), np.sin(E)], axis=-1).reshape(-1, 3)
        t_obj = np.full(len(D), np.inf)
        leafy = np.zeros(len(D), bool)  # the nearest hit is foliage
        for prim in obj:
            t = intersect(prim, D)
            nearer = t < t_obj
            t_obj = np.where(nearer, t, t_obj)
            leafy = np.where(nearer, label in FOLIAGE_CLASSES and prim[0] != "cyl", leafy)
        if leafy.any():  # foliage: beams go some way into the leaves, and through the gaps now and then
            t_obj = t_obj + np.where(leafy, rng.exponential(rng.uniform(0.05, 0.25), len(D)), 0.0)
            t_obj = np.where(leafy & (rng.random(len(D)) < rng.uniform(0.0, 0.25)), np.inf, t_obj)
        t_other = np.full(len(D), np.inf)
        for prim in occ:
            t_other = np.minimum(t_other, intersect(prim, D))
        with np.errstate(divide="ignore"):
            t_ground = np.where(D[:, 2] < -EPS, ground_z / D[:, 2], np.inf)
        on_obj = (t_obj < t_other) & (t_obj < t_ground) & (t_obj < 120.0)
        # imperfect ground removal: some ground returns at the object's foot survive
        gpts = t_ground[:, None] * D
        foot = (t_ground < t_other) & (t_ground < t_obj) & \
            (np.hypot(gpts[:, 0] - pos[0], gpts[:, 1] - pos[1]) < 0.6 * rad + 0.3)
        foot &= rng.random(len(D)) < (rng.uniform(0, 0.15) if rng.random() < 0.3 else 0.0)
        t = np.where(on_obj, t_obj, t_ground)
        keep = on_obj | foot
        keep &= rng.random(len(D)) >= rng.uniform(0.0, MAX_DROPOUT)  # dropout
        t = t + rng.normal(0.0, rng.uniform(0.01, 0.04), len(D))  # range noise
        pts = (t[:, None] * D)[keep]
        if np.count_nonzero(on_obj & keep) >= MIN_POINTS:
            return pts.astype(np.float32)


def write_ipcl(path, clouds, labels, names):
    """Writes the IPCL format documented above (fields = 3). Atomic: via path.tmp, so an interrupted run
    never leaves a truncated file that looks complete."""
    blob = ",".join(names).encode()
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"IPCL" + struct.pack("<IIII", 1, 3, len(clouds), len(blob)) + blob)
        for pts, label in zip(clouds, labels):
            f.write(struct.pack("<iI", int(label), len(pts)))
            f.write(np.ascontiguousarray(pts, dtype="<f4").tobytes())
    os.replace(tmp, path)


def read_ipcl(path):
    """Reader for scripts (the library has its own, in C++)."""
    with open(path, "rb") as f:
        buf = f.read()
    assert buf[:4] == b"IPCL", path
    version, fields, count, nb = struct.unpack_from("<IIII", buf, 4)
    names = buf[20:20 + nb].decode().split(",") if nb else []
    off, clouds, labels = 20 + nb, [], []
    for _ in range(count):
        label, n = struct.unpack_from("<iI", buf, off)
        off += 8
        clouds.append(np.frombuffer(buf, "<f4", n * fields, off).reshape(n, fields))
        labels.append(label)
        off += 4 * n * fields
    return clouds, labels, names


def scene(split, i):
    """Scene i of a split: class i mod len(CLASSES), drawn from PCG64 seeded with (split seed, i) alone, so
    it does not depend on the other scenes, the scene count or the number of worker processes."""
    return simulate(np.random.default_rng([SPLIT_SEEDS[split], i]), i % len(CLASSES))


def _scene_job(args):
    return scene(*args)


def generate(split, count, jobs=1):
    labels = [i % len(CLASSES) for i in range(count)]
    clouds = []
    pool = multiprocessing.Pool(jobs) if jobs > 1 else None
    try:
        scenes = pool.imap(_scene_job, ((split, i) for i in range(count)), chunksize=25) if pool else \
            (scene(split, i) for i in range(count))
        for i, pts in enumerate(scenes):
            clouds.append(pts)
            if (i + 1) % 200 == 0 or i + 1 == count:  # progress: a line per 200 scans, to stderr
                print(f"{split}: {i + 1}/{count} scans", file=sys.stderr, flush=True)
    finally:
        if pool:
            pool.close()
            pool.join()
    return clouds, labels


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "lidar"))
    ap.add_argument("--train", type=int, default=9600)
    ap.add_argument("--calibration", type=int, default=2400)
    ap.add_argument("--test", type=int, default=2400)
    ap.add_argument("--splits", default=",".join(SPLIT_SEEDS),
                    help="comma-separated subset of " + ",".join(SPLIT_SEEDS) + " to write (default: all)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (the output does not depend on it)")
    args = ap.parse_args()
    if args.jobs < 1:
        ap.error(f"--jobs: {args.jobs} (must be >= 1)")
    wanted = [s.strip() for s in args.splits.split(",") if s.strip()]
    for s in wanted:
        if s not in SPLIT_SEEDS:
            ap.error(f"--splits: unknown split '{s}' (choose from {', '.join(SPLIT_SEEDS)})")
    if not wanted:
        ap.error("--splits: no split given")
    os.makedirs(args.out, exist_ok=True)
    for split in (s for s in SPLIT_SEEDS if s in wanted):  # train, calibration, test order
        start = time.time()
        clouds, labels = generate(split, getattr(args, split), args.jobs)
        path = os.path.join(args.out, split + ".ipcl")
        write_ipcl(path, clouds, labels, CLASSES)
        sizes = np.array([len(c) for c in clouds])
        print(f"{split}: {len(clouds)} clouds, points median {int(np.median(sizes))} "
              f"(min {sizes.min()}, max {sizes.max()}) -> {path} [{time.time() - start:.0f} s]", file=sys.stderr)


if __name__ == "__main__":
    main()
