"""Every benchmark in one command, with the same thread count for every contender.

    python benchmarks/run_all.py [--quick] [--threads 1]

Runs train_step.py (minigrad vs hand-written NumPy vs PyTorch), optim_step.py (Adam and
SGD-momentum against the memory-bandwidth bound), conv_step.py (a LeNet-5 step against
PyTorch), core.py (per-op overhead),
data_loader.py and memory_and_scaling.py, each in its own process with the thread variables
set before NumPy loads. Each writes its JSON into benchmarks/results/.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SCRIPTS = ["train_step.py", "optim_step.py", "conv_step.py", "core.py", "data_loader.py",
           "memory_and_scaling.py"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(args.threads)
    failed = []
    for script in SCRIPTS:
        command = [sys.executable, str(HERE / script)]
        if args.quick:
            command.append("--quick")
        if script in ("train_step.py", "conv_step.py"):
            command += ["--threads", str(args.threads)]
        if script == "data_loader.py":
            command.append("--json")
        print(f"\n=== {' '.join(command[1:])} (threads={args.threads})", flush=True)
        if subprocess.run(command, env=env).returncode != 0:
            failed.append(script)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
