"""Matrix factorisation: implicit-feedback ALS (``implicit``) with the user folded in.

Item factors are fitted with ``implicit``'s ALS (Hu, Koren and Volinsky, 2008) on the
users met (or a log); a visiting user's factors are solved from their own history and
clicks (the same least-squares step ALS takes for a user), so a new user needs no refit.
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np

from simrec.errors import ConfigError
from simrec.policies.history import HistoryPolicy


class MFPolicy(HistoryPolicy):
    """Recommends by matrix factorisation of the users met (ALS), folding in the visitor.

    Args:
        factors: latent dimensions.
        regularization: ridge on the factors.
        alpha: confidence of an observed item (``1 + alpha``).
        iterations: ALS sweeps.
    """

    name = "mf"

    def __init__(
        self,
        env: gym.Env,
        seed: int | None = None,
        factors: int = 32,
        regularization: float = 0.1,
        alpha: float = 2.0,
        iterations: int = 15,
        **kwargs,
    ) -> None:
        if factors < 1 or regularization < 0 or alpha <= 0 or iterations < 1:
            raise ValueError(
                "mf: expected factors >= 1, regularization >= 0, alpha > 0, iterations >= 1"
            )
        self.factors, self.regularization = int(factors), float(regularization)
        self.alpha, self.iterations = float(alpha), int(iterations)
        self.seed = 0 if seed is None else int(seed)
        super().__init__(env, seed, **kwargs)

    def refit(self, matrix: np.ndarray) -> None:
        try:
            import scipy.sparse
            from implicit.cpu.als import AlternatingLeastSquares
            from threadpoolctl import threadpool_limits
        except ImportError:
            raise ConfigError(
                "policy 'mf' needs the implicit library: pip install 'simrec[grounding]'"
            ) from None
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            # implicit warns about BLAS threads even inside threadpool_limits
            warnings.filterwarnings(
                "ignore", message=".*OpenBLAS is configured", category=RuntimeWarning
            )
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
                num_threads=1,  # one thread: the same factors on every machine
            )
            model.fit(scipy.sparse.csr_matrix(matrix), show_progress=False)
        self.item_factors = np.asarray(model.item_factors, dtype=np.float64)
        self.gram = self.item_factors.T @ self.item_factors
        self.popularity = np.log1p(matrix.sum(axis=0))

    def score_user(self, weights: np.ndarray) -> np.ndarray:
        chosen = np.flatnonzero(weights)
        y = self.item_factors[chosen]
        confidence = 1.0 + self.alpha * weights[chosen]
        a = self.gram + (y.T * (confidence - 1.0)) @ y + self.regularization * np.eye(self.factors)
        user = np.linalg.solve(a, y.T @ confidence)
        return self.item_factors @ user + 1e-6 * self.popularity
