"""The SR search: genetic programming, greedy local search and the final selection."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import expit

from skneuron.discovery.sr._library import TermLibrary
from skneuron.discovery.sr._scoring import CandidateScores, fold_rows
from skneuron.discovery.sr._trees import BINARY, LEAF, enumerate_trees
from skneuron.discovery.sr._variation import INIT_DEPTH, Variation

__all__ = ["N_REPORTED", "Search"]

#: How many of the best candidates ``details["hall_of_fame"]`` lists (and how
#: many other terms the selection reports evidence for).
N_REPORTED = 10
# Terms tried by a local search step: half the most used in the population,
# half those best correlated with the current residual.
_LOCAL_LIBRARY = 40


class Search:
    """One SR run over standardised targets: its terms, scores and population.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The used rows, in the units searched.
    Y : ndarray of shape (n_samples, n_outputs)
        The standardised, non-constant targets.
    functions : tuple of str
        The base functions.
    max_terms, max_complexity, max_order, max_nesting : int
        Limits on candidates and terms.
    parsimony : float
        Price of one complexity unit in ``J``.
    rng : numpy.random.Generator
        Deals the folds and drives the genetic programming.
    n_jobs : int or None
        Threads evaluating large batches of new terms.

    Attributes
    ----------
    library : TermLibrary
        Every term class met, with its feature.
    scores : CandidateScores
        Every candidate scored.
    population : list of tuple
        The last generation, best first.
    """

    def __init__(self, X, Y, *, functions, max_terms, max_complexity, max_order, max_nesting,
                 parsimony, rng, n_jobs):
        row_order, slices = fold_rows(len(X), rng)
        self.library = TermLibrary(X, row_order, functions=functions,
                                   max_complexity=max_complexity, max_order=max_order,
                                   max_nesting=max_nesting, n_jobs=n_jobs)
        self.scores = CandidateScores(self.library, Y[row_order], slices, parsimony)
        # A class renamed to a simpler form changes the complexity of its candidates.
        self.library.on_rename = self.scores.refresh
        self.variation = Variation(self.library, self.scores, functions=functions,
                                   max_terms=max_terms, rng=rng)
        self.functions, self.max_terms, self.rng = functions, max_terms, rng
        self.population: list[tuple] = []

    # ------------------------------------------------------------ the loop
    def run(self, population_size, generations, n_iter_no_change, tournament_size) -> list:
        """Evolve the population; return the best ``J`` at the start and after each generation."""
        rank_key = self.scores.rank_key
        self.scores.score([()])
        population = self._initial(population_size)
        population.sort(key=rank_key)
        population[0] = self.local_search(population[0], population)
        history = [self.scores.J(population[0])]
        n_elite = max(1, population_size // 20)
        stale = 0
        for _ in range(generations):
            population = self._next_generation(population, population_size, n_elite,
                                                 tournament_size)
            population[0] = self.local_search(population[0], population)
            best = self.scores.J(population[0])
            stale = stale + 1 if best >= history[-1] - 1e-12 else 0
            history.append(best)
            if stale >= n_iter_no_change:
                break
        self.population = population
        return history

    def _initial(self, population_size):
        """Every term of up to three levels (and ``x`` times it) alone, the best of them, and
        random pairs and triples of the best."""
        rng = self.rng
        trees = enumerate_trees(self.variation.unary, self.variation.binary, INIT_DEPTH)
        if "mul" in self.functions:  # x times every such term: x*cos(x), x*exp(-x**2), ...
            trees += [("mul", LEAF, t) for t in trees if t[0] not in BINARY]
        classes = sorted({t for ids in self.library.resolve(trees) for t in ids})
        singles = [(t,) for t in classes]
        self.scores.score(singles)
        ranked = sorted(singles, key=self.scores.rank_key)
        population = ranked[: max(1, population_size // 2)]
        top = [c[0] for c in ranked[: max(8, population_size // 4)]]
        seen = set(population)
        for _ in range(4 * population_size):
            if len(population) >= population_size or self.max_terms < 2 or len(top) < 2:
                break
            size = int(rng.integers(2, min(3, self.max_terms, len(top)) + 1))
            child = tuple(sorted(top[i] for i in rng.choice(len(top), size, replace=False)))
            if child not in seen:
                seen.add(child)
                population.append(child)
        self.scores.score(population)
        return population

    def _next_generation(self, population, population_size, n_elite, tournament_size):
        """The elite and the distinct new offspring, scored and sorted best first."""
        seen = set(population[:n_elite])
        offspring = [self.variation.offspring(population, tournament_size)
                     for _ in range(population_size - n_elite)]
        children = []
        for child in self.variation.candidates(offspring):
            if child and child not in seen:
                seen.add(child)
                children.append(child)
        self.scores.score(children)
        return sorted(population[:n_elite] + children, key=self.scores.rank_key)

    # ------------------------------------------------------------ local search
    def _most_used(self, population, size):
        """The ``size`` terms used by most candidates of ``population``."""
        counts: dict[int, int] = {}
        for c in population:
            for t in c:
                counts[t] = counts.get(t, 0) + 1
        ranked = sorted(counts, key=lambda t: (-counts[t], t))
        return ranked[:size]

    def _best_correlated(self, candidate, size):
        """The ``size`` terms best correlated with the candidate's residual."""
        n_classes = len(self.library)
        if n_classes <= size:
            return list(range(n_classes))
        features = self.library.features
        coef, intercept = self.scores.coefficients(candidate)
        residual = self.scores.Y - intercept - features[list(candidate)].T @ coef
        score = np.abs(features[:n_classes] @ residual).sum(axis=1)
        score[list(candidate)] = -1.0
        return [int(t) for t in np.argsort(-score, kind="stable")[:size]]

    def local_search(self, candidate, population, library_size=_LOCAL_LIBRARY):
        """Greedy descent of J over drop / add / swap one term.

        The terms tried are the most used ones in ``population`` and those
        best correlated with the current residual.
        """
        used = self._most_used(population, library_size // 2)
        while True:
            library = list(dict.fromkeys(used + self._best_correlated(candidate,
                                                                      library_size // 2)))
            neighbours = []
            current = set(candidate)
            if len(candidate) > 1:
                neighbours += [tuple(t for t in candidate if t != drop) for drop in candidate]
            outside = [t for t in library if t not in current]
            if len(candidate) < self.max_terms:
                neighbours += [tuple(sorted(candidate + (t,))) for t in outside]
            for drop in candidate:
                rest = tuple(t for t in candidate if t != drop)
                neighbours += [tuple(sorted(rest + (t,))) for t in outside]
            self.scores.score(neighbours)
            best = min(neighbours + [candidate], key=self.scores.rank_key)
            if best == candidate:
                return candidate
            candidate = best

    def refine(self):
        """Make the lowest J ever seen a local minimum, with a wider term library."""
        rank_key = self.scores.rank_key
        pool = self.population + self.scores.ranked(50)
        best = min(self.scores.scores, key=rank_key)
        while True:  # until the best ever seen is a local minimum of J
            self.local_search(best, pool, library_size=4 * _LOCAL_LIBRARY)
            refined = min(self.scores.scores, key=rank_key)
            if refined == best:
                break
            best = refined
        return best

    # ------------------------------------------------------------ selection
    def select(self, temperature):
        """The selected candidate and the evidence for each term.

        Start from the simplest candidate whose J is within one paired
        standard error of the lowest J; then alternately drop every term whose
        removal does not raise J and add the term whose addition lowers J by
        more than the paired standard error of the difference, until neither
        applies. The evidence for a selected term ``t`` is
        ``σ((J(S∖t) − J(S)) / T)``, for another term ``σ((J(S) − J(S∪t) − se) / T)``:
        above 0.5 exactly for the selected terms.
        """
        pool = self.population + self.scores.ranked(N_REPORTED)
        S = self._prune_and_grow(self._within_one_standard_error(), pool)
        J = self.scores.J
        evidence = {}
        for t in S:
            drop = tuple(u for u in S if u != t)
            self.scores.score([drop])
            evidence[t] = J(drop) - J(S)
        others = {t: min(gain, 0.0) for t, gain in self._add_gains(S, pool).items()}
        for t in sorted(others, key=lambda t: -others[t])[:N_REPORTED]:
            evidence.setdefault(t, others[t])
        return S, {t: float(expit(e / temperature)) for t, e in evidence.items()}

    def _within_one_standard_error(self):
        """Simplest candidate whose J is within one paired standard error of the lowest J."""
        keys = list(self.scores.scores)
        fold_loss = np.stack([self.scores.fold_loss[c] for c in keys])  # (N, K)
        J = np.array([self.scores.scores[c][2] for c in keys])
        simplicity = np.empty(len(keys), dtype=np.intp)  # rank in the tie-break order
        simplicity[sorted(range(len(keys)), key=lambda i: self.scores.simplicity_key(keys[i]))] = \
            np.arange(len(keys))
        best = int(np.lexsort((simplicity, J))[0])
        gap = fold_loss - fold_loss[best]
        se = gap.std(axis=1, ddof=1) / math.sqrt(fold_loss.shape[1])
        band = np.flatnonzero(J - J[best] <= se)
        return keys[int(band[np.argmin(simplicity[band])])]

    def _prune_and_grow(self, S, pool):
        """Drop terms that do not raise J and add the one that lowers it most, until stable."""
        J = self.scores.J
        for _ in range(4 * self.max_terms + 4):
            changed = False
            while S:
                drops = [tuple(u for u in S if u != t) for t in S]
                self.scores.score(drops)
                drop = min(drops, key=self.scores.rank_key)
                if J(drop) > J(S):
                    break
                S, changed = drop, True
            gains = self._add_gains(S, pool) if len(S) < self.max_terms else {}
            if gains and max(gains.values()) > 0:
                t = max(gains, key=gains.get)
                S, changed = tuple(sorted(S + (t,))), True
            if not changed:
                break
        return S

    def _add_gains(self, S, pool):
        """``J(S) − J(S∪t) − se`` for the library terms ``t`` (most used, best screened)."""
        library = list(dict.fromkeys(self._most_used(pool, _LOCAL_LIBRARY // 2)
                                     + self._best_correlated(S, _LOCAL_LIBRARY // 2)))
        library = [t for t in library if t not in S]
        added = [tuple(sorted(S + (t,))) for t in library]
        self.scores.score(added)
        fold_loss, J = self.scores.fold_loss, self.scores.J
        K = len(fold_loss[S])
        gains = {}
        for t, c in zip(library, added):
            se = (fold_loss[c] - fold_loss[S]).std(ddof=1) / math.sqrt(K)
            gains[t] = J(S) - J(c) - se
        return gains
