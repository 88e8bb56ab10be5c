//! What each composable crate pulls in: the core, the mock and the facade
//! without its `https` feature bring no async runtime, no HTTP stack and no
//! TLS, whatever their other features.

use std::process::Command;

/// The packages `package` depends on (normal dependencies, every platform).
fn tree(package: &str, features: &[&str]) -> Vec<String> {
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(xtask::repo_root())
        .args([
            "tree", "--locked", "-e", "normal", "--prefix", "none", "-f", "{p}",
        ])
        .args(["--target", "all", "-p", package])
        .args(features)
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect()
}

const FORBIDDEN: &[&str] = &["hyper", "hyper-util", "tokio", "rustls", "h2", "mio"];

#[test]
fn the_core_the_mock_and_the_facade_without_https_pull_no_runtime_nor_http_nor_tls() {
    for (package, features) in [
        ("timber-core", &["--all-features"][..]),
        ("timber-transport-mock", &[][..]),
        (
            "timber-sdk",
            &["--no-default-features", "--features", "tracing,log,test"][..],
        ),
    ] {
        let deps = tree(package, features);
        assert!(deps.iter().any(|d| d == package), "{package}: {deps:?}");
        for forbidden in FORBIDDEN {
            assert!(
                !deps.iter().any(|d| d == forbidden),
                "{package} {features:?} pulls {forbidden}"
            );
        }
    }
    // The default facade does bring the HTTPS transport.
    let deps = tree("timber-sdk", &[]);
    assert!(deps.iter().any(|d| d == "hyper") && deps.iter().any(|d| d == "rustls"));
}
