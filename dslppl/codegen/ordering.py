"""The elimination order of enumerated variables, chosen when a model is compiled (no torch).

>>> min_fill_order(["a", "b", "c"], [{"a", "b"}, {"b", "c"}])
('a', 'b', 'c')
"""
from __future__ import annotations


def min_fill_order(variables: list[str], cliques: list[set[str]]) -> tuple[str, ...]:
    """Greedy min-fill elimination order of the interaction graph (ties: fewer neighbours, then
    the given order)."""
    neighbours: dict[str, set[str]] = {v: set() for v in variables}
    for clique in cliques:
        for a in clique:
            neighbours[a] |= clique - {a}
    position = {v: i for i, v in enumerate(variables)}

    def cost(v: str) -> tuple[int, int, int]:
        near = sorted(neighbours[v], key=position.__getitem__)
        fill = sum(1 for i, a in enumerate(near) for b in near[i + 1:] if b not in neighbours[a])
        return fill, len(near), position[v]

    order = []
    while neighbours:
        chosen = min(neighbours, key=cost)
        near = neighbours.pop(chosen)
        for a in near:  # eliminating a variable joins its neighbours
            neighbours[a] |= near - {a}
            neighbours[a].discard(chosen)
        order.append(chosen)
    return tuple(order)
