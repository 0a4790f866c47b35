"""Shortest-path trees as arrays: what every node's path to the tree's root adds up to, for all nodes at once.

A Dijkstra run from one destination on the reversed graph leaves a predecessor row: each reached node's next
node on its fastest path to the destination. ``Tree`` turns that row into the ancestor tables of pointer
doubling (``up[j][x]`` is the node ``2**j`` steps nearer the root), so that a sum along every node's path,
the nearest node of a kind on it, and the first node past a given number of hours are found in a few numpy
passes over the nodes instead of one walk per path. A sentinel node ``n`` (one past the last) stands beyond the
root and for the unreached nodes; every table has ``n + 1`` rows and the sentinel's sums are 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tree:
    """The ancestor tables of one shortest-path tree over ``n`` nodes."""

    root: int
    up: tuple[np.ndarray, ...]  # up[j][x]: the node 2**j steps from x toward the root (n past the root)

    @property
    def parent(self) -> np.ndarray:
        """The next node toward the root of every node (``n`` for the root, unreached nodes and the sentinel)."""
        return self.up[0]

    @classmethod
    def from_predecessors(cls, pred: np.ndarray, root: int) -> Tree:
        """The tree of a scipy Dijkstra predecessor row (negative where a node has no predecessor).

        Parameters
        ----------
        pred
            Predecessor per node, as ``scipy.sparse.csgraph.dijkstra(..., return_predecessors=True)`` gives it
            for one source: the source and unreached nodes hold a negative value.
        root
            The source of the search.

        Returns
        -------
        Tree
            Its ancestor tables, as many as the deepest path needs.
        """
        n = len(pred)
        parent = np.append(np.where(pred >= 0, pred, n), n).astype(np.int64)
        up = [parent]
        while (up[-1][:n] != n).any():  # a node still has an ancestor that far away: double once more
            up.append(up[-1][up[-1]])
        return cls(root=root, up=tuple(up))

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Per node, the sum of ``values`` over the nodes of its path from itself up to the root, both included.

        Parameters
        ----------
        values
            (k, n): k values per node (the hours of the edge from a node to its parent, say).

        Returns
        -------
        numpy.ndarray
            (k, n + 1): the sums, with the sentinel's column of zeros appended.
        """
        total = np.concatenate([values, np.zeros((len(values), 1))], axis=1)
        for ancestor in self.up[:-1]:  # after step j each node holds the sum over its first 2**(j+1) nodes
            total += np.take(total, ancestor, axis=1)
        return total

    def nearest_marked(self, marked: np.ndarray) -> np.ndarray:
        """Per node, the first node on its path (itself included) that is marked, or ``n`` when none is.

        Parameters
        ----------
        marked
            (n,) bool per node.

        Returns
        -------
        numpy.ndarray
            (n + 1,) node positions; the sentinel maps to itself.
        """
        n = len(marked)
        step = np.where(np.append(marked, True), np.arange(n + 1), self.parent)
        for _ in self.up:  # each pass doubles how far a pointer has looked
            step = step[step]
        return step

    def first_at_most(self, starts: np.ndarray, level: np.ndarray, limit: np.ndarray) -> np.ndarray:
        """For each start node, the first node on its path whose ``level`` is at most its ``limit``.

        ``level`` must decrease strictly along every path (hours left to the root, say); where no node of
        the path is low enough, the root is returned (the path's last node).

        Parameters
        ----------
        starts
            Node positions.
        level
            (n + 1,) value per node, the sentinel's included (any value there).
        limit
            One limit per start.

        Returns
        -------
        numpy.ndarray
            A node position per start.
        """
        level = np.append(level[:-1], -np.inf)  # the sentinel is low enough for every limit
        at = np.asarray(starts, dtype=np.int64).copy()
        done = level[at] <= limit
        for ancestor in reversed(self.up):  # binary lifting: climb while the node reached is still too high
            ahead = ancestor[at]
            climb = ~done & (level[ahead] > limit)
            at = np.where(climb, ahead, at)
        found = np.where(done, at, self.parent[at])
        return np.where(found == len(level) - 1, self.root, found)
