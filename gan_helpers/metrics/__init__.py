"""Measuring GANs: Fréchet distances, an MNIST classifier for MNIST-domain metrics, mode coverage,
Inception FID for photos, and a `fit` callback that records them into the History.

    frechet.py            frechet_distance(features_a, features_b), feature_stats, the Gaussian closed form
    mnist_classifier.py   MNISTClassifier, its shipped weights (99.34% on the MNIST test set), classify
    mnist.py              mnist_fid, mnist_mode_coverage, mnist_metrics (against the MNIST test set), classify_mnist,
                          mnist_accuracy (digits read as their labels)
    kid.py                kernel_inception_distance: unbiased MMD^2 between feature sets (KID)
    precision_recall.py   precision_recall: improved precision and recall, k-NN balls (Kynkäänniemi 2019)
    faces_encoder.py      FacesEncoder, its shipped weights (self-supervised on the anime faces), embed_faces
    faces.py              faces_metrics: FID, KID, precision/recall of faces in the encoder's features
    coverage.py           mode_coverage: class histogram, classes with >= 1%, normalised entropy
    sharpness.py          laplacian_energy, sharpness_ratio: how much fine detail images have (blur lowers it)
    inception.py          inception_fid, InceptionFID: the standard FID Inception-v3 (needs torch-fidelity
                          and its weights file; a clear error says how to provide it offline)
    callback.py           MetricsCallback(every=N): the metrics of G's samples every N epochs

Images are (N, C, H, W), uint8 in [0, 255] (draw_samples, History.samples) or float in [-1, 1] (G's output).
"""
from .callback import MetricsCallback
from .coverage import ModeCoverage, mode_coverage
from .faces import faces_metrics
from .faces_encoder import FacesEncoder, FacesEncoderWeightsError, embed_faces, load_faces_encoder
from .frechet import FeatureStats, feature_stats, frechet_distance, gaussian_frechet_distance
from .inception import (
    InceptionFeatures,
    InceptionFID,
    InceptionWeightsError,
    find_inception_weights,
    inception_features,
    inception_fid,
)
from .kid import KID, kernel_inception_distance
from .mnist import (
    classify_mnist,
    mnist_accuracy,
    mnist_fid,
    mnist_kid,
    mnist_metrics,
    mnist_mode_coverage,
    mnist_precision_recall,
    mnist_reference_stats,
)
from .mnist_classifier import ClassifierWeightsError, MNISTClassifier, classify, load_mnist_classifier
from .precision_recall import PrecisionRecall, precision_recall
from .sharpness import laplacian_energy, sharpness_ratio

__all__ = [
    "MetricsCallback", "ModeCoverage", "mode_coverage",
    "FeatureStats", "feature_stats", "frechet_distance", "gaussian_frechet_distance",
    "InceptionFeatures", "InceptionFID", "InceptionWeightsError", "find_inception_weights", "inception_features",
    "inception_fid",
    "KID", "kernel_inception_distance", "PrecisionRecall", "precision_recall", "laplacian_energy", "sharpness_ratio",
    "faces_metrics", "FacesEncoder", "FacesEncoderWeightsError", "embed_faces", "load_faces_encoder",
    "mnist_kid", "mnist_precision_recall",
    "classify_mnist", "mnist_accuracy", "mnist_fid", "mnist_metrics", "mnist_mode_coverage", "mnist_reference_stats",
    "ClassifierWeightsError", "MNISTClassifier", "classify", "load_mnist_classifier",
]
