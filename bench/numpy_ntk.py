#!/usr/bin/python3
"""NumPy baselines for eqens' kernel benchmarks (bench/run).

Usage:
  numpy_ntk.py ntk N REPS      analytic NTK of the depth-3 ReLU MLP
                               dense(512,w_std=1.4,b_std=0.1) x3 + readout
                               on the first N MNIST training images, with the
                               same closed forms as eqens (neural-tangents
                               conventions); prints median seconds, peak MiB
                               and a checksum
  numpy_ntk.py cnn N DEPTH     analytic NTK of conv(k=3),relu x DEPTH +
                               globalavgpool,dense(1) on the first N MNIST
                               digits at 28x28, same recursion and
                               conventions as eqens, vectorised over the
                               pairs (x_i, x_j), j >= i, of each row; prints
                               seconds, peak MiB and the sum of the kernel
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


def conv3(k):
    """Kernel map of a 3x3 same-padded convolution on pair planes
    k[pairs, H, W, H, W]: the mean of the 9 diagonal shifts, zero outside."""
    p, h, w = k.shape[0], k.shape[1], k.shape[2]
    kp = np.zeros((p, h + 2, w + 2, h + 2, w + 2))
    kp[:, 1:-1, 1:-1, 1:-1, 1:-1] = k
    out = np.zeros_like(k)
    for di in range(3):
        for dj in range(3):
            out += kp[:, di:di + h, dj:dj + w, di:di + h, dj:dj + w]
    return out / 9


def relu_map(k, theta, v1, v2):
    """Arc-cosine map of the rectifier; v1[pairs, H, W], v2 likewise."""
    prod = v1[:, :, :, None, None] * v2[:, None, None, :, :]
    s = np.sqrt(np.maximum(prod - k * k, 0))
    th = np.arctan2(s, k)
    return (s + (np.pi - th) * k) / (2 * np.pi), theta * ((np.pi - th) / (2 * np.pi))


def cnn_ntk(x, depth):
    """x: (N, 28, 28) images; the NTK of depth conv+relu layers (w_std 1,
    b_std 0), global average pooling and a dense readout."""
    n, h, w = x.shape
    # Variances of every input at every layer (NNGP of the pairs (x, x)).
    vs = []
    k = np.einsum("aij,akl->aijkl", x, x)
    for _ in range(depth):
        k = conv3(k)
        v = np.einsum("aijij->aij", k).copy()
        vs.append(v)
        k, _ = relu_map(k, k, v, v)
    out = np.zeros((n, n))
    for a in range(n):
        b = np.arange(a, n)
        k = np.einsum("ij,bkl->bijkl", x[a], x[b])
        theta = np.zeros_like(k)
        for layer in range(depth):
            k = conv3(k)
            theta = k + conv3(theta)
            v = vs[layer]
            k, theta = relu_map(k, theta, np.repeat(v[a:a + 1], len(b), axis=0), v[b])
        theta = k.mean(axis=(1, 2, 3, 4)) + theta.mean(axis=(1, 2, 3, 4))
        out[a, b] = theta
        out[b, a] = theta
    return out


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
    elif what == "cnn":
        depth = int(sys.argv[3])
        # eqens stores images as float32: the same values here.
        x = mnist(n).astype(np.float32).astype(np.float64).reshape(n, 28, 28)
        t = time.perf_counter()
        theta = cnn_ntk(x, depth)
        print(f"{time.perf_counter() - t:.4f} {peak():.1f} {theta.sum():.15g}")
    elif what == "lapack":
        x = mnist(n)
        _, theta = ntk(x)
        theta[np.diag_indices(n)] *= 1 + 1e-6
        t = time.perf_counter()
        np.linalg.eigh(theta)
        np.linalg.cholesky(theta)
        print(f"{time.perf_counter() - t:.4f} {peak():.1f}")


main()
