//! `cargo xtask msrv`: the stated minimum Rust version is true of the lock
//! file: no package in `Cargo.lock` (dependencies of every platform and
//! kind, dev and build included) declares a higher `rust-version` than the
//! workspace's. Read from `cargo metadata`; clippy's `incompatible_msrv`
//! lint checks our own code against the same version.

use std::path::Path;

use serde_json::Value;

use crate::cmd;
use crate::workspace;

/// A `rust-version`, as `(major, minor, patch)`.
pub type Version = (u64, u64, u64);

/// Reads `1.85`, `1.85.0`.
pub fn parse_version(text: &str) -> Option<Version> {
    let mut parts = text.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    parts.next().is_none().then_some((major, minor, patch))
}

/// The packages of a `cargo metadata` document (those in its resolve) that
/// declare a `rust-version` above `msrv`, as `name version (rust-version)`,
/// sorted.
pub fn offenders(metadata: &Value, msrv: Version) -> Result<Vec<String>, String> {
    let resolved: Vec<&str> = metadata
        .pointer("/resolve/nodes")
        .and_then(Value::as_array)
        .ok_or("cargo metadata: no resolve")?
        .iter()
        .filter_map(|n| n.get("id").and_then(Value::as_str))
        .collect();
    let packages = metadata
        .get("packages")
        .and_then(Value::as_array)
        .ok_or("cargo metadata: no packages")?;
    let mut out = Vec::new();
    for package in packages {
        let id = package.get("id").and_then(Value::as_str).unwrap_or("");
        if !resolved.contains(&id) {
            continue;
        }
        let Some(declared) = package.get("rust_version").and_then(Value::as_str) else {
            continue;
        };
        let name = package.get("name").and_then(Value::as_str).unwrap_or("?");
        let version = package
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or("?");
        match parse_version(declared) {
            Some(v) if v <= msrv => {}
            Some(_) => out.push(format!("{name} {version} (rust-version {declared})")),
            None => out.push(format!(
                "{name} {version} (unreadable rust-version {declared:?})"
            )),
        }
    }
    out.sort();
    Ok(out)
}

/// The workspace's `rust-version` (`[workspace.package]`).
pub fn workspace_msrv(root: &Path) -> Result<(String, Version), String> {
    let doc = workspace::read_manifest(&root.join("Cargo.toml"))?;
    let text = doc
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("rust-version"))
        .and_then(toml_edit::Item::as_str)
        .ok_or("Cargo.toml: no [workspace.package] rust-version")?
        .to_owned();
    let version = parse_version(&text).ok_or(format!("Cargo.toml: rust-version {text:?}"))?;
    Ok((text, version))
}

/// Checks the lock file against the workspace's `rust-version`.
pub fn run(root: &Path) -> Result<(), String> {
    let (text, msrv) = workspace_msrv(root)?;
    let mut c = cmd::cargo();
    c.current_dir(root)
        .args(["metadata", "--format-version", "1", "--locked"]);
    let json = cmd::output(&mut c)?;
    let metadata: Value =
        serde_json::from_str(&json).map_err(|e| format!("cargo metadata: {e}"))?;
    let offenders = offenders(&metadata, msrv)?;
    if offenders.is_empty() {
        eprintln!(
            "every package in Cargo.lock builds with Rust {text} (the workspace's rust-version)"
        );
        Ok(())
    } else {
        Err(format!(
            "Cargo.lock holds packages that need a newer Rust than the workspace's rust-version {text}:\n  {}\n\
             Pick older versions (`cargo update -p NAME --precise VERSION`; the workspace's \
             resolver 3 prefers compatible ones) or raise rust-version.",
            offenders.join("\n  ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_with_or_without_patch() {
        assert_eq!(parse_version("1.85"), Some((1, 85, 0)));
        assert_eq!(parse_version("1.88.0"), Some((1, 88, 0)));
        assert_eq!(parse_version(" 1.70.1 "), Some((1, 70, 1)));
        for bad in ["", "1", "1.x", "1.2.3.4", "v1.85"] {
            assert_eq!(parse_version(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_resolved_packages_above_the_msrv_are_reported() {
        let metadata: Value = serde_json::json!({
            "packages": [
                {"id": "a", "name": "old", "version": "1.0.0", "rust_version": "1.70"},
                {"id": "b", "name": "same", "version": "2.0.0", "rust_version": "1.85.0"},
                {"id": "c", "name": "newer", "version": "0.3.55", "rust_version": "1.88.0"},
                {"id": "d", "name": "none", "version": "0.1.0", "rust_version": null},
                {"id": "e", "name": "unresolved", "version": "9.0.0", "rust_version": "1.99"},
                {"id": "f", "name": "odd", "version": "0.1.0", "rust_version": "latest"}
            ],
            "resolve": {"nodes": [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}, {"id": "f"}]}
        });
        assert_eq!(
            offenders(&metadata, (1, 85, 0)).unwrap(),
            [
                "newer 0.3.55 (rust-version 1.88.0)",
                "odd 0.1.0 (unreadable rust-version \"latest\")"
            ]
        );
        assert!(offenders(&serde_json::json!({}), (1, 85, 0)).is_err());
    }

    #[test]
    fn the_workspace_lock_file_is_within_the_msrv() {
        run(&crate::repo_root()).unwrap();
    }
}
