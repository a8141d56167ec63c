"""ROC and calibration (reliability) plots as PNG files (matplotlib, Agg backend)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tracing.metrics import auc, expected_calibration_error, reliability_curve, roc_points


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_roc(curves: Sequence[tuple[str, np.ndarray, np.ndarray]], path: Path,
             title: str = "ROC") -> Path:
    """One ROC curve per ``(label, y_true, y_prob)``; returns the PNG path."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    for label, y, p in curves:
        fpr, tpr = roc_points(y, p)
        ax.plot(fpr, tpr, label=f"{label} (AUC {auc(y, p):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=title,
           xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_calibration(curves: Sequence[tuple[str, np.ndarray, np.ndarray]], path: Path,
                     title: str = "Calibration", n_bins: int = 10) -> Path:
    """Reliability diagram (equal-width bins, as in the ECE) per ``(label, y_true, y_prob)``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    for label, y, p in curves:
        c = reliability_curve(y, p, n_bins)
        ece = expected_calibration_error(y, p, n_bins)
        ax.plot(c.mean_predicted, c.fraction_correct, marker="o",
                label=f"{label} (ECE {ece:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    ax.set(xlabel="predicted P(correct)", ylabel="fraction correct", title=title,
           xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
