"""Fault injection: a training killed 20 times at random moments (inside checkpoint writes too) and resumed
after each kill ends with exactly the weights of a run never disturbed, and leaves no file behind."""
import json
import subprocess
import sys
from pathlib import Path

WORKER = Path(__file__).with_name("_fault_worker.py")
KILLS = 20


def test_random_kills_resume_bit_exact_and_leave_nothing_behind(tmp_path):
    done = subprocess.run([sys.executable, str(WORKER), str(tmp_path), "16", str(KILLS), str(tmp_path / "out.json")],
                          cwd=WORKER.parent, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    seen = json.loads((tmp_path / "out.json").read_text())
    runs = seen["runs"]
    # every kill ended a training that was still running: SIGKILL (-9), SIGTERM's save and exit 143, or SIGTERM
    # before fit had installed its handler (-15); then the last resume finished the run
    assert [run["exit"] in (-9, -15, 143) for run in runs[:KILLS]] == [True] * KILLS, runs
    assert runs[-1]["exit"] == 0, runs
    assert sum(run["exit"] == -9 for run in runs if run["mode"] == "write") >= 4, runs     # inside file operations
    assert seen["differing_checkpoints"] == [], seen
    assert seen["final_weights_equal"], seen
    assert seen["grids_differing"] == [], seen
    epochs = [f"samples/epoch_{e:03d}.png" for e in range(1, 31)]
    assert seen["victim_files"] == sorted(["checkpoints", "checkpoints/epoch029_step0000232.pt",
                                           "checkpoints/epoch030_step0000240.pt", "final.pt", "moments.txt",
                                           "samples", *epochs]), seen["victim_files"]
