"""
Slow pure-Python Super-BPD (``docs/super-bpd.md``, steps 1-8), written per pixel from that
description as an independent check of ``torch.ops.goss.super_bpd``. Use it on small fields only.
"""

import numpy as np

PI = 3.14159265
DIRS = [(1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1)]


def _circdiff(a, b):
    d = abs(float(np.float32(a) - np.float32(b)))
    return min(d, 2 * PI - d)


class _MinUnionFind:
    """Union-find whose representative is the smallest element."""

    def __init__(self, n):
        self.parent = list(range(n))

    def find(self, x):
        while self.parent[x] != x:
            x = self.parent[x]
        return x

    def union(self, a, b):
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def reference_super_bpd(
    angles, theta_a=45.0, theta_l=116.0, theta_s=68.0, s_o=5.0, quirks=False, return_graph=False
):
    """
    Args:
        angles (ndarray): float32 [H, W] in [0, 2*pi).

    Returns:
        dict of int32 [H, W] ndarrays: roots, before_dilation, after_dilation, labels. With
        return_graph, also "edges" (list of (mean, label_i, label_j) of candidate edges) and
        "repulsive" (set of (label_i, label_j)), in after-dilation labels.
    """
    angles = np.asarray(angles, dtype=np.float32)
    H, W = angles.shape
    P = H * W
    flat = angles.reshape(-1)
    parent = [0] * P
    roots = np.zeros(P, np.int32)
    for h in range(H):
        for w in range(W):
            p = h * W + w
            k = int((float(flat[p]) + PI / 8) / (PI / 4)) % 8
            qh, qw = h + DIRS[k][0], w + DIRS[k][1]
            inside = 0 <= qh < H and 0 <= qw < W
            if not inside or _circdiff(flat[p], flat[qh * W + qw]) > theta_a * PI / 180:
                parent[p], roots[p] = p, 1
            else:
                parent[p] = qh * W + qw
    uf = _MinUnionFind(P)
    for p in range(P):
        uf.union(p, parent[p])
    before = np.array([uf.find(p) + 1 for p in range(P)], np.int32)
    for p in range(P):
        h, w = divmod(p, W)
        for qh in range(max(0, h - 3), min(H, h + 4)):
            for qw in range(max(0, w - 3), min(W, w + 4)):
                if roots[p] and roots[qh * W + qw]:
                    uf.union(p, qh * W + qw)
    after = np.array([uf.find(p) + 1 for p in range(P)], np.int32)

    reps = sorted(set(after.tolist()))
    node_of = {lab: k for k, lab in enumerate(reps)}
    area = [0] * len(reps)
    for lab in after.tolist():
        area[node_of[lab]] += 1

    def walk(p):
        for _ in range(3):
            p = parent[p]
        return p

    sums, counts = {}, {}
    for h in range(H):
        for w in range(W):
            p = h * W + w
            c = (h, w)
            for dh, dw in ((0, 1), (1, 0)):
                qh, qw = c[0] + dh, c[1] + dw
                if qh >= H or qw >= W:
                    continue
                cp, q = c[0] * W + c[1], qh * W + qw
                if after[p] == after[q]:
                    continue
                ni, nj = node_of[after[cp]], node_of[after[q]]
                key = (min(ni, nj), max(ni, nj))
                a, b = walk(cp), walk(q)
                diff = float(np.float32(_circdiff(flat[a], flat[b])))
                sums[key] = sums.get(key, 0.0) + diff
                counts[key] = counts.get(key, 0) + 1
                if quirks:
                    c = (a // W, a % W)

    repulsive = set()
    edges = []
    for key in sorted(sums):
        mean = float(np.float32(sums[key] / counts[key]))
        if mean > PI - s_o * PI / 180:
            repulsive.add(key)
        else:
            edges.append((mean, key[0], key[1]))
    edges.sort()

    n = len(reps)
    group = _MinUnionFind(n)
    rows = {k: set() for k in range(n)}  # quirks: rows of original ids, only the smaller end
    for i, j in repulsive:
        rows[i].add(j)
    members = {k: {k} for k in range(n)}
    rec_area = list(area)
    top = list(range(n))  # quirks: the set's root as the reference's parent[x] = y tracks it

    def repelled(x, y):
        if quirks:
            return top_of[y] in rows[top_of[x]]
        return any((min(a, b), max(a, b)) in repulsive for a in members[x] for b in members[y])

    marked = [False] * len(edges)
    for pass_ in (0, 1):
        for e, (mean, i, j) in enumerate(edges):
            if marked[e]:
                continue
            x, y = group.find(i), group.find(j)
            top_of = {x: top[x], y: top[y]}
            if x == y and not quirks:
                continue
            tx, ty = top[x], top[y]
            m = min(rec_area[tx], rec_area[ty])
            if (m > 250) != (pass_ == 0) or repelled(x, y):
                continue
            thresh = np.float32(PI - (theta_l if m > 1500 else theta_s) * PI / 180)
            if pass_ == 0 and not (mean < thresh):
                continue
            marked[e] = True
            rows[ty] |= rows[tx]
            rec_area[ty] = rec_area[tx] + rec_area[ty]
            if x != y:
                group.union(x, y)
                g = group.find(x)
                members[g] = members[x] | members[y]
                top[g] = ty
    first = {k: reps[group.find(k)] for k in range(n)}
    labels = np.array([first[node_of[lab]] for lab in after], np.int32)
    shape = (H, W)
    out = {
        "roots": roots.reshape(shape),
        "before_dilation": before.reshape(shape),
        "after_dilation": after.reshape(shape),
        "labels": labels.reshape(shape),
    }
    if return_graph:
        out["edges"] = [(mean, reps[i], reps[j]) for mean, i, j in edges]
        out["repulsive"] = {(reps[i], reps[j]) for i, j in repulsive}
    return out
