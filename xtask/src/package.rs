//! `cargo xtask release --dry-run`: everything publishing would do, checked
//! end to end, without uploading or changing the tree.
//!
//! 1. `cargo publish --workspace --dry-run`: every publishable crate is
//!    packaged in dependency order and verified (built from its package)
//!    against its siblings' packages through cargo's temporary local
//!    registry, as crates.io would see them.
//! 2. Each `.crate` is unpacked outside the workspace and its tests are
//!    built there (`cargo test --all-features --no-run`), its family
//!    dependencies patched to the unpacked siblings: what a user downloads
//!    compiles its own tests with nothing of the workspace (path-only
//!    dev-dependencies are gone, as on the registry, and no feature is
//!    unified in by a sibling). They are not run again: the workspace run
//!    ran the same sources, and packaging changes what compiles, not how
//!    it behaves (the quick start below is the run of a packaged build).
//! 3. A fresh project depending on `timber-sdk` as `cargo add timber-sdk`
//!    writes it, whose `main.rs` is the README quick start, is built and run
//!    against a local HTTPS ingest server with `TIMBERLOGS_*` variables, and
//!    what the server received is checked.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use timber_ingest_server::{IngestServer, ServerConfig, TlsIdentity};

use crate::cmd;
use crate::workspace::{self, Workspace};

/// The crate whose README quick start the fresh project compiles.
pub const FACADE: &str = "timber-sdk";

/// How a dry run goes.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Only package and verify (step 1).
    pub skip_tests: bool,
}

/// What a dry run checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DryRun {
    /// Packaged crates, in dependency order.
    pub packaged: Vec<String>,
    /// The version packaged.
    pub version: String,
}

/// Runs the dry run in the workspace at `root`.
pub fn dry_run(root: &Path, options: &Options) -> Result<DryRun, String> {
    let ws = Workspace::load(root)?;
    let problems = ws.unpublishable_dev_deps();
    if !problems.is_empty() {
        return Err(format!("cannot package:\n  {}", problems.join("\n  ")));
    }
    let order: Vec<String> = ws
        .publish_order()?
        .into_iter()
        .map(|m| m.name.clone())
        .collect();
    let version = workspace_version(root)?;
    let target_dir = crate::bench::target_dir(root);

    eprintln!("== publish --dry-run ({})", order.join(", "));
    for name in &order {
        crate::release::forget_earlier_package(&target_dir, name, &version);
    }
    let mut publish = cargo(options);
    publish.current_dir(root).args([
        "publish",
        "--workspace",
        "--dry-run",
        "--allow-dirty",
        "--locked",
    ]);
    cmd::run(&mut publish)?;
    // The `.crate` files themselves, where `cargo package` puts them
    // (already verified above).
    let mut package = cargo(options);
    package
        .current_dir(root)
        .args(["package", "--no-verify", "--allow-dirty", "--locked"]);
    for name in &order {
        package.args(["-p", name]);
    }
    cmd::run(&mut package)?;
    if options.skip_tests {
        return Ok(DryRun {
            packaged: order,
            version,
        });
    }

    // Outside the workspace (cargo would take an unpacked crate under it
    // for a member), one directory per checkout.
    let unpacked_root = std::env::temp_dir().join(format!(
        "timber-rs-packaged-{version}-{:016x}",
        path_hash(root)
    ));
    let _ = fs::remove_dir_all(&unpacked_root);
    fs::create_dir_all(&unpacked_root).map_err(|e| format!("{}: {e}", unpacked_root.display()))?;
    let mut unpacked = Vec::new();
    for name in &order {
        let file = crate::release::crate_file(&target_dir, name, &version);
        cmd::output(
            Command::new("tar")
                .arg("-xzf")
                .arg(&file)
                .arg("-C")
                .arg(&unpacked_root),
        )?;
        let dir = unpacked_root.join(format!("{name}-{version}"));
        // The workspace's lock: the same dependency versions (MSRV-checked), offline.
        copy(&root.join("Cargo.lock"), &dir.join("Cargo.lock"))?;
        unpacked.push((name.clone(), dir));
    }
    // The workspace's target directory: the registry dependencies built
    // with the same features are reused, the unpacked crates are built anew.
    let packaged_target = target_dir;

    for (name, dir) in &unpacked {
        eprintln!("== the packaged {name}'s tests build ({})", dir.display());
        let needed: Vec<(String, PathBuf)> = unpacked
            .iter()
            .filter(|(sibling, _)| ws.needs_for_tests(name, sibling))
            .cloned()
            .collect();
        let mut test = cargo(options);
        test.current_dir(dir)
            .args(["test", "--all-features", "--no-run"])
            .args(patch_args(&needed))
            .env("CARGO_TARGET_DIR", &packaged_target);
        cmd::run(&mut test).map_err(|e| format!("the packaged {name}: {e}"))?;
        if std::env::var_os(DROP_TEST_EXECUTABLES).is_some() {
            drop_test_executables(&packaged_target.join("debug").join("deps"));
        }
    }

    let needed: Vec<(String, PathBuf)> = unpacked
        .iter()
        .filter(|(sibling, _)| sibling == FACADE || ws.needs_to_build(FACADE, sibling))
        .cloned()
        .collect();
    quick_start_check(
        root,
        &unpacked_root,
        &patch_args(&needed),
        &packaged_target,
        &version,
        options,
    )?;
    Ok(DryRun {
        packaged: order,
        version,
    })
}

/// Set (by `.ci/run`, on machines with little disk): each packaged crate's
/// test executables are deleted once built (they are built, not run).
pub const DROP_TEST_EXECUTABLES: &str = "TIMBER_CI_DROP_TEST_EXECUTABLES";

/// Deletes the executables in `deps` (test binaries; not the proc-macro
/// libraries, `.so`), as `.ci/run`'s function of the same name does.
#[cfg(unix)]
fn drop_test_executables(deps: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(entries) = std::fs::read_dir(deps) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let executable = entry
            .metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o100 != 0);
        if executable && path.extension().is_none_or(|e| e != "so") {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(not(unix))]
fn drop_test_executables(_: &Path) {}

/// Cargo; `publish --dry-run` asks the registry, so the dry run is online.
fn cargo(_: &Options) -> Command {
    cmd::cargo()
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

fn path_hash(path: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    path.hash(&mut hasher);
    hasher.finish()
}

/// `[workspace.package] version`.
pub fn workspace_version(root: &Path) -> Result<String, String> {
    let doc = workspace::read_manifest(&root.join("Cargo.toml"))?;
    doc.get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(toml_edit::Item::as_str)
        .map(str::to_owned)
        .ok_or_else(|| "Cargo.toml: no [workspace.package] version".to_owned())
}

/// `--config patch.crates-io.NAME.path="DIR"` for every unpacked crate, so
/// that a registry dependency on a sibling resolves to its package.
pub fn patch_args(unpacked: &[(String, PathBuf)]) -> Vec<String> {
    unpacked
        .iter()
        .flat_map(|(name, dir)| {
            let path = dir.to_string_lossy().replace('\\', "/");
            [
                "--config".to_owned(),
                format!("patch.crates-io.{name}.path=\"{path}\""),
            ]
        })
        .collect()
}

/// The first ```rust block under the `## Quick start` heading.
pub fn quick_start(readme: &str) -> Option<String> {
    let start = readme.find("\n## Quick start")?;
    let rest = &readme[start..];
    let open = rest.find("\n```rust")?;
    let body_start = open + rest[open + 1..].find('\n')? + 2;
    let body_len = rest[body_start..].find("\n```")?;
    Some(format!("{}\n", &rest[body_start..body_start + body_len]))
}

/// The API key of the quick start's run.
const QUICK_START_KEY: &str = "tb_test_quick_start_local";

fn quick_start_check(
    root: &Path,
    unpacked_root: &Path,
    patches: &[String],
    target_dir: &Path,
    version: &str,
    options: &Options,
) -> Result<(), String> {
    let readme_path = root.join("sdk").join("README.md");
    let readme =
        fs::read_to_string(&readme_path).map_err(|e| format!("{}: {e}", readme_path.display()))?;
    let main = quick_start(&readme).ok_or_else(|| {
        format!(
            "{}: no ```rust block under `## Quick start`",
            readme_path.display()
        )
    })?;
    let project = unpacked_root.join("quick-start");
    fs::create_dir_all(project.join("src")).map_err(|e| format!("{}: {e}", project.display()))?;
    // What `cargo new quick-start && cargo add timber-sdk` writes.
    let manifest = format!(
        "[package]\nname = \"quick-start\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\n{FACADE} = \"{version}\"\n"
    );
    fs::write(project.join("Cargo.toml"), manifest).map_err(|e| e.to_string())?;
    fs::write(project.join("src").join("main.rs"), main).map_err(|e| e.to_string())?;
    copy(&root.join("Cargo.lock"), &project.join("Cargo.lock"))?;

    eprintln!(
        "== the README quick start in a fresh project ({})",
        project.display()
    );
    let mut build = cargo(options);
    build
        .current_dir(&project)
        .arg("build")
        .args(patches)
        .env("CARGO_TARGET_DIR", target_dir);
    cmd::run(&mut build)?;

    let server = IngestServer::start(
        ServerConfig::new(QUICK_START_KEY).tls(TlsIdentity::generate().map_err(|e| e.to_string())?),
    )
    .map_err(|e| format!("cannot start the ingest server: {e}"))?;
    let ca = project.join("ca.pem");
    fs::write(&ca, server.ca_pem().unwrap_or_default()).map_err(|e| e.to_string())?;
    let binary = target_dir
        .join("debug")
        .join(format!("quick-start{}", std::env::consts::EXE_SUFFIX));
    let mut run = Command::new(&binary);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("TIMBERLOGS_") || name.to_ascii_lowercase().ends_with("_proxy") {
            run.env_remove(name);
        }
    }
    run.env("TIMBERLOGS_API_KEY", QUICK_START_KEY)
        .env("TIMBERLOGS_ENDPOINT", server.url())
        .env("TIMBERLOGS_CA_CERT", &ca);
    let out = cmd::output(&mut run)?;
    let records = server.records();
    let raw = server.raw_ingestions();
    eprintln!(
        "the quick start delivered {} record(s) and {} raw body(ies){}",
        records.len(),
        raw.len(),
        if out.trim().is_empty() {
            String::new()
        } else {
            format!("; it printed: {}", out.trim())
        }
    );
    // Five records of my-app (info, warn, error, two flow steps) and one
    // raw body, all over HTTPS with the key from the environment.
    let mut problems = Vec::new();
    let messages: Vec<&str> = records.iter().map(|r| r.message.as_str()).collect();
    if messages
        != [
            "user signed in",
            "slow query",
            "bad input",
            "cart loaded",
            "paid",
        ]
    {
        problems.push(format!("records {messages:?}"));
    }
    if !records
        .iter()
        .all(|r| r.source.as_deref() == Some("my-app"))
    {
        problems.push("a record without source my-app".to_owned());
    }
    if records.iter().filter(|r| r.flow_id.is_some()).count() != 2 {
        problems.push("not two flow steps".to_owned());
    }
    if raw.len() != 1 {
        problems.push(format!("{} raw bodies instead of 1", raw.len()));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the quick start's logs did not all arrive: {}",
            problems.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quick_start_is_the_first_rust_block_under_its_heading() {
        let readme =
            "# x\n\n```rust\nnot this\n```\n\n## Quick start\n\n```sh\ncargo add x\n```\n\n\
                      ```rust,no_run\nfn main() {}\n```\n\n```rust\nnor this\n```\n";
        assert_eq!(quick_start(readme).as_deref(), Some("fn main() {}\n"));
        assert_eq!(quick_start("## Quick start\n\nno code"), None);
        assert_eq!(quick_start("```rust\nfn main() {}\n```\n"), None);
    }

    #[test]
    fn siblings_are_patched_to_their_unpacked_packages() {
        let unpacked = vec![
            (
                "timber-core".to_owned(),
                PathBuf::from("/tmp/p/timber-core-0.1.0"),
            ),
            (
                "timber-sdk".to_owned(),
                PathBuf::from("/tmp/p/timber-sdk-0.1.0"),
            ),
        ];
        assert_eq!(
            patch_args(&unpacked),
            [
                "--config",
                "patch.crates-io.timber-core.path=\"/tmp/p/timber-core-0.1.0\"",
                "--config",
                "patch.crates-io.timber-sdk.path=\"/tmp/p/timber-sdk-0.1.0\"",
            ]
        );
    }
}
