"""Where a fit's time goes on this CPU, and the session-20 speed-ups against the code before them (commit b054b03),
in one process, alternating old and new.

Usage: python speed.py   (from benchmarks/probes, kit needed)"""
import importlib.util, subprocess, tempfile
from torch.profiler import profile, ProfilerActivity
from common import *

src = subprocess.run(["git", "show", "b054b03:train/align.py"], capture_output=True, text=True, check=True).stdout
path = Path(tempfile.mkdtemp()) / "align_before.py"
path.write_text(src)
spec = importlib.util.spec_from_file_location("align_before", path)
OLD = importlib.util.module_from_spec(spec); sys.modules["align_before"] = OLD; spec.loader.exec_module(OLD)

x, y, xe, ye, (ox, oy), yA = setup("minilm", "mpnet")

def timed(f, reps=3):
    f(); t = time.perf_counter()
    for _ in range(reps):
        f()
    return round((time.perf_counter() - t) / reps, 3)

times = {}
for rep in range(2):
    for name, M in (("before", OLD), ("now", AL)):
        final = M._FinalSteps(x, y, M.AlignConfig(), np.random.default_rng(0), None)
        w = M.procrustes_from_cross(final.xw.T @ (yA @ final.hy))
        runs = {"final steps (6 of 8,000 per side)": lambda: M._wasserstein_procrustes(final.xw, final.yw, *w, 6, 8000, 0.02, np.random.default_rng(1), None, decay=0.8),
                "restart steps (10 of 2,000 per side)": lambda: M._wasserstein_procrustes(x, y, ox, oy, 10, 2000, 0.05, np.random.default_rng(1), None),
                "mutual_pairs 13,805 x 13,805": lambda: M.mutual_pairs(*final.encode(w), 10),
                "mutual_pairs 6,000 x 6,000": lambda: M.mutual_pairs(x[:6000] @ ox, y[:6000] @ oy, 10)}
        for what, f in runs.items():
            times.setdefault(what, {}).setdefault(name, []).append(timed(f, 1 if "13,805" in what else 2))
for what, t in times.items():
    print(f"{what}: before {t['before']} s, now {t['now']} s")

final = AL._FinalSteps(x, y, AlignConfig(), np.random.default_rng(0), None)
w = whitened_oracle(final, yA)
for label, run in (("restart step, 2,000 per side", lambda: AL._wasserstein_procrustes(x, y, ox, oy, 30, 2000, 0.05, np.random.default_rng(1))),
                   ("final step, 8,000 per side", lambda: AL._wasserstein_procrustes(final.xw, final.yw, *w, 5, 8000, 0.02, np.random.default_rng(1), None, decay=0.8))):
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run()
    ops = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in ops)
    print(label + ": " + ", ".join(f"{e.key} {100 * e.self_cpu_time_total / total:.0f}%" for e in ops[:6]))
