//! The core speaks in its own terms: no HTTP status, no URL path or query
//! encoding, no request envelope. Transports own their protocols.

use std::fs;
use std::path::Path;

/// Text that belongs to a wire protocol, and why.
const FORBIDDEN: &[(&str, &str)] = &[
    ("/v1/", "a URL path of the service"),
    ("\\\"logs\\\"", "the envelope of the service's batch body"),
    ("{\"logs\"", "the envelope of the service's batch body"),
    ("http_status", "an HTTP status accessor"),
    ("StatusCode", "an HTTP status type"),
    ("percent", "URL encoding"),
    ("Retry-After", "an HTTP header"),
    ("Content-Type", "an HTTP header"),
    ("X-API-Key", "an HTTP header"),
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `HTTP` followed by a three-digit status (`HTTP 503`), in any text.
fn quotes_a_status(line: &str) -> bool {
    line.match_indices("HTTP ").any(|(i, _)| {
        let rest = &line.as_bytes()[i + 5..];
        rest.len() >= 3 && rest[..3].iter().all(u8::is_ascii_digit)
    })
}

#[test]
fn the_core_knows_no_wire_format() {
    let root = xtask::repo_root();
    let mut files = Vec::new();
    rust_files(&root.join("core/src"), &mut files);
    assert!(files.len() > 20, "the core's sources were not found");
    let mut found = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for (needle, what) in FORBIDDEN {
                if line.contains(needle) {
                    found.push(format!("{}:{}: {what}: {line}", file.display(), n + 1));
                }
            }
            if quotes_a_status(line) {
                found.push(format!(
                    "{}:{}: an HTTP status: {line}",
                    file.display(),
                    n + 1
                ));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
