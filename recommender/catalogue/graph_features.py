"""Graph features of (learner, item) pairs from the prerequisite graph and a history.

A skill counts as *practised* when the history holds an item that assesses it.

* coverage(H, i): share of item i's skills already practised (0 for an item with none).
* readiness(H, i): share of the direct prerequisites of item i's skills that are practised
  (1 when its skills have no prerequisite outside themselves): the graph's "ready to learn".
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from recommender.catalogue.data import Catalogue, prerequisite_map


class GraphFeatures:
    """Built once per catalogue; :meth:`compute` takes histories (learners x items)."""

    def __init__(self, catalogue: Catalogue) -> None:
        skills = sorted({s for ss in catalogue.skills for s in ss})
        pos = {s: k for k, s in enumerate(skills)}
        pre = prerequisite_map(catalogue)
        rows, cols, prow, pcol = [], [], [], []
        for i, ss in enumerate(catalogue.skills):
            own = set(ss)
            for s in own:
                rows.append(i)
                cols.append(pos[s])
            for p in sorted({p for s in own for p in pre.get(s, ())} - own):
                if p in pos:
                    prow.append(i)
                    pcol.append(pos[p])
        shape = (catalogue.n_items, len(skills))
        self.item_skills = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
        self.item_prereqs = sparse.csr_matrix((np.ones(len(prow)), (prow, pcol)), shape=shape)
        self.skill_ids = tuple(skills)

    def practised(self, history: sparse.csr_matrix) -> sparse.csr_matrix:
        """Learners x skills, 1 where a skill is practised."""
        m = sparse.csr_matrix(sparse.csr_matrix(history > 0, dtype=np.float64) @ self.item_skills)
        m.data[:] = 1.0
        return m

    def compute(self, history: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        """(coverage, readiness), each learners x items."""
        done = self.practised(history)
        n_own = np.asarray(self.item_skills.sum(axis=1)).ravel()
        n_pre = np.asarray(self.item_prereqs.sum(axis=1)).ravel()
        own = np.asarray((done @ self.item_skills.T).todense())
        pre = np.asarray((done @ self.item_prereqs.T).todense())
        coverage = own / np.maximum(n_own, 1)[None, :]
        readiness = np.where(n_pre[None, :] > 0, pre / np.maximum(n_pre, 1)[None, :], 1.0)
        return coverage, readiness
