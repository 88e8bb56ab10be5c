//! The files of one crate as a graph: an edge from a file to each file
//! whose module it names, and the cycles in it.
//!
//! The module tree grows from each crate root (`lib.rs`, `main.rs`,
//! `bin/*.rs`, `bin/*/main.rs`) along `mod` declarations (`x.rs`,
//! `x/mod.rs`, inline modules, `#[path]`). A path resolves to the file of
//! its longest prefix that is a module: `crate::a::b::f` to `a/b.rs`,
//! `crate::Item` to `lib.rs` (also when `lib.rs` only re-exports `Item`).
//! A path whose first segment is no keyword counts when that segment is a
//! child module of the module it is written in (`pub use child::Item`).
//! Declaring `mod child;` is no edge. Files no root reaches are left out,
//! and so are paths through names a glob or an alias brought in.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::scan::Scan;

/// A reference behind an edge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    /// Its line in the file the edge leaves.
    pub line: u32,
    /// The path as written.
    pub text: String,
}

/// Files that import each other, in a circle or a knot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cycle {
    /// The files, sorted.
    pub files: Vec<PathBuf>,
    /// Every edge between them, `(from, to, the first reference)`, sorted.
    pub edges: Vec<(PathBuf, PathBuf, Example)>,
}

/// One crate root's module tree.
struct Tree {
    /// Module path to the file holding it.
    modules: HashMap<Vec<String>, usize>,
    /// Files in the tree, with their module path.
    files: Vec<(usize, Vec<String>)>,
}

fn is_root(src: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(src) else {
        return false;
    };
    let parts: Vec<_> = rel.iter().filter_map(|p| p.to_str()).collect();
    matches!(
        parts.as_slice(),
        ["lib.rs"] | ["main.rs"] | ["bin", _] | ["bin", _, "main.rs"]
    ) && path.extension().is_some_and(|e| e == "rs")
}

fn tree(files: &[(PathBuf, Scan)], index: &HashMap<&Path, usize>, root: usize) -> Tree {
    let mut modules = HashMap::from([(Vec::new(), root)]);
    let mut queue = vec![(root, Vec::new(), true)];
    let mut out = Vec::new();
    while let Some((file, path, mod_rs)) = queue.pop() {
        let here = files[file].0.parent().unwrap_or(Path::new(""));
        let children = if mod_rs {
            here.to_owned()
        } else {
            here.join(files[file].0.file_stem().unwrap_or_default())
        };
        for decl in &files[file].1.mods {
            let mut module = path.clone();
            module.extend(decl.scope.iter().cloned());
            module.push(decl.name.clone());
            if decl.inline {
                modules.insert(module, file);
                continue;
            }
            let dir = decl.scope.iter().fold(children.clone(), |d, s| d.join(s));
            let candidates = match &decl.path {
                Some(p) if decl.scope.is_empty() => vec![(here.join(p), true)],
                Some(p) => vec![(dir.join(p), true)],
                None => vec![
                    (dir.join(format!("{}.rs", decl.name)), false),
                    (dir.join(&decl.name).join("mod.rs"), true),
                ],
            };
            let found = candidates
                .into_iter()
                .find_map(|(p, m)| index.get(p.as_path()).map(|&i| (i, m)));
            if let Some((child, child_mod_rs)) = found {
                if !modules.contains_key(&module) {
                    modules.insert(module.clone(), child);
                    queue.push((child, module, child_mod_rs));
                }
            }
        }
        out.push((file, path));
    }
    out.sort();
    Tree {
        modules,
        files: out,
    }
}

/// The file `segs`, written in module `ctx`, points to.
fn resolve(
    modules: &HashMap<Vec<String>, usize>,
    ctx: &[String],
    segs: &[String],
) -> Option<usize> {
    let first = segs.first()?;
    let (mut module, rest) = match first.as_str() {
        "crate" | "$crate" => (Vec::new(), &segs[1..]),
        "self" => (ctx.to_vec(), &segs[1..]),
        "super" => {
            let mut m = ctx.to_vec();
            let supers = segs.iter().take_while(|s| *s == "super").count();
            for _ in 0..supers {
                m.pop()?;
            }
            (m, &segs[supers..])
        }
        _ => {
            let mut child = ctx.to_vec();
            child.push(first.clone());
            if !modules.contains_key(&child) {
                return None;
            }
            (ctx.to_vec(), segs)
        }
    };
    for seg in rest {
        module.push(seg.clone());
        if !modules.contains_key(&module) {
            module.pop();
            break;
        }
    }
    modules.get(&module).copied()
}

/// The edges between `files` (one crate's `src/`), each with its first
/// reference, keyed by `(from, to)` indices.
pub fn edges(src: &Path, files: &[(PathBuf, Scan)]) -> BTreeMap<(usize, usize), Example> {
    let index: HashMap<&Path, usize> = files
        .iter()
        .enumerate()
        .map(|(i, (p, _))| (p.as_path(), i))
        .collect();
    let mut edges = BTreeMap::new();
    for root in (0..files.len()).filter(|&i| is_root(src, &files[i].0)) {
        let tree = tree(files, &index, root);
        for (file, module) in &tree.files {
            for r in &files[*file].1.refs {
                let mut ctx = module.clone();
                ctx.extend(r.scope.iter().cloned());
                match resolve(&tree.modules, &ctx, &r.segs) {
                    Some(to) if to != *file => {
                        edges.entry((*file, to)).or_insert_with(|| Example {
                            line: r.line,
                            text: r.text.clone(),
                        });
                    }
                    _ => {}
                }
            }
        }
    }
    edges
}

/// The cycles among `files`: strongly connected components of more than
/// one file.
pub fn cycles(src: &Path, files: &[(PathBuf, Scan)]) -> Vec<Cycle> {
    let edges = edges(src, files);
    let mut adj = vec![Vec::new(); files.len()];
    for &(from, to) in edges.keys() {
        adj[from].push(to);
    }
    let mut out = Vec::new();
    for mut component in components(&adj) {
        if component.len() < 2 {
            continue;
        }
        component.sort();
        let inside: Vec<_> = edges
            .iter()
            .filter(|((f, t), _)| component.contains(f) && component.contains(t))
            .map(|(&(f, t), e)| (files[f].0.clone(), files[t].0.clone(), e.clone()))
            .collect();
        out.push(Cycle {
            files: component.iter().map(|&i| files[i].0.clone()).collect(),
            edges: inside,
        });
    }
    out.sort_by(|a, b| a.files.cmp(&b.files));
    out
}

/// Tarjan's strongly connected components.
fn components(adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        adj: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for k in 0..s.adj[v].len() {
            let w = s.adj[v][k];
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(i) if s.on_stack[w] => s.low[v] = s.low[v].min(i),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(component);
        }
    }
    let n = adj.len();
    let mut s = State {
        adj,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_find_the_knots() {
        let adj = vec![vec![1], vec![0, 2], vec![3], vec![2], vec![]];
        let mut c: Vec<Vec<usize>> = components(&adj)
            .into_iter()
            .map(|mut c| {
                c.sort();
                c
            })
            .collect();
        c.sort();
        assert_eq!(c, [vec![0, 1], vec![2, 3], vec![4]]);
    }
}
