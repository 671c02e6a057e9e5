#!/usr/bin/python3
"""NumPy baselines for eqens' kernel benchmarks (bench/run).

Usage:
  numpy_ntk.py ntk N REPS      analytic NTK of the depth-3 ReLU MLP
                               dense(512,w_std=1.4,b_std=0.1) x3 + readout
                               on the first N MNIST training images, with the
                               same closed forms as eqens (neural-tangents
                               conventions); prints median seconds, peak MiB
                               and a checksum
  numpy_ntk.py lapack N        eigendecomposition (LAPACK dsyevd via
                               numpy.linalg.eigh) plus Cholesky of an N×N
                               kernel matrix; prints seconds and peak MiB

MNIST is read from the gzip IDX file given in $MNIST_IMAGES (bench/run
passes data/mnist/train-images-idx3-ubyte.gz).
"""
import gzip
import os
import resource
import sys
import time

import numpy as np


def mnist(n):
    with gzip.open(os.environ["MNIST_IMAGES"]) as f:
        buf = f.read()
    x = np.frombuffer(buf, dtype=np.uint8, offset=16).reshape(-1, 784)[:n]
    return x.astype(np.float64) / 255.0


def ntk(x, depth=3, w=1.4, b=0.1):
    d = x.shape[1]
    k = x @ x.T / d
    w2, b2 = w * w, b * b
    theta = np.zeros_like(k)
    for layer in range(depth + 1):
        k = w2 * k + b2
        theta = k + w2 * theta
        if layer == depth:
            break
        diag = np.diag(k).copy()
        prod = np.outer(diag, diag)
        s = np.sqrt(np.maximum(prod - k * k, 0))
        th = np.arctan2(s, k)
        kdot = (np.pi - th) / (2 * np.pi)
        k = (s + (np.pi - th) * k) / (2 * np.pi)
        theta = theta * kdot
    return k, theta


def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    what, n = sys.argv[1], int(sys.argv[2])
    if what == "ntk":
        reps = int(sys.argv[3])
        x = mnist(n)
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            _, theta = ntk(x)
            times.append(time.perf_counter() - t)
        times.sort()
        print(f"{times[len(times) // 2]:.4f} {peak():.1f} {theta[0, 0] + theta[-1, -1]:.12g}")
    elif what == "lapack":
        x = mnist(n)
        _, theta = ntk(x)
        theta[np.diag_indices(n)] *= 1 + 1e-6
        t = time.perf_counter()
        np.linalg.eigh(theta)
        np.linalg.cholesky(theta)
        print(f"{time.perf_counter() - t:.4f} {peak():.1f}")


main()
