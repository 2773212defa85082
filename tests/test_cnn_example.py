"""examples/cnn_vs_mlp.py runs (quick mode), every check of its claim holds, and the numbers
it prints agree with the models it describes."""

import os
import re
import subprocess
import sys
from pathlib import Path

from minigrad import nn

ROOT = Path(__file__).resolve().parent.parent


def test_cnn_vs_mlp_example(tmp_path):
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": path}
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "cnn_vs_mlp.py"),
                             "--quick", "--seed", "1", "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=120, env=env)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert out.rstrip().endswith("claim holds: every check passed")
    assert "[FAIL]" not in out and out.count("[ok  ]") == 4
    # The parameter counts printed are those of the models the example builds.
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import cnn_vs_mlp
    finally:
        sys.path.pop(0)
    for label, make in (("MLP 64-64-10", cnn_vs_mlp.make_mlp),
                        ("CNN (LeNet-style)", cnn_vs_mlp.make_cnn)):
        count = sum(p.array.size for p in make().parameters())
        printed = re.search(re.escape(label) + r"\s+([\d,]+)", out).group(1)
        assert int(printed.replace(",", "")) == count
    assert isinstance(cnn_vs_mlp.make_cnn()[0], nn.Conv2d)
