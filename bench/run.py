#!/usr/bin/python3
"""Orchestrates bench/run: see that script. Do not run directly."""
import json
import os
import platform
import statistics
import subprocess
import sys
import time

QUICK = "--quick" in sys.argv[1:]
# --only a,b runs the named workload groups (steps, ensemble, ntk, scale,
# conv-kernels, purego).
GROUPS = {"steps", "ensemble", "ntk", "scale", "conv-kernels", "purego"}
ONLY = set()
for i, a in enumerate(sys.argv[1:]):
    if a == "--only" and i + 2 < len(sys.argv):
        ONLY = set(sys.argv[i + 2].split(","))
if ONLY - GROUPS:
    sys.exit(f"bench/run: --only: unknown workload group(s) {', '.join(sorted(ONLY - GROUPS))}; "
             f"expected a comma-separated list of {', '.join(sorted(GROUPS))}")


def want(group):
    return not ONLY or group in ONLY

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "bin", "eqensbench")
PUREGO_BIN = os.path.join(ROOT, "bin", "eqensbench-purego")
PY = "/usr/bin/python3"
ENV = dict(os.environ, MNIST_IMAGES=os.path.join(ROOT, "data", "mnist", "train-images-idx3-ubyte.gz"),
           OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
results = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "quick": QUICK, "machine": platform.processor() or platform.machine(),
           "cores": os.cpu_count(), "workloads": {}}


def eq(*args, binary=BIN, env=None):
    out = subprocess.run([binary, *args], capture_output=True, text=True, env=env or ENV, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def py(script, *args, env=None):
    out = subprocess.run([PY, os.path.join(ROOT, "bench", script), *map(str, args)], capture_output=True, text=True,
                         env=env or ENV, check=True).stdout
    return out.split()


def ratio(name, ours, base, unit="s", note=""):
    r = ours / base if base else float("nan")
    print(f"RATIO {name} {ours:.6g} {base:.6g} {r:.3f}" + (f"   # {note}" if note else ""), flush=True)
    results["workloads"][name] = {"eqens": ours, "baseline": base, "ratio": r, "unit": unit, "note": note}


# The CPU: model, vector extensions and the kernels each build picks on it.
_info = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
_flags = set(next((l.split(":", 1)[1].split() for l in _info.splitlines() if l.startswith("flags")), []))
_model = next((l.split(":", 1)[1].strip() for l in _info.splitlines() if l.startswith("model name")), platform.processor())
_isa = "AVX-512" if "avx512f" in _flags else ("AVX2" if "avx2" in _flags else "no AVX2")
_kernel = {}
for _b in (BIN, PUREGO_BIN):
    _r = eq("-work", "linalg", "-op", "sgemm", "-n", "8", "-reps", "1", binary=_b)
    _kernel[_r["backend"]] = _r["kernel"]
results["cpu"] = {"model": _model, "isa": _isa, "cores": os.cpu_count(),
                  "extensions": sorted(f for f in _flags if f.startswith(("avx", "fma", "sse4", "amx"))),
                  "kernels": _kernel}
print(f"CPU {_model}, {os.cpu_count()} cores, {_isa}; kernels: "
      + ", ".join(f"{k} {v}" for k, v in _kernel.items()), flush=True)

reps = 10 if QUICK else 30
runs = 1 if QUICK else 5

# 1-3: one SGD step, best of 1 and 2 threads on each side, median over reps
# timed steps, median over runs processes; on the CPU's native kernels and
# on its AVX2 ones (_avx2: GODEBUG=cpu.avx512f=off and OpenBLAS's Haswell
# kernels for eqens, ATEN_CPU_CAPABILITY=avx2 for PyTorch).
# eqens and PyTorch runs alternate, so that a machine whose speed drifts
# (shared hosts) affects both sides alike.
STEP_PATHS = {"": ({}, {}), "_avx2": ({"GODEBUG": "cpu.avx512f=off", "OPENBLAS_CORETYPE": "Haswell"}, {"ATEN_CPU_CAPABILITY": "avx2"})}
for suffix, (eqx, ptx) in (STEP_PATHS.items() if want("steps") else []):
    eenv, penv = dict(ENV, **eqx), dict(ENV, **ptx)
    for work in ("mlp", "cnn", "gcnn"):
        ours, base, mo, mb = {}, {}, 0.0, 0.0
        for th in (1, 2):
            vals, mems, bvals, bmems = [], [], [], []
            for _ in range(runs):
                r = eq("-work", f"{work}-step", "-threads", str(th), "-reps", str(reps), env=eenv)
                vals.append(r["seconds"])
                mems.append(r["peak_mib"])
                s, m = py("torch_steps.py", work, th, reps, env=penv)
                bvals.append(float(s))
                bmems.append(float(m))
            ours[th] = statistics.median(vals)
            mo = max(mo, max(mems))
            base[th] = statistics.median(bvals)
            mb = max(mb, max(bmems))
        bo, bb = min(ours, key=ours.get), min(base, key=base.get)
        ratio(f"{work}_step{suffix}", ours[bo], base[bb], note=f"eqens best with {bo} thread(s), PyTorch with {bb}")
        if not suffix:
            ratio(f"{work}_step_peak_mib", mo, mb, unit="MiB")

# 4: ensemble of 8 CNNs, S steps each, both cores on each side, on both
# paths. PyTorch's time varies by up to 40 % from run to run (its 2-thread
# set-up most): compare medians of several runs (--quick makes one).
if want("ensemble"):
    members, steps = (8, 40) if QUICK else (8, 200)
    eruns = runs
    for suffix, (eqx, ptx) in STEP_PATHS.items():
        eenv, penv = dict(ENV, **eqx), dict(ENV, **ptx)
        vals, mems = [], []
        # PyTorch: one process with 2 threads, or 2 processes with 1 thread and half the members each.
        one, two, tm = [], [], 0.0
        for _ in range(eruns):
            r = eq("-work", "ensemble", "-members", str(members), "-steps", str(steps), env=eenv)
            vals.append(r["seconds"])
            mems.append(r["peak_mib"])
            s, m = py("torch_steps.py", f"ensemble:{members}:{steps}", 2, 1, env=penv)
            one.append(float(s))
            tm = max(tm, float(m))
            t = time.perf_counter()
            procs = [subprocess.Popen([PY, os.path.join(ROOT, "bench", "torch_steps.py"), f"ensemble:{members // 2}:{steps}", "1", "1"],
                                      stdout=subprocess.PIPE, text=True, env=penv) for _ in range(2)]
            outs = [p.communicate()[0].split() for p in procs]
            two.append(time.perf_counter() - t)
            tm = max(tm, sum(float(o[1]) for o in outs))
        ours = statistics.median(vals)
        best = min(statistics.median(one), statistics.median(two))
        ratio(f"ensemble_cnn{suffix}", ours, best, note=f"{members} members x {steps} steps, medians of {eruns} runs: eqens {members * steps / ours:.1f} member-steps/s, "
              f"PyTorch {members * steps / best:.1f} (1 process x 2 threads {statistics.median(one):.1f} s, 2 processes {statistics.median(two):.1f} s)")
        if not suffix:
            ratio("ensemble_cnn_peak_mib", max(mems), tm, unit="MiB", note="PyTorch: the larger of its two set-ups")

# 5: analytic NTK and NTK prediction against NumPy/LAPACK.
if want("ntk"):
    n = 2000 if QUICK else 4000
    vals, nv, nm = [], [], 0.0
    for _ in range(runs):
        vals.append(eq("-work", "ntk-mlp", "-n", str(n), "-reps", "1")["seconds"])
        s, m, _ = py("numpy_ntk.py", "ntk", n, 1)
        nv.append(float(s))
        nm = max(nm, float(m))
    ratio("ntk_mlp", statistics.median(vals), statistics.median(nv), note=f"depth-3 ReLU MLP NTK on {n} MNIST images")
    pv, lv, numpy_lapack = [], [], []
    for _ in range(runs):
        r = eq("-work", "ntk-predict", "-n", str(n), "-threads", "2")
        pv.append(r["seconds"])
        lv.append(r["extra"]["lapack_seconds"])
        numpy_lapack.append(float(py("numpy_ntk.py", "lapack", n, env=dict(ENV, OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2"))[0]))
    ratio("ntk_predict_vs_lapack", statistics.median(pv), statistics.median(lv),
          note=f"N={n}, 10 outputs, 1000 test points, t in (1, 100, inf) vs dsyevd+dpotrf of the same matrix")
    ratio("ntk_predict_vs_numpy", statistics.median(pv), statistics.median(numpy_lapack), note="numpy.linalg.eigh + cholesky")

# 7: scale: averaged-kernel prediction on 40,000 images (quick: 4,000).
if want("scale"):
    ns = 4000 if QUICK else 40000
    d = eq("-work", "dgemm", "-n", "3000" if QUICK else "6000")
    r = eq("-work", "scale", "-n", str(ns), "-test", "1000")
    print(f"SCALE n={ns}: {r['seconds']:.1f} s total (kernel {r['extra']['kernel_seconds']:.1f} s, solve "
          f"{r['extra']['solve_seconds']:.1f} s at {r['extra']['cholesky_gflops']:.1f} GFLOP/s vs dgemm {d['rate']:.1f} GFLOP/s), "
          f"peak {r['peak_mib'] / 1024:.2f} GiB, test accuracy {r['extra']['accuracy']:.4f}", flush=True)
    results["scale"] = {"n": ns, "result": r, "dgemm": d}

# 8: convolutional kernels on full-size images (issue 20's targets), on the
# CPU's native kernels and on its AVX2 ones (GODEBUG=cpu.avx512f=off; the
# NumPy baseline and the dgemm roofline stay native).
if want("conv-kernels"):
    layer = "conv(8,k=3),relu"
    cnn = ",".join([layer] * 3) + ",globalavgpool,dense(1)"
    gcnn = "lift(c4,8,k=3),relu,gconv(8,k=3),relu,gconv(8,k=3),relu,gpool,dense(1)"
    nt = ",".join([layer] * 21) + ",globalavgpool,dense(1)"
    n = 8 if QUICK else 16
    m = 2 if QUICK else 4
    results["conv_kernels"] = {}
    for suffix, extra in {"": {}, "_avx2": {"GODEBUG": "cpu.avx512f=off"}}.items():
        env = dict(ENV, **extra)
        # The roofline is the machine's dgemm rate: the faster of the
        # OpenBLAS build's (whose CPU detection may pick narrower kernels
        # than the CPU has: Debian's OpenBLAS 0.3.21 runs its Haswell
        # kernels on Zen 5) and the pure-Go build's internal/gemm, both on
        # the native kernels, each measured right after every eqens run
        # (alternating, as the NumPy runs do) and taken as its median, as
        # eqens' time is.
        ev, nv, cs, dv = [], [], [], {BIN: [], PUREGO_BIN: []}
        for _ in range(runs):
            r = eq("-work", "conv-kernel", "-arch", cnn, "-n", str(n), "-reps", "1", env=env)
            ev.append(r["seconds"])
            for b in dv:
                dv[b].append(eq("-work", "dgemm", "-n", "2000", binary=b))
            s_, _, c = py("numpy_ntk.py", "cnn", n, 3)
            nv.append(float(s_))
            cs.append((r["extra"]["checksum"], float(c)))
        ours = statistics.median(ev)
        rel = max(abs(a - b) / abs(b) for a, b in cs)
        ratio(f"cnn_kernel_28_vs_numpy{suffix}", ours, statistics.median(nv),
              note=f"conv(8,k=3),relu x3,globalavgpool,dense(1) NTK on {n} MNIST digits at 28x28 (K(X,X), pairs i<=j); kernels agree to {rel:.1e}; {' '.join(f'{k}={v}' for k, v in extra.items()) or 'native kernels'}")
        ds = [dict(v[0], rate=statistics.median(x["rate"] for x in v), rates=[x["rate"] for x in v]) for v in dv.values()]
        d = max(ds, key=lambda x: x["rate"])
        flops = r["extra"]["flops"]
        roof = flops / (d["rate"] * 1e9)
        ratio(f"cnn_kernel_28_vs_roofline{suffix}", ours, roof,
              note=f"{flops / 1e9:.1f} GFLOP (taps, affine, arc-cosine map) at the native dgemm rate {d['rate']:.0f} GFLOP/s "
                   f"({d['backend']} {d['kernel']}, median of {' '.join(f'{x:.0f}' for x in d['rates'])}; "
                   f"the other build: {min(x['rate'] for x in ds):.0f})")
        gv, cv = [], []
        for _ in range(runs):
            gv.append(eq("-work", "conv-kernel", "-arch", gcnn, "-n", str(n // 2), "-reps", "1", env=env)["extra"]["ms_per_entry"])
            cv.append(eq("-work", "conv-kernel", "-arch", cnn, "-n", str(n // 2), "-reps", "1", env=env)["extra"]["ms_per_entry"])
        ratio(f"gcnn_kernel_28_vs_cnn{suffix}", statistics.median(gv), statistics.median(cv),
              note=f"C4 GCNN (lift, gconv x2, gpool) vs the CNN, ms per entry on {n // 2} digits, medians of {runs}")
        r21 = eq("-work", "conv-kernel", "-arch", nt, "-n", str(m), "-hw", "32", "-channels", "3", "-reps", "1", env=env)
        ratio(f"nt_cnn21_ms_per_entry{suffix}", r21["extra"]["ms_per_entry"], 112.9,
              note=f"21 3x3 ReLU convolutions + global average pooling on {m} random 32x32x3 images, float64, K(X,X) with pairs i<=j; "
                   "neural-tangents' published CPU time per entry (>56 cores, float32); its V100 figures: 2.70 ms float32, 6.21 ms float64")
        results["conv_kernels"][suffix or "native"] = {"env": extra, "cnn": ev, "numpy": nv, "dgemm": d, "dgemm_builds": ds, "gcnn_ms": gv, "cnn_small_ms": cv, "nt_cnn21": r21}

# 9: the pure-Go build (bin/eqensbench-purego: internal/gemm, linalg/factor.go)
# against the OpenBLAS build, both on all cores, alternating, on the CPU's
# native kernels and on its AVX2 ones (GODEBUG=cpu.avx512f=off for Go,
# OPENBLAS_CORETYPE=Haswell for OpenBLAS).
if want("purego"):
    ops = [("sgemm", 1000), ("sgemm", 2000), ("dgemm", 1000), ("dgemm", 2000), ("cholesky", 4000), ("eigsym", 2000)]
    if QUICK:
        ops = [("sgemm", 1000), ("dgemm", 1000), ("cholesky", 2000), ("eigsym", 1000)]
    paths = {"": {}, "_avx2": {"GODEBUG": "cpu.avx512f=off", "OPENBLAS_CORETYPE": "Haswell"}}
    results["purego"] = {}
    for suffix, extra in paths.items():
        env = dict(ENV, **extra)
        kernels = [eq("-work", "linalg", "-op", "sgemm", "-n", "64", "-reps", "1", binary=b, env=env)["kernel"] for b in (PUREGO_BIN, BIN)]
        for op, n in ops:
            pv, bv = [], []
            for _ in range(1 if QUICK else 3):
                pv.append(eq("-work", "linalg", "-op", op, "-n", str(n), "-reps", "3", binary=PUREGO_BIN, env=env)["seconds"])
                bv.append(eq("-work", "linalg", "-op", op, "-n", str(n), "-reps", "3", env=env)["seconds"])
            ratio(f"purego_{op}_{n}{suffix}", statistics.median(pv), statistics.median(bv),
                  note=f"{' '.join(f'{k}={v}' for k, v in extra.items()) or 'native kernels'}")
        for work in ("cnn", "mlp"):
            pv, bv = [], []
            for _ in range(1 if QUICK else 3):
                pv.append(min(eq("-work", f"{work}-step", "-threads", str(t), "-reps", str(reps), binary=PUREGO_BIN, env=env)["seconds"] for t in (1, 2)))
                bv.append(min(eq("-work", f"{work}-step", "-threads", str(t), "-reps", str(reps), env=env)["seconds"] for t in (1, 2)))
            ratio(f"purego_{work}_step{suffix}", statistics.median(pv), statistics.median(bv),
                  note="best of 1 and 2 threads on each side")
        print(f"purego{suffix}: pure-Go kernel {kernels[0]}, OpenBLAS core {kernels[1]}", flush=True)
        results["purego"][suffix or "native"] = {"env": extra, "kernels": {"purego": kernels[0], "openblas": kernels[1]}}

# A partial run (--only) does not replace the record of a complete one.
path = os.path.join(ROOT, "bench", "results-only.json" if ONLY else "results.json")
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(results, f, indent=2)
os.replace(tmp, path)
print(f"wrote {path}")
