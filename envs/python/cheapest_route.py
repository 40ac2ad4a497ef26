"""Cheapest route: the length of the cheapest route between two nodes of a
weighted directed graph, listed edge by edge."""

import heapq

NAME = "cheapest_route"
CATEGORY = "algorithmic"
DESCRIPTION = (
    "Find the total weight of the cheapest directed path between two named nodes "
    "of a weighted graph given as an edge list. Difficulty scales the graph from 5 "
    "nodes / ~8 edges (difficulty 1) to 32 nodes / ~90 edges (difficulty 10); the "
    "target is always reachable."
)
VERSION = 1


def _names(n):
    return ["N%d" % i for i in range(n)]


def _dijkstra(n, edges, src, dst):
    adj = [[] for _ in range(n)]
    for u, v, w in edges:
        adj[u].append((v, w))
    dist = [None] * n
    heap = [(0, src)]
    while heap:
        d, u = heapq.heappop(heap)
        if dist[u] is not None:
            continue
        dist[u] = d
        for v, w in adj[u]:
            if dist[v] is None:
                heapq.heappush(heap, (d + w, v))
    return dist[dst]


def generate(rng, difficulty):
    n = 5 + (difficulty - 1) * 3
    m = int(n * (1.5 + difficulty * 0.13))
    max_w = 5 + 5 * difficulty
    src, dst = 0, n - 1
    edges = {}
    # A random route from src to dst guarantees reachability.
    middle = list(range(1, n - 1))
    rng.shuffle(middle)
    route = [src] + middle[: rng.randint(1, max(1, n // 3))] + [dst]
    for u, v in zip(route, route[1:]):
        edges[(u, v)] = rng.randint(1, max_w)
    while len(edges) < m:
        u, v = rng.randrange(n), rng.randrange(n)
        if u != v and (u, v) not in edges:
            edges[(u, v)] = rng.randint(1, max_w)
    edge_list = sorted((u, v, w) for (u, v), w in edges.items())
    rng.shuffle(edge_list)
    names = _names(n)
    lines = "\n".join("%s -> %s : %d" % (names[u], names[v], w) for u, v, w in edge_list)
    prompt = (
        f"A directed graph has {n} nodes and these weighted edges (from -> to : weight):\n\n"
        f"{lines}\n\nWhat is the total weight of the cheapest path from {names[src]} to "
        f"{names[dst]}?\n\nAnswer format: a single non-negative integer."
    )
    best = _dijkstra(n, edge_list, src, dst)
    return {
        "prompt": prompt,
        "data": {"n": n, "edges": [list(e) for e in edge_list], "src": src, "dst": dst},
        "reference": str(best),
    }


def verify(instance, answer):
    text = answer.strip()
    if not text.isdigit() or len(text) > 12:
        return 0.0
    d = instance["data"]
    return 1.0 if int(text) == _dijkstra(d["n"], d["edges"], d["src"], d["dst"]) else 0.0


def solve(instance):
    d = instance["data"]
    return str(_dijkstra(d["n"], d["edges"], d["src"], d["dst"]))
