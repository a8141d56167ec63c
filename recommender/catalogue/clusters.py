"""Clustering of learners: k-means on their interaction vectors; each learner gets what their
cluster took up most, and PCA draws the clusters in two dimensions.

Learners' rows (binary, L2-normalised, so that long and short histories compare by direction)
are clustered with scikit-learn ``KMeans`` (Lloyd's algorithm, k-means++ starts). A history is
assigned to its nearest centroid; score(H, i) = share of that cluster's training learners who
took item i up. :func:`pca_picture` saves a PNG of the training learners projected on their
first two principal components, coloured by cluster.

Args: clusters (default 8), seed (default 0), n_init (default 4).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA

from recommender.catalogue.base import check_history, check_shapes, row_normalise
from recommender.catalogue.data import Catalogue
from recommender.errors import InvalidParameterError


class LearnerClusters:
    name = "clusters"

    def __init__(self, clusters: int = 8, seed: int = 0, n_init: int = 4) -> None:
        if clusters < 1:
            raise InvalidParameterError("clusters", clusters, "at least 1")
        self.clusters = clusters
        self.seed = seed
        self.n_init = n_init
        self.model: KMeans | None = None
        self.shares: np.ndarray | None = None  # clusters x items
        self.vectors: sparse.csr_matrix | None = None

    def fit(self, train: sparse.csr_matrix, catalogue: Catalogue) -> None:
        check_shapes(train, catalogue)
        binary = sparse.csr_matrix((train > 0).astype(np.float64))
        self.vectors = row_normalise(binary)
        k = max(1, min(self.clusters, binary.shape[0]))
        self.model = KMeans(n_clusters=k, n_init=self.n_init, random_state=self.seed)
        labels = self.model.fit_predict(self.vectors)
        shares = np.zeros((k, binary.shape[1]))
        for c in range(k):
            members = binary[labels == c]
            if members.shape[0]:
                shares[c] = np.asarray(members.mean(axis=0)).ravel()
        self.shares = shares

    def assign(self, history: sparse.csr_matrix) -> np.ndarray:
        """The cluster of each history row."""
        check_history(history, None if self.shares is None else self.shares.shape[1])
        assert self.model is not None
        return np.asarray(
            self.model.predict(row_normalise(sparse.csr_matrix(history, dtype=float)))
        )

    def score(self, history: sparse.csr_matrix) -> np.ndarray:
        labels = self.assign(history)
        assert self.shares is not None
        return np.asarray(self.shares[labels])


def pca_picture(model: LearnerClusters, path: str | Path, title: str = "") -> Path:
    """Save the training learners in 2-D (PCA of their vectors), coloured by k-means cluster."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if model.vectors is None or model.model is None:
        raise InvalidParameterError("model", "unfitted", "fit() before pca_picture()")
    dense = np.asarray(model.vectors.todense())
    xy = PCA(n_components=2, random_state=model.seed).fit_transform(dense)
    labels = model.model.labels_
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    sc = ax.scatter(xy[:, 0], xy[:, 1], c=labels, cmap="tab10", s=8, alpha=0.8)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title(title or f"{dense.shape[0]} learners, k-means k={len(set(labels.tolist()))}")
    fig.colorbar(sc, ax=ax, label="cluster")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
