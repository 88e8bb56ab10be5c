//! `cargo xtask release <version>`: bump every crate's version together,
//! check the changelog, package the publishable crates, commit and tag.
//!
//! Nothing is changed until every check passed, and a failed packaging
//! restores the manifests, so a refused release leaves the tree as it was.

use std::fs;
use std::path::{Path, PathBuf};

use toml_edit::{value, DocumentMut, Item, TableLike, Value};

use crate::cmd;
use crate::workspace::{self, Workspace};

/// The changelog, at the repository root.
pub const CHANGELOG: &str = "CHANGELOG.md";

/// How `release` runs.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Pass `--offline` to cargo (packaging then uses only cached crates).
    pub offline: bool,
    /// The target directory for packaging (default: cargo's).
    pub target_dir: Option<PathBuf>,
    /// Package without building each package (`cargo package --no-verify`):
    /// for tests of the release's own steps; `release --dry-run` verifies.
    pub no_verify: bool,
}

/// What a release did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The tag created (`v1.2.3`).
    pub tag: String,
    /// Packaged crates, in dependency order.
    pub packaged: Vec<String>,
    /// Files the release commit changed, relative to the root.
    pub changed: Vec<String>,
}

/// Releases `version` from the clean git checkout at `root`.
pub fn run(root: &Path, version: &str, options: &Options) -> Result<Outcome, String> {
    check_version(version)?;
    let tag = format!("v{version}");
    check_clean(root)?;
    check_tag_free(root, &tag)?;
    check_changelog(root, version)?;

    let workspace = Workspace::load(root)?;
    let problems = workspace.unpublishable_dev_deps();
    if !problems.is_empty() {
        return Err(format!("cannot package:\n  {}", problems.join("\n  ")));
    }
    let order: Vec<String> = workspace
        .publish_order()?
        .into_iter()
        .map(|m| m.name.clone())
        .collect();
    check_newer(root, version)?;

    let mut changed = bump(&workspace, version)?;
    if changed.is_empty() {
        return Err("no version to bump: set [workspace.package] version".to_owned());
    }
    let result = refresh_lock(root, options)
        .and_then(|()| package(root, &order, version, options))
        .and_then(|()| {
            if git_changed(root, "Cargo.lock")? {
                changed.push("Cargo.lock".to_owned());
            }
            commit_and_tag(root, &tag, &changed)
        });
    if let Err(e) = result {
        // Leave the tree as it was found (it was clean).
        let mut restore = cmd::git(root);
        restore
            .args(["checkout", "HEAD", "--"])
            .args(&changed)
            .arg("Cargo.lock");
        let _ = cmd::output(&mut restore);
        return Err(e);
    }
    Ok(Outcome {
        tag,
        packaged: order,
        changed,
    })
}

/// `MAJOR.MINOR.PATCH`, with an optional `-pre` and `+build`.
pub fn check_version(version: &str) -> Result<(), String> {
    let bad = || {
        Err(format!(
            "`{version}` is not a version like 1.2.3 (optionally 1.2.3-rc.1), without a leading `v`"
        ))
    };
    let (core, rest) = match version.find(['-', '+']) {
        Some(i) => version.split_at(i),
        None => (version, ""),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    let numeric = |n: &&str| {
        !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
            && (n.len() == 1 || !n.starts_with('0'))
    };
    if numbers.len() != 3 || !numbers.iter().all(numeric) {
        return bad();
    }
    let ok_ident = |s: &str| {
        !s.is_empty()
            && s.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    };
    let (pre, build) = match rest.split_once('+') {
        Some((pre, build)) => (pre, Some(build)),
        None => (rest, None),
    };
    if let Some(pre) = pre.strip_prefix('-') {
        if !ok_ident(pre) {
            return bad();
        }
    } else if !pre.is_empty() {
        return bad();
    }
    if build.is_some_and(|b| !ok_ident(b)) {
        return bad();
    }
    Ok(())
}

fn triple(version: &str) -> Option<(u64, u64, u64)> {
    let core = version.split(['-', '+']).next()?;
    let mut it = core.split('.').map(|n| n.parse::<u64>().ok());
    Some((it.next()??, it.next()??, it.next()??))
}

/// Refuses the current version and older ones.
fn check_newer(root: &Path, version: &str) -> Result<(), String> {
    let doc = workspace::read_manifest(&root.join("Cargo.toml"))?;
    let current = doc
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(Item::as_str);
    let Some(current) = current else {
        return Ok(());
    };
    if current == version {
        return Err(format!("the workspace is already at {version}"));
    }
    if let (Some(old), Some(new)) = (triple(current), triple(version)) {
        if new < old {
            return Err(format!("{version} is older than the current {current}"));
        }
    }
    Ok(())
}

fn check_clean(root: &Path) -> Result<(), String> {
    let status = cmd::output(cmd::git(root).args(["status", "--porcelain"]))?;
    if status.trim().is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the working tree is dirty; commit or stash first:\n{}",
            status.trim_end()
        ))
    }
}

fn check_tag_free(root: &Path, tag: &str) -> Result<(), String> {
    let exists = cmd::output(cmd::git(root).args([
        "rev-parse",
        "-q",
        "--verify",
        &format!("refs/tags/{tag}"),
    ]))
    .is_ok();
    if exists {
        Err(format!("the tag {tag} already exists"))
    } else {
        Ok(())
    }
}

/// Whether the changelog has a section for `version`: a `## [1.2.3]` heading
/// (Keep a Changelog), or `## 1.2.3` / `## v1.2.3`.
pub fn has_changelog_section(changelog: &str, version: &str) -> bool {
    changelog.lines().any(|line| {
        let Some(heading) = line.trim_end().strip_prefix("## ") else {
            return false;
        };
        let heading = heading.trim_start();
        let heading = heading.strip_prefix('[').unwrap_or(heading);
        let heading = heading.strip_prefix('v').unwrap_or(heading);
        heading
            .strip_prefix(version)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([']', ' ']))
    })
}

fn check_changelog(root: &Path, version: &str) -> Result<(), String> {
    let path = root.join(CHANGELOG);
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    if has_changelog_section(&text, version) {
        Ok(())
    } else {
        Err(format!(
            "{CHANGELOG} has no section for {version}: add `## [{version}] - YYYY-MM-DD` \
             (move the Unreleased entries under it)"
        ))
    }
}

/// Sets the version of an entry, keeping its formatting; false if absent.
fn set_version(table: &mut dyn TableLike, version: &str) -> bool {
    match table.get_mut("version") {
        Some(Item::Value(v)) if v.is_str() => {
            let decor = v.decor().clone();
            *v = Value::from(version);
            *v.decor_mut() = decor;
            true
        }
        _ => false,
    }
}

/// Bumps the workspace version, the version of every internal dependency
/// (in `[workspace.dependencies]` and in members), and members' own literal
/// versions. Returns the files changed, relative to the root.
fn bump(ws: &Workspace, version: &str) -> Result<Vec<String>, String> {
    let is_member = |name: &str| ws.member(name).is_some();
    let mut changed = Vec::new();

    let root_manifest = ws.root.join("Cargo.toml");
    let mut doc = workspace::read_manifest(&root_manifest)?;
    let mut touched = false;
    if let Some(package) = doc
        .get_mut("workspace")
        .and_then(|w| w.get_mut("package"))
        .and_then(Item::as_table_like_mut)
    {
        touched |= set_version(package, version);
    }
    if let Some(deps) = doc
        .get_mut("workspace")
        .and_then(|w| w.get_mut("dependencies"))
        .and_then(Item::as_table_like_mut)
    {
        touched |= bump_dependencies(deps, version, &is_member);
    }
    if touched {
        write(&root_manifest, &doc)?;
        changed.push("Cargo.toml".to_owned());
    }

    for member in &ws.members {
        let mut doc = workspace::read_manifest(&member.manifest)?;
        let mut touched = false;
        if let Some(package) = doc.get_mut("package").and_then(Item::as_table_like_mut) {
            touched |= set_version(package, version);
        }
        for table in ["dependencies", "build-dependencies", "dev-dependencies"] {
            if let Some(deps) = doc.get_mut(table).and_then(Item::as_table_like_mut) {
                touched |= bump_dependencies(deps, version, &is_member);
            }
        }
        if touched {
            write(&member.manifest, &doc)?;
            changed.push(relative(&ws.root, &member.manifest));
        }
    }
    Ok(changed)
}

fn bump_dependencies(
    deps: &mut dyn TableLike,
    version: &str,
    is_member: &dyn Fn(&str) -> bool,
) -> bool {
    let mut touched = false;
    for (key, item) in deps.iter_mut() {
        let package = workspace::dependency_package(&key, item).to_owned();
        if !is_member(&package) {
            continue;
        }
        if let Some(entry) = item.as_table_like_mut() {
            touched |= set_version(entry, version);
        } else if item.is_str() {
            *item = value(version);
            touched = true;
        }
    }
    touched
}

fn write(path: &Path, doc: &DocumentMut) -> Result<(), String> {
    fs::write(path, doc.to_string()).map_err(|e| format!("{}: {e}", path.display()))
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

fn cargo_in(root: &Path, options: &Options) -> std::process::Command {
    let mut c = cmd::cargo();
    c.current_dir(root);
    if options.offline {
        c.arg("--offline");
    }
    if let Some(dir) = &options.target_dir {
        c.env("CARGO_TARGET_DIR", dir);
    }
    c
}

/// Records the new member versions in Cargo.lock (only workspace members).
fn refresh_lock(root: &Path, options: &Options) -> Result<(), String> {
    cmd::run(cargo_in(root, options).args(["update", "--workspace"]))
}

/// Packages (and verifies) the crates in one cargo call: cargo packages them
/// in dependency order into a temporary local registry, so a crate that
/// needs an unpublished sibling verifies against the sibling's `.crate`,
/// offline, without `--no-verify`. `--allow-dirty` because the bump is not
/// committed yet (the tree was checked clean before it).
fn package(root: &Path, order: &[String], version: &str, options: &Options) -> Result<(), String> {
    if order.is_empty() {
        eprintln!("no publishable crate: nothing to package");
        return Ok(());
    }
    let target_dir = options
        .target_dir
        .clone()
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
        .unwrap_or_else(|| root.join("target"));
    for name in order {
        forget_earlier_package(&target_dir, name, version);
    }
    let mut c = cargo_in(root, options);
    c.args(["package", "--allow-dirty"]);
    if options.no_verify {
        c.arg("--no-verify");
    }
    for name in order {
        c.args(["-p", name]);
    }
    cmd::run(&mut c)
}

/// Cargo treats a registry crate of a given version as immutable: it keeps
/// the temporary registry's crates unpacked under
/// `$CARGO_HOME/registry/src/-<hash>/` and their builds in the target
/// directory, so a release retried after a fix would verify each crate
/// against its siblings' earlier sources. Forget both: the unpacked copies
/// of local registries (the directories named `-<hash>`, without a host)
/// and the build fingerprints of the crate (it is then rebuilt).
pub(crate) fn forget_earlier_package(target_dir: &Path, name: &str, version: &str) {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
    let unpacked = home.and_then(|h| std::fs::read_dir(h.join("registry").join("src")).ok());
    for registry in unpacked.into_iter().flatten().flatten() {
        if registry.file_name().to_string_lossy().starts_with('-') {
            let _ = std::fs::remove_dir_all(registry.path().join(format!("{name}-{version}")));
        }
    }
    let fingerprints = std::fs::read_dir(target_dir.join("debug").join(".fingerprint")).ok();
    for built in fingerprints.into_iter().flatten().flatten() {
        let file_name = built.file_name();
        let hash = file_name
            .to_string_lossy()
            .strip_prefix(&format!("{name}-"))
            .map(str::to_owned);
        if hash.is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit())) {
            let _ = std::fs::remove_dir_all(built.path());
        }
    }
}

fn git_changed(root: &Path, path: &str) -> Result<bool, String> {
    let out = cmd::output(cmd::git(root).args(["status", "--porcelain", "--", path]))?;
    Ok(!out.trim().is_empty())
}

fn commit_and_tag(root: &Path, tag: &str, changed: &[String]) -> Result<(), String> {
    let message = format!("Release {tag}");
    cmd::output(cmd::git(root).args(["add", "--"]).args(changed))?;
    cmd::output(
        cmd::git(root)
            .args(["commit", "-q", "-m", &message, "--"])
            .args(changed),
    )?;
    cmd::output(cmd::git(root).args(["tag", "-a", tag, "-m", &message]))?;
    eprintln!("committed and tagged {tag}; push with `git push --follow-tags`");
    Ok(())
}

/// Where cargo put the `.crate` of a package.
pub fn crate_file(target_dir: &Path, name: &str, version: &str) -> PathBuf {
    target_dir
        .join("package")
        .join(format!("{name}-{version}.crate"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_checked_without_panicking() {
        for ok in [
            "0.2.0",
            "1.10.3",
            "1.0.0-rc.1",
            "1.0.0+build.5",
            "2.0.0-alpha-1+x",
        ] {
            assert!(check_version(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "v1.0.0",
            "1.0",
            "1.0.0.0",
            "01.0.0",
            "1.x.0",
            "1.0.0-",
            "1.0.0-a..b",
            "1.0.0+",
            "1.0.0 ",
            "é.1.2",
        ] {
            assert!(check_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn changelog_sections_are_found_by_heading() {
        let text = "# Changelog\n\n## [Unreleased]\n\n## [0.2.0] - 2025-01-01\n- x\n\n## v0.1.5\n";
        assert!(has_changelog_section(text, "0.2.0"));
        assert!(has_changelog_section(text, "0.1.5"));
        assert!(!has_changelog_section(text, "0.2"));
        assert!(!has_changelog_section(text, "0.3.0"));
        assert!(!has_changelog_section(
            "- mentions 0.3.0 in a line\n",
            "0.3.0"
        ));
        assert!(!has_changelog_section("## [0.3.0-rc.1]\n", "0.3.0"));
    }

    #[test]
    fn triples_order_versions() {
        assert!(triple("0.10.0") > triple("0.9.9"));
        assert_eq!(triple("1.2.3-rc.1"), Some((1, 2, 3)));
        assert_eq!(triple("x"), None);
    }

    #[test]
    fn versions_are_bumped_keeping_the_layout() {
        let mut doc: DocumentMut = "[dependencies]\n# ours\nours = { path = \"x\", version = \"0.1.0\" } # trailing\nrenamed = { package = \"ours\", version = \"0.1.0\" }\nserde = { version = \"1\" }\n"
            .parse()
            .unwrap();
        let deps = doc["dependencies"].as_table_like_mut().unwrap();
        assert!(bump_dependencies(deps, "0.2.0", &|n| n == "ours"));
        assert_eq!(
            doc.to_string(),
            "[dependencies]\n# ours\nours = { path = \"x\", version = \"0.2.0\" } # trailing\nrenamed = { package = \"ours\", version = \"0.2.0\" }\nserde = { version = \"1\" }\n"
        );
    }
}
