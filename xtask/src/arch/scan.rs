//! What one source file says about modules: the modules it declares, the
//! paths it names (`use` trees and qualified paths in code, macro bodies
//! included), its `pub use` leaves, and the traits it implements.

use super::lex::{lex, Kind, Token};

/// `mod name;` or `mod name { .. }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModDecl {
    /// The inline modules it is declared in, outermost first.
    pub scope: Vec<String>,
    /// The module's name.
    pub name: String,
    /// `mod name { .. }`.
    pub inline: bool,
    /// Its `#[path = ".."]`.
    pub path: Option<String>,
    /// Where.
    pub line: u32,
}

/// A path the file names: a `use` leaf or a qualified path in code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ref {
    /// The inline modules it is written in, outermost first.
    pub scope: Vec<String>,
    /// Its segments: `crate`, `$crate`, `super`, `self`, or a name.
    pub segs: Vec<String>,
    /// Where.
    pub line: u32,
    /// As written, for the report (`use crate::a::B`, `super::f`).
    pub text: String,
}

/// One leaf of a `pub use` outside any inline module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReExport {
    /// Where.
    pub line: u32,
    /// As written, for the report.
    pub text: String,
    /// `pub use a::*`.
    pub glob: bool,
    /// How many names it adds: 1, or 0 for `as _`.
    pub names: usize,
}

/// What [`scan`] finds in a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// Module declarations.
    pub mods: Vec<ModDecl>,
    /// Paths named.
    pub refs: Vec<Ref>,
    /// `pub use` leaves at the file's top level.
    pub reexports: Vec<ReExport>,
    /// Lines of `impl log::Log for ..` (or of `Log` imported from `log`).
    pub log_impls: Vec<u32>,
    /// Lines where the code names `tracing_subscriber`.
    pub subscriber: Vec<u32>,
}

struct Leaf {
    segs: Vec<String>,
    glob: bool,
    alias: Option<String>,
}

impl Leaf {
    fn text(&self) -> String {
        let mut s = self.segs.join("::");
        if self.glob {
            s.push_str(if self.segs.is_empty() { "*" } else { "::*" });
        }
        if let Some(a) = &self.alias {
            s.push_str(" as ");
            s.push_str(a);
        }
        s
    }
}

const SPECIAL: &[&str] = &["crate", "$crate", "super", "self"];

/// Scans the source text of one file.
pub fn scan(src: &str) -> Scan {
    let t = lex(src);
    let at = |i: usize| t.get(i);
    let mut out = Scan::default();
    let mut leaves_seen: Vec<Leaf> = Vec::new();
    let mut impls: Vec<(Vec<String>, u32)> = Vec::new();
    let mut depth = 0i32;
    let mut stack: Vec<(String, i32)> = Vec::new();
    let mut pending_path: Option<String> = None;
    let scope = |stack: &[(String, i32)]| stack.iter().map(|(n, _)| n.clone()).collect();
    let mut i = 0;
    while i < t.len() {
        let tok = t[i];
        let prev = i.checked_sub(1).and_then(at);
        match tok.kind {
            Kind::Punct if tok.is_punct('{') || tok.is_punct('}') || tok.is_punct(';') => {
                pending_path = None;
                if tok.is_punct('{') {
                    depth += 1;
                } else if tok.is_punct('}') {
                    depth -= 1;
                    while stack.last().is_some_and(|(_, d)| *d > depth) {
                        stack.pop();
                    }
                }
            }
            Kind::Punct if tok.is_punct('#') => {
                let word = |k: usize, w: &str| at(i + k).is_some_and(|x| x.is(w));
                let punct = |k: usize, c: char| at(i + k).is_some_and(|x| x.is_punct(c));
                if punct(1, '[') && word(2, "path") && punct(3, '=') {
                    if let Some(s) = at(i + 4).filter(|x| x.kind == Kind::Str) {
                        pending_path = Some(s.text.to_owned());
                    }
                }
            }
            Kind::Ident if tok.is("mod") => {
                if let (Some(name), Some(next)) = (at(i + 1), at(i + 2)) {
                    let inline = next.is_punct('{');
                    if name.kind == Kind::Ident && (inline || next.is_punct(';')) {
                        out.mods.push(ModDecl {
                            scope: scope(&stack),
                            name: name.text.to_owned(),
                            inline,
                            path: pending_path.take(),
                            line: tok.line,
                        });
                        if inline {
                            stack.push((name.text.to_owned(), depth + 1));
                        }
                        i += 2;
                        continue;
                    }
                }
            }
            Kind::Ident if tok.is("use") && !at(i + 1).is_some_and(|x| x.is_punct('<')) => {
                let is_pub = prev.is_some_and(|p| p.is("pub"));
                let mut j = i + 1;
                let mut leaves = Vec::new();
                use_tree(&t, &mut j, &mut Vec::new(), &mut leaves);
                for leaf in leaves {
                    let text = format!("{}use {}", if is_pub { "pub " } else { "" }, leaf.text());
                    if is_pub && stack.is_empty() {
                        out.reexports.push(ReExport {
                            line: tok.line,
                            text: text.clone(),
                            glob: leaf.glob,
                            names: usize::from(!leaf.glob && leaf.alias.as_deref() != Some("_")),
                        });
                    }
                    out.refs.push(Ref {
                        scope: scope(&stack),
                        segs: leaf.segs.clone(),
                        line: tok.line,
                        text,
                    });
                    leaves_seen.push(leaf);
                }
                i = j.max(i + 1);
                continue;
            }
            Kind::Ident if tok.is("impl") => {
                if let Some(path) = impl_trait(&t, i + 1) {
                    impls.push((path, tok.line));
                }
            }
            Kind::Ident => {
                let starts_path = !prev
                    .is_some_and(|p| p.kind == Kind::PathSep || p.is_punct('.') || p.is_punct('$'));
                let in_visibility = prev.is_some_and(|p| p.is("in"))
                    && i.checked_sub(2)
                        .and_then(at)
                        .is_some_and(|p| p.is_punct('('));
                let first_ok = SPECIAL.contains(&tok.text)
                    || !tok.text.starts_with(|c: char| c.is_ascii_uppercase());
                if starts_path && !in_visibility && first_ok {
                    let mut segs = vec![tok.text.to_owned()];
                    let mut j = i + 1;
                    while at(j).is_some_and(|x| x.kind == Kind::PathSep)
                        && at(j + 1).is_some_and(|x| x.kind == Kind::Ident)
                    {
                        segs.push(t[j + 1].text.to_owned());
                        j += 2;
                    }
                    if segs.len() > 1 {
                        out.refs.push(Ref {
                            scope: scope(&stack),
                            text: segs.join("::"),
                            segs,
                            line: tok.line,
                        });
                        i = j;
                        continue;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    out.subscriber = t
        .iter()
        .filter(|x| x.is("tracing_subscriber"))
        .map(|x| x.line)
        .collect();
    for (path, line) in impls {
        let is_log = path.ends_with(&["log".to_owned(), "Log".to_owned()])
            || (path.len() == 1
                && leaves_seen.iter().any(|l| {
                    l.segs.ends_with(&["log".to_owned(), "Log".to_owned()])
                        && l.alias.as_deref().unwrap_or("Log") == path[0]
                }));
        if is_log {
            out.log_impls.push(line);
        }
    }
    out
}

/// Parses a use tree at `t[*j]`, pushing its leaves; leaves `*j` after it.
fn use_tree(t: &[Token], j: &mut usize, prefix: &mut Vec<String>, leaves: &mut Vec<Leaf>) {
    let base = prefix.len();
    if t.get(*j).is_some_and(|x| x.kind == Kind::PathSep) {
        prefix.push(String::new());
        *j += 1;
    }
    while let Some(tok) = t.get(*j) {
        if tok.kind == Kind::Ident {
            prefix.push(tok.text.to_owned());
            *j += 1;
            if t.get(*j).is_some_and(|x| x.kind == Kind::PathSep) {
                *j += 1;
                continue;
            }
            let mut alias = None;
            if t.get(*j).is_some_and(|x| x.is("as")) {
                alias = t.get(*j + 1).map(|x| x.text.to_owned());
                *j += 2;
            }
            let mut segs = prefix.clone();
            if segs.len() > 1 && segs.last().is_some_and(|s| s == "self") {
                segs.pop();
            }
            leaves.push(Leaf {
                segs,
                glob: false,
                alias,
            });
        } else if tok.is_punct('*') {
            leaves.push(Leaf {
                segs: prefix.clone(),
                glob: true,
                alias: None,
            });
            *j += 1;
        } else if tok.is_punct('{') {
            *j += 1;
            while let Some(x) = t.get(*j) {
                if x.is_punct('}') {
                    *j += 1;
                    break;
                }
                let before = *j;
                use_tree(t, j, prefix, leaves);
                if t.get(*j).is_some_and(|x| x.is_punct(',')) || *j == before {
                    *j += 1;
                }
            }
        }
        break;
    }
    prefix.truncate(base);
}

/// The trait path of an `impl` header starting at `t[j]` (after `impl`),
/// if it is `impl<..> Path<..> for ..`.
fn impl_trait(t: &[Token], mut j: usize) -> Option<Vec<String>> {
    let skip_angles = |j: &mut usize| {
        if !t.get(*j).is_some_and(|x| x.is_punct('<')) {
            return;
        }
        let mut depth = 0;
        while let Some(x) = t.get(*j) {
            let arrow = x.is_punct('>') && t[*j - 1].is_punct('-');
            if x.is_punct('<') {
                depth += 1;
            } else if x.is_punct('>') && !arrow {
                depth -= 1;
            }
            *j += 1;
            if depth == 0 || x.is_punct('{') || x.is_punct(';') {
                return;
            }
        }
    };
    skip_angles(&mut j);
    if t.get(j).is_some_and(|x| x.is_punct('!')) {
        j += 1;
    }
    let mut path = Vec::new();
    while let Some(x) = t.get(j) {
        match x.kind {
            Kind::Ident if x.is("for") || x.is("where") => break,
            Kind::Ident => path.push(x.text.to_owned()),
            Kind::PathSep => {}
            _ => break,
        }
        j += 1;
    }
    skip_angles(&mut j);
    (!path.is_empty() && t.get(j).is_some_and(|x| x.is("for"))).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(src: &str) -> Vec<String> {
        scan(src)
            .refs
            .into_iter()
            .map(|r| r.segs.join("::"))
            .collect()
    }

    #[test]
    fn use_trees_give_one_ref_per_leaf() {
        assert_eq!(
            refs("use crate::a::{self, b::{C, D as E}, *}; use ::std::x; use {super::f, g};"),
            [
                "crate::a",
                "crate::a::b::C",
                "crate::a::b::D",
                "crate::a",
                "::std::x",
                "super::f",
                "g"
            ]
        );
        let s = scan("pub use a::{B, C}; pub use a::b as c; pub use x::*; pub use t::T as _;\nmod m { pub use q::R; } pub(crate) use z::Z;");
        let names: usize = s.reexports.iter().map(|r| r.names).sum();
        assert_eq!(names, 3);
        assert_eq!(s.reexports.iter().filter(|r| r.glob).count(), 1);
        assert_eq!(s.reexports.len(), 5);
    }

    #[test]
    fn code_paths_modules_and_scopes() {
        let s = scan(
            "#[path = \"other.rs\"] mod a;\nmod b { mod c; fn f() { super::x::y(); } }\n\
             pub(in crate::z) fn g() -> crate::q::T { Self::new(); v.m::<u8>(); $crate::m!(); child::f() }",
        );
        assert_eq!(s.mods.len(), 3);
        assert_eq!(s.mods[0].path.as_deref(), Some("other.rs"));
        assert_eq!(s.mods[2].scope, ["b"]);
        let r: Vec<_> = s
            .refs
            .iter()
            .map(|r| (r.scope.clone(), r.text.clone()))
            .collect();
        assert_eq!(
            r,
            [
                (vec!["b".to_owned()], "super::x::y".to_owned()),
                (vec![], "crate::q::T".to_owned()),
                (vec![], "$crate::m".to_owned()),
                (vec![], "child::f".to_owned()),
            ]
        );
    }

    #[test]
    fn log_impls_and_subscriber_mentions() {
        let s = scan(
            "use log::{Log, Metadata};\n// tracing_subscriber\nimpl Log for A {}\nimpl<T: Fn() -> u8> log::Log for B<T> {}\n\
             impl Other for C {}\nfn f(x: impl Log) {}\nuse tracing_subscriber::Layer;",
        );
        assert_eq!(s.log_impls, [3, 4]);
        assert_eq!(s.subscriber, [7]);
    }
}
