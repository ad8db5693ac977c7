//! The promotion graph: environments are nodes, the `promotions:` list the only
//! edges. Edges are data, so a team's own model (say, five environments local → production,
//! say) works without code changes.

use std::collections::HashMap;

use crate::config::Config;

#[derive(Debug, Clone)]
pub struct Graph {
    names: Vec<String>,
    index: HashMap<String, usize>,
    succ: Vec<Vec<usize>>,
    pred: Vec<Vec<usize>>,
}

impl Graph {
    /// Builds the graph; edges naming unknown environments are left out
    /// (validation reports them).
    pub fn new(cfg: &Config) -> Graph {
        let names: Vec<String> = cfg.environments.iter().map(|e| e.name.clone()).collect();
        let index: HashMap<String, usize> = names.iter().enumerate().map(|(i, n)| (n.clone(), i)).collect();
        let mut succ = vec![Vec::new(); names.len()];
        let mut pred = vec![Vec::new(); names.len()];
        for e in &cfg.promotions {
            if let (Some(&a), Some(&b)) = (index.get(&e.from.value), index.get(&e.to.value))
                && !succ[a].contains(&b)
            {
                succ[a].push(b);
                pred[b].push(a);
            }
        }
        Graph { names, index, succ, pred }
    }

    pub fn contains(&self, env: &str) -> bool {
        self.index.contains_key(env)
    }

    pub fn allows(&self, from: &str, to: &str) -> bool {
        match (self.index.get(from), self.index.get(to)) {
            (Some(&a), Some(&b)) => self.succ[a].contains(&b),
            _ => false,
        }
    }

    pub fn successors(&self, env: &str) -> Vec<&str> {
        self.index.get(env).map(|&i| self.succ[i].iter().map(|&j| self.names[j].as_str()).collect()).unwrap_or_default()
    }

    pub fn predecessors(&self, env: &str) -> Vec<&str> {
        self.index.get(env).map(|&i| self.pred[i].iter().map(|&j| self.names[j].as_str()).collect()).unwrap_or_default()
    }

    /// One cycle, as the list of environments around it (first repeated at the
    /// end), or `None` when the graph is acyclic. Iterative, so a deep generated
    /// config cannot overflow the stack.
    pub fn find_cycle(&self) -> Option<Vec<String>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Open,
            Done,
        }
        let n = self.names.len();
        let mut mark = vec![Mark::New; n];
        let mut parent = vec![usize::MAX; n];
        for start in 0..n {
            if mark[start] != Mark::New {
                continue;
            }
            let mut stack = vec![(start, 0usize)];
            mark[start] = Mark::Open;
            while let Some(&mut (v, ref mut next)) = stack.last_mut() {
                if let Some(&w) = self.succ[v].get(*next) {
                    *next += 1;
                    match mark[w] {
                        Mark::New => {
                            mark[w] = Mark::Open;
                            parent[w] = v;
                            stack.push((w, 0));
                        }
                        Mark::Open => {
                            let mut path = vec![self.names[w].clone()];
                            let mut u = v;
                            let mut back = vec![self.names[u].clone()];
                            while u != w {
                                u = parent[u];
                                back.push(self.names[u].clone());
                            }
                            back.pop();
                            back.reverse();
                            path.extend(back);
                            path.push(self.names[w].clone());
                            return Some(path);
                        }
                        Mark::Done => {}
                    }
                } else {
                    mark[v] = Mark::Done;
                    stack.pop();
                }
            }
        }
        None
    }

    /// Environments in promotion order (sources first), ties in config order.
    pub fn ordered(&self) -> Vec<&str> {
        let n = self.names.len();
        let mut indeg: Vec<usize> = self.pred.iter().map(Vec::len).collect();
        let mut ready: std::collections::BTreeSet<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
        let mut out = Vec::with_capacity(n);
        while let Some(i) = ready.pop_first() {
            out.push(self.names[i].as_str());
            for &j in &self.succ[i] {
                indeg[j] -= 1;
                if indeg[j] == 0 {
                    ready.insert(j);
                }
            }
        }
        // A cycle leaves some behind; list them after, in config order.
        for (i, name) in self.names.iter().enumerate() {
            if !out.contains(&name.as_str()) && indeg[i] > 0 {
                out.push(name);
            }
        }
        out
    }

    /// The shortest chain of allowed promotions from `from` to `to`, if any.
    pub fn route(&self, from: &str, to: &str) -> Option<Vec<&str>> {
        let (&a, &b) = (self.index.get(from)?, self.index.get(to)?);
        let mut prev = vec![usize::MAX; self.names.len()];
        let mut queue = std::collections::VecDeque::from([a]);
        prev[a] = a;
        while let Some(v) = queue.pop_front() {
            if v == b {
                let mut path = vec![self.names[b].as_str()];
                let mut u = b;
                while u != a {
                    u = prev[u];
                    path.push(self.names[u].as_str());
                }
                path.reverse();
                return Some(path);
            }
            for &w in &self.succ[v] {
                if prev[w] == usize::MAX {
                    prev[w] = v;
                    queue.push_back(w);
                }
            }
        }
        None
    }
}
