"""Variation of SR candidates: the genetic operators that breed new ones.

An offspring is first a list of *term sources* — class ids taken over from
its parents, or new trees — and then resolved, through the
:class:`~skneuron.discovery.sr._library.TermLibrary`, to a candidate (a
sorted tuple of class ids).
"""

from __future__ import annotations

import numpy as np

from skneuron.discovery.sr._library import TermLibrary
from skneuron.discovery.sr._scoring import CandidateScores
from skneuron.discovery.sr._trees import (
    LEAF,
    depth,
    operators,
    paths,
    replace_subtree,
    subtree,
)

__all__ = ["INIT_DEPTH", "Variation"]

#: Depth of new random trees (and of the first population's trees).
INIT_DEPTH = 3
# Depth limit of any tree; a deeper offspring is replaced by a random tree.
_MAX_DEPTH = 5

# Probabilities of the variation operators (in this order).
_OPERATORS = ("crossover", "subtree_crossover", "subtree_mutation", "point_mutation", "wrap",
              "product", "add_term", "delete_term", "replace_term")
_OPERATOR_P = np.array([0.20, 0.10, 0.15, 0.10, 0.10, 0.10, 0.10, 0.08, 0.07])
# The operators that edit one term's tree.
_TREE_OPERATORS = ("subtree_crossover", "subtree_mutation", "point_mutation", "wrap", "product")


class Variation:
    """Breeds offspring from a scored population.

    Parameters
    ----------
    library : TermLibrary
        The term classes (their trees are what tree operators edit).
    scores : CandidateScores
        Ranks the parents of a tournament.
    functions : tuple of str
        The base functions new trees may use.
    max_terms : int
        Most terms of a candidate.
    rng : numpy.random.Generator
        The search's generator; every random choice of the operators is drawn from it.
    """

    def __init__(self, library: TermLibrary, scores: CandidateScores, *, functions, max_terms,
                 rng: np.random.Generator):
        self.library, self.scores = library, scores
        self.functions, self.max_terms, self.rng = functions, max_terms, rng
        self.unary, self.binary = operators(functions)

    def random_tree(self, max_depth: int, p_leaf: float = 0.3):
        """A random tree of at most ``max_depth`` levels."""
        rng = self.rng
        if max_depth <= 1 or rng.random() < p_leaf:
            return LEAF
        if self.binary and rng.random() < 0.3:
            op = self.binary[rng.integers(len(self.binary))]
            return (op, self.random_tree(max_depth - 1, p_leaf),
                    self.random_tree(max_depth - 1, p_leaf))
        if not self.unary:
            return LEAF
        op = self.unary[rng.integers(len(self.unary))]
        return (op, self.random_tree(max_depth - 1, p_leaf))

    def tournament(self, population, k):
        """The best of ``k`` candidates drawn at random from ``population``."""
        picks = self.rng.integers(len(population), size=k)
        return min((population[i] for i in picks), key=self.scores.rank_key)

    def _pick_tree(self, candidate):
        """A random term of ``candidate`` that has a tree, and the tree (or None, None)."""
        with_trees = [t for t in candidate if self.library.trees[t] is not None]
        if not with_trees:
            return None, None
        t = with_trees[self.rng.integers(len(with_trees))]
        return t, self.library.trees[t]

    def offspring(self, population, tournament_size):
        """One offspring: a list of term sources (class ids, or new trees)."""
        rng = self.rng
        parent = self.tournament(population, tournament_size)
        op = _OPERATORS[rng.choice(len(_OPERATORS), p=_OPERATOR_P)]
        terms = list(parent)
        if op == "crossover":  # a random half of the two parents' terms
            other = self.tournament(population, tournament_size)
            pool = list(dict.fromkeys(terms + list(other)))
            keep = [t for t in pool if rng.random() < 0.5]
            return keep or [pool[rng.integers(len(pool))]]
        if op == "product" and "mul" not in self.functions:
            op = "wrap"
        if op in _TREE_OPERATORS:
            t, tree = self._pick_tree(terms)
            if tree is None:
                op = "replace_term"
            else:
                child = self._vary_tree(tree, op, population, tournament_size, parent)
                if depth(child) > _MAX_DEPTH:
                    child = self.random_tree(INIT_DEPTH)
                if op != "product" or rng.random() < 0.5 or len(terms) >= self.max_terms:
                    terms.remove(t)
                return terms + [child]
        if op == "add_term" and len(terms) < self.max_terms:
            if rng.random() < 0.5:  # a term of another candidate
                donor = population[rng.integers(len(population))]
                return terms + [donor[rng.integers(len(donor))]] if donor else terms
            return terms + [self.random_tree(rng.integers(1, INIT_DEPTH + 1))]
        if op == "delete_term" and len(terms) > 1:
            terms.pop(rng.integers(len(terms)))
            return terms
        if terms:  # replace a term by a random one
            terms.pop(rng.integers(len(terms)))
        return terms + [self.random_tree(rng.integers(2, INIT_DEPTH + 1))]

    def _vary_tree(self, tree, op, population, tournament_size, parent):
        """A variation of one term's tree by a tree-level operator."""
        rng = self.rng
        if op == "product":  # the term times a term of the parent or of another good candidate
            donor = parent if rng.random() < 0.5 else self.tournament(population, tournament_size)
            _, other = self._pick_tree(donor)
            return ("mul", tree, other if other is not None else self.random_tree(2))
        tree_paths = list(paths(tree))
        path = tree_paths[rng.integers(len(tree_paths))]
        node = subtree(tree, path)
        if op == "subtree_crossover":
            _, donor = self._pick_tree(self.tournament(population, tournament_size))
            if donor is None:
                donor = self.random_tree(2)
            donor_paths = list(paths(donor))
            new = subtree(donor, donor_paths[rng.integers(len(donor_paths))])
        elif op == "subtree_mutation":
            new = self.random_tree(rng.integers(1, INIT_DEPTH + 1))
        elif op == "wrap":  # a new node above the subtree
            new = self._wrap(node)
        else:
            new = self._point_mutation(node)
        return replace_subtree(tree, path, new)

    def _wrap(self, node):
        """A new random node above ``node``."""
        rng = self.rng
        if self.binary and rng.random() < 0.5:
            other = self.random_tree(rng.integers(1, 3))
            binary = self.binary[rng.integers(len(self.binary))]
            return (binary, node, other) if rng.random() < 0.5 else (binary, other, node)
        return (self.unary[rng.integers(len(self.unary))], node) if self.unary else node

    def _point_mutation(self, node):
        """``node`` with its operation replaced by a random one of the same arity."""
        rng = self.rng
        if node[0] == "x":
            return self.random_tree(2)
        if len(node) == 3:
            ops = self.binary
            return (ops[rng.integers(len(ops))],) + node[1:]
        return (self.unary[rng.integers(len(self.unary))],) + node[1:]

    def candidates(self, offspring) -> list[tuple]:
        """Resolve the term sources of every offspring to candidates (class-id tuples)."""
        trees = [s for sources in offspring for s in sources if isinstance(s, tuple)]
        resolved = dict(zip(trees, self.library.resolve(trees)))
        result = []
        for sources in offspring:
            ids = []
            for s in sources:
                ids.extend(resolved[s] if isinstance(s, tuple) else (s,))
            ids = list(dict.fromkeys(ids))
            if len(ids) > self.max_terms:
                keep = np.sort(self.rng.choice(len(ids), self.max_terms, replace=False))
                ids = [ids[i] for i in keep]
            result.append(tuple(sorted(ids)))
        return result
