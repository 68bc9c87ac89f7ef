"""Run by test_checkpoint.py in a subprocess: train tiny models, optionally resuming, then save
the final weights. Each step sleeps a little so the test can kill it mid-run."""
import sys
import time

import torch

from gan_helpers import fit, load_mnist

from conftest import tiny_config, tiny_data, tiny_models

checkpoint_dir, out, resume = sys.argv[1], sys.argv[2], sys.argv[3] == "resume"
cfg = tiny_config(epochs=6, checkpoint_dir=checkpoint_dir, keep_checkpoints=3)
G, D = tiny_models()
slow = [lambda event, run: time.sleep(0.02) if event == "step_end" else None]
fit(G, D, tiny_data(load_mnist(limit=512)[0], cfg), cfg, progress=False, resume=resume, callbacks=slow)
torch.save({"G": G.state_dict(), "D": D.state_dict()}, out)
