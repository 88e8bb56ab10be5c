//! The workspace as `release` sees it: members, what they publish, and
//! how they depend on each other.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, TableLike};

/// One member crate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The package name.
    pub name: String,
    /// Its manifest.
    pub manifest: PathBuf,
    /// `false` when `publish = false` (or an empty registry list).
    pub publish: bool,
    /// Members it needs to build (`[dependencies]`, `[build-dependencies]`).
    pub deps: Vec<String>,
    /// Members among its dev-dependencies, with whether a version is given
    /// (cargo keeps a versioned dev-dependency in the published manifest
    /// and strips a path-only one).
    pub dev_deps: Vec<(String, bool)>,
}

/// The members of a workspace.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// The root directory.
    pub root: PathBuf,
    /// Members in `workspace.members` order.
    pub members: Vec<Member>,
}

/// Reads and parses a manifest.
pub fn read_manifest(path: &Path) -> Result<DocumentMut, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.parse::<DocumentMut>()
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The dependency tables of a manifest, as `(table name, table)`.
pub fn dependency_tables(doc: &DocumentMut) -> Vec<(&'static str, &dyn TableLike)> {
    ["dependencies", "build-dependencies", "dev-dependencies"]
        .into_iter()
        .filter_map(|t| doc.get(t).and_then(Item::as_table_like).map(|tl| (t, tl)))
        .collect()
}

/// The package a dependency entry names (its key, or `package = ".."`).
pub fn dependency_package<'a>(key: &'a str, item: &'a Item) -> &'a str {
    item.as_table_like()
        .and_then(|t| t.get("package"))
        .and_then(Item::as_str)
        .unwrap_or(key)
}

impl Workspace {
    /// Loads the workspace whose root manifest is in `root`.
    pub fn load(root: &Path) -> Result<Workspace, String> {
        let root_doc = read_manifest(&root.join("Cargo.toml"))?;
        let paths: Vec<String> = root_doc
            .get("workspace")
            .and_then(|w| w.get("members"))
            .and_then(Item::as_array)
            .ok_or("Cargo.toml: no [workspace] members")?
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let mut docs = Vec::new();
        for p in &paths {
            if p.contains(['*', '?', '[']) {
                return Err(format!(
                    "workspace member glob `{p}` is not supported: list members"
                ));
            }
            let manifest = root.join(p).join("Cargo.toml");
            let doc = read_manifest(&manifest)?;
            let name = doc
                .get("package")
                .and_then(|p| p.get("name"))
                .and_then(Item::as_str)
                .ok_or_else(|| format!("{}: no package name", manifest.display()))?
                .to_owned();
            docs.push((name, manifest, doc));
        }
        let names: BTreeSet<String> = docs.iter().map(|(n, _, _)| n.clone()).collect();
        let workspace_deps = root_doc
            .get("workspace")
            .and_then(|w| w.get("dependencies"))
            .and_then(Item::as_table_like);

        let mut members = Vec::new();
        for (name, manifest, doc) in docs {
            let publish = match doc.get("package").and_then(|p| p.get("publish")) {
                Some(item) => match (item.as_bool(), item.as_array()) {
                    (Some(b), _) => b,
                    (_, Some(registries)) => !registries.is_empty(),
                    _ => true,
                },
                None => true,
            };
            let mut deps = Vec::new();
            let mut dev_deps = Vec::new();
            for (table, entries) in dependency_tables(&doc) {
                for (key, item) in entries.iter() {
                    let package = dependency_package(key, item);
                    if !names.contains(package) {
                        continue;
                    }
                    if table == "dev-dependencies" {
                        dev_deps.push((package.to_owned(), has_version(key, item, workspace_deps)));
                    } else {
                        deps.push(package.to_owned());
                    }
                }
            }
            members.push(Member {
                name,
                manifest,
                publish,
                deps,
                dev_deps,
            });
        }
        Ok(Workspace {
            root: root.to_owned(),
            members,
        })
    }

    /// The member called `name`.
    pub fn member(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.name == name)
    }

    /// Publishable members, each after the members it needs.
    pub fn publish_order(&self) -> Result<Vec<&Member>, String> {
        let mut done: Vec<&Member> = Vec::new();
        let mut left: Vec<&Member> = self.members.iter().filter(|m| m.publish).collect();
        for m in &left {
            if let Some(d) = m
                .deps
                .iter()
                .find(|d| self.member(d).is_some_and(|d| !d.publish))
            {
                return Err(format!(
                    "{} is published but depends on {d}, which has `publish = false`",
                    m.name
                ));
            }
        }
        while !left.is_empty() {
            let ready = left
                .iter()
                .position(|m| m.deps.iter().all(|d| done.iter().any(|p| &p.name == d)));
            match ready {
                Some(i) => done.push(left.remove(i)),
                None => {
                    let names: Vec<_> = left.iter().map(|m| m.name.as_str()).collect();
                    return Err(format!("dependency cycle among {}", names.join(", ")));
                }
            }
        }
        Ok(done)
    }

    /// Versioned dev-dependencies that no registry can resolve: on a crate
    /// that is not published, or on one that needs the dependent crate
    /// itself (a cycle only a path-only dev-dependency avoids).
    pub fn unpublishable_dev_deps(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for m in self.members.iter().filter(|m| m.publish) {
            for (dev, versioned) in &m.dev_deps {
                if !versioned {
                    continue;
                }
                let Some(d) = self.member(dev) else { continue };
                if !d.publish {
                    problems.push(format!(
                        "{}: dev-dependency {dev} has a version but `publish = false`; \
                         make it path-only",
                        m.name
                    ));
                } else if dev == &m.name || self.needs(d, &m.name) {
                    problems.push(format!(
                        "{}: dev-dependency {dev} depends on {} itself; cargo keeps a \
                         versioned dev-dependency in the published manifest, so neither \
                         can be packaged first. Make it path-only, e.g. \
                         `{dev} = {{ path = \"..\" }}` (cargo strips it on publish)",
                        m.name, m.name
                    ));
                }
            }
        }
        problems
    }

    /// Whether building and testing `from` involves `target`: through its
    /// dependencies and dev-dependencies, and theirs (dependencies only).
    pub fn needs_for_tests(&self, from: &str, target: &str) -> bool {
        let Some(member) = self.member(from) else {
            return false;
        };
        member
            .deps
            .iter()
            .chain(member.dev_deps.iter().map(|(d, _)| d))
            .any(|d| d == target || self.member(d).is_some_and(|m| self.needs(m, target)))
    }

    /// Whether the member `from` needs `target` to build, directly or not.
    pub fn needs_to_build(&self, from: &str, target: &str) -> bool {
        self.member(from).is_some_and(|m| self.needs(m, target))
    }

    /// Whether `from` needs `target` to build, directly or not.
    fn needs(&self, from: &Member, target: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = from.deps.iter().map(String::as_str).collect();
        while let Some(n) = stack.pop() {
            if n == target {
                return true;
            }
            if seen.insert(n) {
                if let Some(m) = self.member(n) {
                    stack.extend(m.deps.iter().map(String::as_str));
                }
            }
        }
        false
    }
}

/// Whether a dependency entry carries a version, itself or through
/// `workspace = true`.
fn has_version(key: &str, item: &Item, workspace_deps: Option<&dyn TableLike>) -> bool {
    if item.is_str() {
        return true;
    }
    let Some(t) = item.as_table_like() else {
        return false;
    };
    if t.contains_key("version") {
        return true;
    }
    let inherits = t.get("workspace").and_then(Item::as_bool) == Some(true);
    inherits
        && workspace_deps.and_then(|w| w.get(key)).is_some_and(|w| {
            w.is_str() || w.as_table_like().is_some_and(|t| t.contains_key("version"))
        })
}
