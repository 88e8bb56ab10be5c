//! The documents and manifests a registry user sees: the README quick start
//! is one block in two places, package READMEs have only links that work on
//! a crate page, every package carries its licenses, README and docs.rs
//! metadata, and the protocol copy matches the shared one.

use std::fs;
use std::path::Path;

use xtask::package::quick_start;
use xtask::workspace::{read_manifest, Workspace};

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Link targets of a Markdown text: `](target)`.
fn links(text: &str) -> Vec<&str> {
    text.match_indices("](")
        .filter_map(|(i, _)| {
            let rest = &text[i + 2..];
            rest.find(')').map(|end| &rest[..end])
        })
        .collect()
}

#[test]
fn the_root_readme_and_the_facade_readme_share_one_compiled_quick_start() {
    let root = xtask::repo_root();
    let main = read(&root.join("README.md"));
    let sdk = read(&root.join("sdk/README.md"));
    let block = quick_start(&sdk).expect("sdk/README.md has a quick start");
    assert_eq!(quick_start(&main).as_deref(), Some(block.as_str()));
    assert!(block.contains("timber_sdk::init(timber_sdk::builder()"));
    for text in [&main, &sdk] {
        assert!(
            !text.contains("rust,ignore"),
            "every Rust block is compiled"
        );
        assert!(text.contains("cargo add timber-sdk"));
    }
    // The two set-up commands stay near the top.
    let commands = main.find("## The two commands").unwrap();
    assert!(commands < main.find("## Quick start").unwrap());
    assert!(main.contains("cargo run --release -p timber-demo"));
    assert!(main.contains("cargo test --workspace "));
}

#[test]
fn readmes_link_nowhere_a_crate_page_cannot_reach() {
    let root = xtask::repo_root();
    for link in links(&read(&root.join("README.md"))) {
        assert!(
            !link.starts_with("../"),
            "README.md links outside the repository: {link}"
        );
    }
    let ws = Workspace::load(&root).unwrap();
    for member in ws.members.iter().filter(|m| m.publish) {
        let dir = member.manifest.parent().unwrap();
        let readme = read(&dir.join("README.md"));
        for link in links(&readme) {
            assert!(
                link.starts_with("https://") || link.starts_with('#'),
                "{}: {link} does not work on crates.io",
                member.name
            );
        }
    }
}

#[test]
fn every_published_package_has_licenses_readme_and_registry_metadata() {
    let root = xtask::repo_root();
    let ws = Workspace::load(&root).unwrap();
    let published: Vec<_> = ws.members.iter().filter(|m| m.publish).collect();
    let names: Vec<&str> = published.iter().map(|m| m.name.as_str()).collect();
    for expected in [
        "timber-sdk",
        "timber-core",
        "timber-transport-hyper",
        "timber-transport-otlp",
        "timber-transport-mock",
        "timber-format",
        "timber-ingest-server",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} is not published: {names:?}"
        );
    }
    for member in published {
        let dir = member.manifest.parent().unwrap();
        for file in ["LICENSE-MIT", "LICENSE-APACHE", "README.md"] {
            let text = read(&dir.join(file));
            assert!(!text.trim().is_empty(), "{}: {file} is empty", member.name);
        }
        let doc = read_manifest(&member.manifest).unwrap();
        let package = &doc["package"];
        for key in [
            "description",
            "readme",
            "documentation",
            "keywords",
            "categories",
        ] {
            assert!(package.get(key).is_some(), "{}: no {key}", member.name);
        }
        for key in ["license", "repository", "homepage", "rust-version"] {
            assert!(package.get(key).is_some(), "{}: no {key}", member.name);
        }
        assert_eq!(
            package["documentation"].as_str(),
            Some(format!("https://docs.rs/{}", member.name).as_str())
        );
        let keywords = package["keywords"].as_array().unwrap();
        assert!(keywords.len() <= 5, "{}: at most 5 keywords", member.name);
        let docs_rs = &doc["package"]["metadata"]["docs"]["rs"];
        assert_eq!(
            docs_rs["all-features"].as_bool(),
            Some(true),
            "{}",
            member.name
        );
        let args: Vec<&str> = docs_rs["rustdoc-args"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        assert_eq!(args, ["--cfg", "docsrs"], "{}", member.name);
    }
}

#[test]
fn the_protocol_copy_matches_the_shared_contract() {
    let root = xtask::repo_root();
    let shared = root.join("../shared/PROTOCOL.md");
    let copy = read(&root.join("PROTOCOL.md"));
    match fs::read_to_string(&shared) {
        Ok(original) => assert_eq!(
            copy, original,
            "PROTOCOL.md differs from ../shared/PROTOCOL.md"
        ),
        Err(_) => eprintln!("no ../shared beside the repository: nothing to compare"),
    }
}
