#!/usr/bin/python3
"""PyTorch (CPU, float32) baselines for eqens' benchmarks (bench/run).

Usage: torch_steps.py WORKLOAD THREADS REPS
WORKLOAD: mlp | cnn | gcnn prints the median seconds of one SGD step
(forward, cross-entropy, backward, update) on a batch of 128 random 28x28
images, after warm-up, over REPS timed repetitions, and the peak RSS in MiB.
WORKLOAD ensemble:M:S trains M CNNs (the cnn workload) for S steps each, one
after the other in this process, on 1024 random images, and prints the
seconds and the peak RSS.
"""
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

work, threads, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)


class GCNN(nn.Module):
    """C4 GCNN: lift(c4,4,k=3),relu,gconv(8,k=3),relu,gpool,dense(10)
    built with rotated filters (torch.rot90) and a cycled group axis."""

    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(4, 1, 3, 3) / 3)
        self.b1 = nn.Parameter(torch.zeros(4))
        self.w2 = nn.Parameter(torch.randn(8, 4, 4, 3, 3) / 12)  # out, s, cin, k, k
        self.b2 = nn.Parameter(torch.zeros(8))
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        w = torch.cat([torch.rot90(self.w1, r, (2, 3)) for r in range(4)], 0)
        h = F.relu(F.conv2d(x, w, padding=1) + self.b1.repeat(4).view(1, -1, 1, 1))
        ws = []
        for r in range(4):
            wr = torch.rot90(torch.roll(self.w2, r, 1), r, (3, 4))
            ws.append(wr.reshape(8, 16, 3, 3))
        h = F.relu(F.conv2d(h, torch.cat(ws, 0), padding=1) + self.b2.repeat(4).view(1, -1, 1, 1))
        n = h.shape[0]
        h = h.view(n, 4, 8, 28, 28).mean(dim=(1, 3, 4))
        return self.fc(h)


def cnn():
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))


if work.startswith("ensemble:"):
    _, members, steps = work.split(":")
    xs = torch.randn(1024, 1, 28, 28)
    ys = torch.randint(0, 10, (1024,))
    t0 = time.perf_counter()
    for m in range(int(members)):
        torch.manual_seed(m)
        model = cnn()
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        g = torch.Generator().manual_seed(m)
        for s in range(int(steps)):
            idx = torch.randint(0, 1024, (128,), generator=g)
            opt.zero_grad()
            F.cross_entropy(model(xs[idx]), ys[idx]).backward()
            opt.step()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{time.perf_counter() - t0:.4f} {rss:.1f}")
    raise SystemExit(0)

if work == "mlp":
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
elif work == "cnn":
    model = cnn()
elif work == "gcnn":
    model = GCNN()
else:
    raise SystemExit("unknown workload " + work)
opt = torch.optim.SGD(model.parameters(), lr=0.01)
x = torch.randn(128, 1, 28, 28)
y = torch.randint(0, 10, (128,))


def step():
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()


for _ in range(5):
    step()
times = []
for _ in range(reps):
    t = time.perf_counter()
    step()
    times.append(time.perf_counter() - t)
times.sort()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{times[len(times) // 2]:.6f} {rss:.1f}")
