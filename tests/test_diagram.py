"""Architecture diagrams come from a forward pass: the shapes and layers of the package's models, drawn."""
import matplotlib
import torch

from gan_helpers import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from gan_helpers.diagram import Stage, architecture, draw_architecture

matplotlib.use("Agg")


def test_mlp_pair_stages():
    G = MLPGenerator(latent_dim=128, hidden_dims=(256, 512), batch_norm=True)
    stages = architecture(G, torch.randn(2, 128))
    assert [s.shape for s in stages] == [(128,), (256,), (512,), (784,), (1, 28, 28)]
    assert stages[1].layers == ("Linear 128→256", "BatchNorm", "LeakyReLU(0.2)")
    assert stages[-2].layers == ("Linear 512→784", "Tanh") and stages[-1].layers == ("reshape",)
    D = MLPDiscriminator(hidden_dims=(512, 256))
    assert [s.shape for s in architecture(D, torch.randn(2, 1, 28, 28))] == [(1, 28, 28), (784,), (512,), (256,), (1,),
                                                                          ()]


def test_dcgan_64_widths_and_modes():
    G = DCGANGenerator(latent_dim=100, img_size=64, channels=3, features=64)
    G.train()
    stages = architecture(G, torch.randn(2, 100))
    assert [s.shape for s in stages] == [(100,), (512, 4, 4), (256, 8, 8), (128, 16, 16), (64, 32, 32), (3, 64, 64)]
    assert stages[2].layers == ("ConvT 4×4, stride 2", "BatchNorm", "ReLU") and G.training   # mode restored
    D = DCGANDiscriminator(img_size=64, channels=3, features=64, norm="layer", spectral_norm=True)
    stages = architecture(D, torch.randn(2, 3, 64, 64))
    assert stages[1].layers == ("Conv 4×4, stride 2 (SN)", "LeakyReLU(0.2)")
    assert stages[2].layers == ("Conv 4×4, stride 2 (SN)", "LayerNorm", "LeakyReLU(0.2)")
    assert stages[-1] == Stage(("reshape",), ())


def test_conditional_models_and_the_drawing():
    G = DCGANGenerator(latent_dim=8, img_size=28, channels=1, features=4, num_classes=10)
    stages = architecture(G, torch.randn(3, 8), torch.tensor([1, 2, 3]))
    assert stages[0].shape == (8,) and stages[1].shape == (8, 7, 7) and stages[-1].shape == (1, 28, 28)
    drawn = draw_architecture(G, torch.randn(3, 8), torch.tensor([1, 2, 3]), title="G(z, y)")
    ax = matplotlib.pyplot.gca()
    texts = [t.get_text() for t in ax.texts]
    assert drawn == stages and "8×7×7" in texts and "1×28×28" in texts and ax.get_title() == "G(z, y)"
    matplotlib.pyplot.close("all")
