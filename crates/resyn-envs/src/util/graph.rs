//! Small undirected/directed graphs as adjacency lists.

use std::collections::VecDeque;

use resyn_core::Rng;

/// A graph on nodes `0..n` with adjacency lists kept sorted (deterministic
/// iteration order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    /// Number of nodes.
    pub n: usize,
    /// Edges as `(u, v)` pairs; for undirected graphs `u < v`.
    pub edges: Vec<(usize, usize)>,
    /// Whether edges are directed.
    pub directed: bool,
}

impl Graph {
    /// Adjacency lists (sorted).
    pub fn adjacency(&self) -> Vec<Vec<usize>> {
        let mut adj = vec![Vec::new(); self.n];
        for &(u, v) in &self.edges {
            adj[u].push(v);
            if !self.directed {
                adj[v].push(u);
            }
        }
        for a in &mut adj {
            a.sort_unstable();
            a.dedup();
        }
        adj
    }

    /// Whether `(u, v)` is an edge (either direction when undirected).
    pub fn has_edge(&self, u: usize, v: usize) -> bool {
        self.edges
            .iter()
            .any(|&(a, b)| (a, b) == (u, v) || (!self.directed && (b, a) == (u, v)))
    }

    /// Unweighted shortest-path distances from `src` (`None` = unreachable).
    pub fn bfs(&self, src: usize) -> Vec<Option<usize>> {
        bfs(&self.adjacency(), src)
    }

    /// A random connected undirected graph with `n` nodes and about `m`
    /// edges (at least `n - 1`): a random spanning tree plus random extras.
    pub fn random_connected(rng: &mut Rng, n: usize, m: usize) -> Self {
        // `has[u * n + v]` marks edge (u, v), u < v: O(1) duplicate checks,
        // and reading the marks in order yields the edges sorted.
        let mut has = vec![false; n * n];
        let order = rng.permutation(n);
        for i in 1..n {
            let j = rng.index(i);
            let (u, v) = ordered(order[i], order[j]);
            has[u * n + v] = true;
        }
        let max_edges = n * n.saturating_sub(1) / 2;
        let target = m.clamp(n.saturating_sub(1), max_edges);
        let mut count = n.saturating_sub(1);
        while count < target {
            let (u, v) = (rng.index(n), rng.index(n));
            let (a, b) = ordered(u, v);
            if u != v && !has[a * n + b] {
                has[a * n + b] = true;
                count += 1;
            }
        }
        let mut edges = Vec::with_capacity(count);
        edges.extend((0..n * n).filter(|&i| has[i]).map(|i| (i / n, i % n)));
        Self {
            n,
            edges,
            directed: false,
        }
    }
}

/// BFS distances over adjacency lists.
pub fn bfs(adj: &[Vec<usize>], src: usize) -> Vec<Option<usize>> {
    let mut dist = vec![None; adj.len()];
    let mut q = VecDeque::new();
    dist[src] = Some(0);
    q.push_back(src);
    while let Some(u) = q.pop_front() {
        let d = dist[u].unwrap_or(0);
        for &v in &adj[u] {
            if dist[v].is_none() {
                dist[v] = Some(d + 1);
                q.push_back(v);
            }
        }
    }
    dist
}

fn ordered(u: usize, v: usize) -> (usize, usize) {
    if u < v { (u, v) } else { (v, u) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_connected_is_connected() {
        let mut rng = Rng::from_seed(5);
        for n in 1..20 {
            let g = Graph::random_connected(&mut rng, n, n + 3);
            assert!(g.bfs(0).iter().all(Option::is_some));
            assert!(g.edges.iter().all(|&(u, v)| u < v && v < n));
        }
    }
}
