//! `release` on a temporary copy of the repository: refusals leave the tree
//! untouched; a release bumps every version, packages the publishable
//! crates, commits and tags.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use toml_edit::DocumentMut;
use xtask::release::{self, Options};

/// A throwaway git repository holding the tracked files of this one.
struct Copy {
    dir: PathBuf,
}

impl Drop for Copy {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl Copy {
    /// Copies the tracked files as committed (`git archive HEAD`, i.e. the
    /// `git ls-files` set at HEAD): work in progress in the checkout cannot
    /// break the copy.
    fn new() -> Copy {
        let source = xtask::repo_root();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("release-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let mut archive = Command::new("git")
            .current_dir(&source)
            .args(["archive", "--format=tar", "HEAD"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("git archive runs");
        let untar = Command::new("tar")
            .current_dir(&dir)
            .arg("-xf")
            .arg("-")
            .stdin(archive.stdout.take().unwrap())
            .status()
            .expect("tar runs");
        assert!(archive.wait().unwrap().success() && untar.success());

        git(&dir, &["init", "-q"]);
        for (k, v) in [
            ("user.name", "Release Test"),
            ("user.email", "release-test@example.invalid"),
            ("commit.gpgsign", "false"),
            ("tag.gpgsign", "false"),
        ] {
            git(&dir, &["config", k, v]);
        }
        let copy = Copy { dir };
        copy.commit("snapshot of the repository");
        copy
    }

    fn commit(&self, message: &str) {
        git(&self.dir, &["add", "-A"]);
        git(&self.dir, &["commit", "-q", "--allow-empty", "-m", message]);
    }

    fn write(&self, path: &str, text: &str) {
        fs::write(self.dir.join(path), text).unwrap();
    }

    fn read(&self, path: &str) -> String {
        fs::read_to_string(self.dir.join(path)).unwrap()
    }

    fn manifest(&self, path: &str) -> DocumentMut {
        self.read(path).parse().unwrap()
    }

    /// Sets core's dev-dependency on the mock transport.
    fn core_dev_dep_on_mock(&self, spec: &str) {
        let mut doc = self.manifest("core/Cargo.toml");
        let dev = doc["dev-dependencies"].as_table_like_mut().unwrap();
        let parsed: DocumentMut = format!("x = {spec}").parse().unwrap();
        dev.insert("timber-transport-mock", parsed["x"].clone());
        self.write("core/Cargo.toml", &doc.to_string());
    }

    fn release(&self, version: &str) -> Result<release::Outcome, String> {
        release::run(
            &self.dir,
            version,
            &Options {
                offline: true,
                target_dir: Some(target_dir()),
                // The packages' builds are the dry run's (in CI); this
                // test is about the release's own steps.
                no_verify: true,
            },
        )
    }
}

/// Kept between runs, so packaging compiles the dependencies once.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("release-target")
}

fn changelog(versions: &[&str]) -> String {
    let mut s = String::from("# Changelog\n\n## [Unreleased]\n\n");
    for v in versions {
        s.push_str(&format!(
            "## [{v}] - 2025-01-01\n\n### Added\n\n- things\n\n"
        ));
    }
    s
}

fn workspace_versions(copy: &Copy) -> Vec<(String, String)> {
    let doc = copy.manifest("Cargo.toml");
    let mut out = vec![(
        "workspace.package".to_owned(),
        doc["workspace"]["package"]["version"]
            .as_str()
            .unwrap()
            .to_owned(),
    )];
    for (name, item) in doc["workspace"]["dependencies"]
        .as_table_like()
        .unwrap()
        .iter()
    {
        if name.starts_with("timber-") {
            out.push((
                name.to_owned(),
                item["version"].as_str().unwrap().to_owned(),
            ));
        }
    }
    out
}

#[test]
fn release_refuses_then_bumps_packages_commits_and_tags() {
    let copy = Copy::new();
    let before = workspace_versions(&copy);
    assert!(before.len() >= 6, "{before:?}");
    let root_manifest = copy.read("Cargo.toml");

    assert!(copy.release("0.2").unwrap_err().contains("not a version"));

    // A dirty tree: untracked or modified files.
    copy.write("CHANGELOG.md", &changelog(&["0.2.0"]));
    copy.write("scratch.txt", "work in progress");
    let err = copy.release("0.2.0").unwrap_err();
    assert!(
        err.contains("dirty") && err.contains("scratch.txt"),
        "{err}"
    );
    assert_eq!(copy.read("Cargo.toml"), root_manifest);
    fs::remove_file(copy.dir.join("scratch.txt")).unwrap();

    // No changelog section for the version.
    copy.write("CHANGELOG.md", &changelog(&["0.1.0"]));
    copy.commit("changelog without 0.2.0");
    let err = copy.release("0.2.0").unwrap_err();
    assert!(err.contains("no section for 0.2.0"), "{err}");
    assert_eq!(copy.read("Cargo.toml"), root_manifest);

    // A versioned dev-dependency cycle cannot be packaged: said up front.
    copy.write("CHANGELOG.md", &changelog(&["0.2.0", "0.1.0"]));
    copy.core_dev_dep_on_mock("{ workspace = true }");
    copy.commit("changelog for 0.2.0");
    let err = copy.release("0.2.0").unwrap_err();
    assert!(
        err.contains("timber-core: dev-dependency timber-transport-mock"),
        "{err}"
    );
    assert_eq!(copy.read("Cargo.toml"), root_manifest);
    assert_eq!(git(&copy.dir, &["status", "--porcelain"]), "");

    // The release.
    copy.core_dev_dep_on_mock("{ path = \"../transport-mock\" }");
    copy.commit("path-only dev-dependency on the mock");
    let outcome = copy.release("0.2.0").expect("the release succeeds");
    assert_eq!(outcome.tag, "v0.2.0");
    assert!(
        outcome.packaged.contains(&"timber-core".to_owned())
            && outcome
                .packaged
                .contains(&"timber-transport-mock".to_owned()),
        "{:?}",
        outcome.packaged
    );
    let core_at = outcome.packaged.iter().position(|p| p == "timber-core");
    let mock_at = outcome
        .packaged
        .iter()
        .position(|p| p == "timber-transport-mock");
    assert!(
        core_at < mock_at,
        "dependency order: {:?}",
        outcome.packaged
    );
    for name in &outcome.packaged {
        let file = release::crate_file(&target_dir(), name, "0.2.0");
        assert!(file.is_file(), "{} was not packaged", file.display());
    }

    let after = workspace_versions(&copy);
    assert_eq!(after.len(), before.len());
    assert!(after.iter().all(|(_, v)| v == "0.2.0"), "{after:?}");
    // Only the versions changed: comments and layout are kept.
    assert_eq!(
        copy.read("Cargo.toml").replace("0.2.0", "0.1.0"),
        root_manifest
    );
    let lock = copy.read("Cargo.lock");
    assert!(lock.contains("name = \"timber-core\"\nversion = \"0.2.0\""));

    assert_eq!(git(&copy.dir, &["status", "--porcelain"]), "");
    assert_eq!(
        git(&copy.dir, &["log", "-1", "--format=%s"]),
        "Release v0.2.0"
    );
    assert_eq!(
        git(&copy.dir, &["rev-parse", "v0.2.0^{commit}"]),
        git(&copy.dir, &["rev-parse", "HEAD"])
    );

    // The same version again, or an older one, is refused.
    assert!(copy
        .release("0.2.0")
        .unwrap_err()
        .contains("v0.2.0 already exists"));
    copy.write("CHANGELOG.md", &changelog(&["0.1.5", "0.2.0"]));
    copy.commit("changelog for 0.1.5");
    assert!(copy.release("0.1.5").unwrap_err().contains("older"));
}
