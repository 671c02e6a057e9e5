#!/usr/bin/python3
"""Cross-check eqens' CNN and C4 GCNN forward passes against PyTorch.

Usage: crosscheck_gcnn.py DIR

DIR holds, written by eqens' TestCrossCheckPyTorch: x.npy (N, C, H, W),
layerNN.weight.npy / layerNN.bias.npy in eqens' layouts, spec.txt (one layer
per line: kind,out,k,scale,bias_scale) and y.npy (eqens' outputs). The
script rebuilds the network with torch.nn.functional.conv2d, rotating
filters with torch.rot90 and cycling the group axis with torch.roll (the
construction of Cohen & Welling and of the equivariant-ntk reference code),
and prints the largest absolute difference to eqens' outputs.
"""
import sys
import numpy as np
import torch
import torch.nn.functional as F

d = sys.argv[1]
x = torch.tensor(np.load(f"{d}/x.npy"), dtype=torch.float64)
layers = [l.strip().split(",") for l in open(f"{d}/spec.txt") if l.strip()]
h = x  # NCHW, group features are N, (G*C), H, W with index g*C + c
G = 4
for i, (kind, out, k, scale, bscale) in enumerate(layers):
    out, k, scale, bscale = int(out), int(k), float(scale), float(bscale)
    if kind in ("conv", "lift", "gconv"):
        w = torch.tensor(np.load(f"{d}/layer{i:02d}.weight.npy"), dtype=torch.float64)
        b = torch.tensor(np.load(f"{d}/layer{i:02d}.bias.npy"), dtype=torch.float64)
        if kind == "conv":  # eqens: [out, k, k, cin]
            wt = w.permute(0, 3, 1, 2)
            h = scale * F.conv2d(h, wt, padding=k // 2) + bscale * b.view(1, -1, 1, 1)
        elif kind == "lift":  # [out, k, k, cin] -> 4 rotated copies
            wt = w.permute(0, 3, 1, 2)
            ws = [torch.rot90(wt, r, dims=(2, 3)) for r in range(G)]
            y = scale * F.conv2d(h, torch.cat(ws, 0), padding=k // 2)  # N, G*out, H, W (g major)
            h = y + bscale * b.repeat(G).view(1, -1, 1, 1)
        else:  # gconv: [out, |S|=4, k, k, cin]; input channels g*cin + c
            cin = w.shape[4]
            wt = w.permute(0, 1, 4, 2, 3)  # out, s, cin, k, k
            ws = []
            for r in range(G):
                wr = torch.roll(wt, r, dims=1)  # index s' holds kappa(r^-1 s')
                wr = torch.rot90(wr, r, dims=(3, 4))
                ws.append(wr.reshape(out, G * cin, k, k))
            y = scale * F.conv2d(h, torch.cat(ws, 0), padding=k // 2)
            h = y + bscale * b.repeat(G).view(1, -1, 1, 1)
    elif kind == "relu":
        h = torch.relu(h)
    elif kind == "maxpool":
        h = F.max_pool2d(h, 2)
    elif kind == "gpool":
        n, gc, hh, ww = h.shape
        h = h.view(n, G, gc // G, hh, ww).mean(dim=(1, 3, 4))
    elif kind == "gap":
        h = h.mean(dim=(2, 3))
    elif kind == "dense":
        w = torch.tensor(np.load(f"{d}/layer{i:02d}.weight.npy"), dtype=torch.float64)
        b = torch.tensor(np.load(f"{d}/layer{i:02d}.bias.npy"), dtype=torch.float64)
        h = scale * h.reshape(h.shape[0], -1) @ w.T + bscale * b
    else:
        raise SystemExit(f"unknown layer {kind}")
y = np.load(f"{d}/y.npy")
print(f"{np.max(np.abs(h.numpy() - y)):.3e}")
