"""Run by test_distributed.py, alone or under torchrun: train a GAN without BatchNorm (MLP G and D)
on 256 real MNIST digits, then rank 0 saves the final weights. Every rank then checks that fit closed
the process group: no gloo thread is left to outlive Python (such threads can abort a process at exit).

    python tests/_ddp_worker.py CHECKPOINT_DIR OUT EPOCHS [resume] [kill-rank-1-at-step-N]
"""
import os
import signal
import sys
from pathlib import Path

import torch

from gan_helpers import MLPDiscriminator, MLPGenerator, TensorBatches, TrainConfig, fit, load_mnist

checkpoint_dir, out, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
options = sys.argv[4:]
torch.manual_seed(0)
G, D = MLPGenerator(latent_dim=8, hidden_dims=(32,)), MLPDiscriminator(hidden_dims=(32,))
cfg = TrainConfig(epochs=epochs, batch_size=32, n_samples=8, device="cpu", checkpoint_dir=checkpoint_dir)
data = TensorBatches(load_mnist(limit=256)[0], batch_size=cfg.batch_size)


class DieOnRank1:
    """The data, except that rank 1 kills itself (SIGKILL: no goodbye) when it asks for batch N."""
    def __init__(self, data, at: int):
        self.data, self.at, self.batch_size = data, at, data.batch_size

    def __len__(self):
        return len(self.data)

    def __iter__(self):
        for i, batch in enumerate(self.data):
            if i == self.at and os.environ.get("RANK") == "1":
                os.kill(os.getpid(), signal.SIGKILL)
            yield batch


for option in options:
    if option.startswith("kill-rank-1-at-step-"):
        data = DieOnRank1(data, int(option.rsplit("-", 1)[1]))
fit(G, D, data, cfg, progress=False, resume="resume" in options)
if os.environ.get("RANK", "0") == "0":
    torch.save({"G": G.state_dict(), "D": D.state_dict()}, out)
threads = [(task / "comm").read_text().strip() for task in Path("/proc/self/task").iterdir()]
if any("gloo" in name for name in threads):
    sys.exit(f"rank {os.environ.get('RANK')}: fit returned with the process group's threads alive: {threads}")
