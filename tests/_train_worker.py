"""Run by test_checkpoint.py in a subprocess: train tiny models, optionally resuming, then save the final
weights. Each step sleeps a little. As the "victim", the run stops in the step after its epoch-2 checkpoint
and waits there to be killed: the kill lands in the middle of epoch 3 however slow the machine is."""
import sys
import time

import torch

from gan_helpers import fit, list_checkpoints, load_mnist

from conftest import tiny_config, tiny_data, tiny_models

checkpoint_dir, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
cfg = tiny_config(epochs=6, checkpoint_dir=checkpoint_dir, keep_checkpoints=3)
G, D = tiny_models()


def slow(event, run):
    if event != "step_end":
        return
    time.sleep(0.02)
    if mode == "victim" and any(p.name.startswith("epoch002") for p in list_checkpoints(checkpoint_dir)):
        time.sleep(600)                                    # until the test's SIGKILL


fit(G, D, tiny_data(load_mnist(limit=512)[0], cfg), cfg, progress=False, resume=mode == "resume", callbacks=[slow])
torch.save({"G": G.state_dict(), "D": D.state_dict()}, out)
