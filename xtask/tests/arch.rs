//! `arch` on small workspaces written to a temporary folder: each rule is
//! seen broken and seen kept. The real workspace is `cargo xtask arch`'s
//! business (CI), not this test's.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use xtask::arch::{check, Report, Violation};

/// A throwaway workspace: `core` and `other`, each with a `lib.rs`.
struct Fixture {
    dir: PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl Fixture {
    fn new() -> Fixture {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "arch-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        let f = Fixture { dir };
        f.write(
            "Cargo.toml",
            "[workspace]\nresolver = \"3\"\nmembers = [\"core\", \"other\"]\n",
        );
        for (member, name) in [("core", "fixture-core"), ("other", "fixture-other")] {
            f.write(
                &format!("{member}/Cargo.toml"),
                &format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n"),
            );
            f.write(&format!("{member}/src/lib.rs"), "//! A crate.\n");
        }
        f
    }

    fn write(&self, path: &str, text: &str) {
        let path = self.dir.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn check(&self) -> Report {
        check(&self.dir).unwrap()
    }
}

fn cycles(report: &Report) -> Vec<&xtask::arch::Cycle> {
    report
        .violations
        .iter()
        .filter_map(|v| match v {
            Violation::Cycle(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn files(cycle: &xtask::arch::Cycle) -> Vec<String> {
    cycle
        .files
        .iter()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect()
}

#[test]
fn a_clean_workspace_breaks_no_rule() {
    let f = Fixture::new();
    f.write(
        "core/src/lib.rs",
        "mod a;\nmod b;\npub use a::A;\npub use b::{B, C as D};\n",
    );
    f.write("core/src/a.rs", "pub struct A;\n");
    f.write("core/src/b.rs", "pub struct B;\npub struct C;\n");
    let report = f.check();
    assert_eq!(report.violations, []);
    assert_eq!((report.crates, report.files), (2, 4));
}

#[test]
fn two_files_importing_each_other_are_a_cycle() {
    let f = Fixture::new();
    f.write("other/src/lib.rs", "mod a;\nmod b;\n");
    f.write("other/src/a.rs", "use crate::b::B;\npub struct A(B);\n");
    // A qualified path in code is an import too; comments and strings are not.
    f.write(
        "other/src/b.rs",
        "// use crate::lib_item;\npub struct B;\npub fn a() -> crate::a::A {\n    \
         let _ = \"crate::z\";\n    crate::a::A(B)\n}\n",
    );
    let report = f.check();
    let found = cycles(&report);
    assert_eq!(found.len(), 1, "{:?}", report.violations);
    assert_eq!(files(found[0]), ["other/src/a.rs", "other/src/b.rs"]);
    let examples: Vec<(u32, &str)> = found[0]
        .edges
        .iter()
        .map(|(_, _, e)| (e.line, e.text.as_str()))
        .collect();
    assert_eq!(examples, [(1, "use crate::b::B"), (3, "crate::a::A")]);
    let printed = report.violations[0].to_string();
    assert!(
        printed.contains("other/src/a.rs -> other/src/b.rs"),
        "{printed}"
    );
    assert!(
        printed.contains("other/src/b.rs:3 `crate::a::A`"),
        "{printed}"
    );
}

#[test]
fn a_parent_declaring_its_child_is_no_import() {
    let f = Fixture::new();
    f.write(
        "other/src/lib.rs",
        "pub mod child;\nmod nested;\npub struct Root;\n",
    );
    f.write(
        "other/src/child.rs",
        "use super::Root;\npub fn f(_: Root) {}\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
    );
    // `nested.rs` declares `inner` (in `nested/`) and only `inner` imports.
    f.write("other/src/nested.rs", "mod inner;\npub struct N;\n");
    f.write(
        "other/src/nested/inner.rs",
        "use super::N;\nuse crate::Root;\n",
    );
    let report = f.check();
    assert_eq!(cycles(&report).len(), 0, "{:?}", report.violations);
}

#[test]
fn a_root_re_export_used_by_its_own_file_is_a_cycle() {
    let f = Fixture::new();
    f.write("other/src/lib.rs", "mod child;\npub use child::X;\n");
    f.write(
        "other/src/child.rs",
        "pub struct X;\n#[cfg(test)]\nmod tests {\n    use crate::X;\n}\n",
    );
    let report = f.check();
    let found = cycles(&report);
    assert_eq!(found.len(), 1, "{:?}", report.violations);
    assert_eq!(files(found[0]), ["other/src/child.rs", "other/src/lib.rs"]);
    let texts: Vec<&str> = found[0].edges.iter().map(|(_, _, e)| &*e.text).collect();
    assert_eq!(texts, ["use crate::X", "pub use child::X"]);
}

#[test]
fn cycles_through_folders_and_nested_paths() {
    let f = Fixture::new();
    f.write(
        "other/src/lib.rs",
        "mod config;\nmod pipeline;\nmod spool;\n",
    );
    // A `x.rs` file's children live in `x/`.
    f.write(
        "other/src/config.rs",
        "mod env;\npub use env::EnvVar;\npub struct Builder;\n",
    );
    f.write(
        "other/src/config/env.rs",
        "pub struct EnvVar;\nimpl super::Builder {}\n",
    );
    f.write(
        "other/src/pipeline/mod.rs",
        "pub(crate) mod queue;\npub(crate) use queue::Queue;\n",
    );
    f.write(
        "other/src/pipeline/queue.rs",
        "pub struct Queue;\nfn f() { super::super::spool::flush() }\n",
    );
    f.write(
        "other/src/spool.rs",
        "pub fn flush() {}\nfn g() -> crate::pipeline::queue::Queue { todo!() }\n",
    );
    let report = f.check();
    let found = cycles(&report);
    assert_eq!(found.len(), 2, "{:?}", report.violations);
    assert_eq!(
        files(found[0]),
        ["other/src/config/env.rs", "other/src/config.rs"]
    );
    assert_eq!(
        files(found[1]),
        ["other/src/pipeline/queue.rs", "other/src/spool.rs"]
    );
}

#[test]
fn a_file_of_501_lines_is_too_long() {
    let f = Fixture::new();
    f.write("other/src/lib.rs", &"// a line\n".repeat(501));
    f.write("core/src/lib.rs", &"// a line\n".repeat(500));
    let report = f.check();
    assert_eq!(
        report.violations,
        [Violation::LongFile {
            path: PathBuf::from("other/src/lib.rs"),
            lines: 501
        }]
    );
}

fn lib_with_reexports(names: usize) -> String {
    let mut lib = String::from("mod items;\n");
    // Two by a brace, one by a rename, the rest one a line.
    lib.push_str("pub use items::{I0, I1};\npub use items::I2 as Renamed;\n");
    for i in 3..names {
        lib.push_str(&format!("pub use items::I{i};\n"));
    }
    lib.push_str("pub(crate) use items::Hidden;\nmod inner {\n    pub use super::items::I0;\n}\n");
    lib
}

fn items(names: usize) -> String {
    let mut items: String = (0..names).map(|i| format!("pub struct I{i};\n")).collect();
    items.push_str("pub struct Hidden;\n");
    items
}

#[test]
fn forty_one_re_exports_are_too_many_and_a_glob_is_refused() {
    let f = Fixture::new();
    f.write("core/src/items.rs", &items(41));
    f.write("core/src/lib.rs", &lib_with_reexports(40));
    assert_eq!(f.check().violations, []);

    f.write("core/src/lib.rs", &lib_with_reexports(41));
    assert_eq!(f.check().violations, [Violation::ReExports { names: 41 }]);

    f.write("core/src/lib.rs", "mod items;\npub use items::*;\n");
    let report = f.check();
    assert_eq!(
        report.violations,
        [Violation::GlobReExport {
            line: 2,
            text: "pub use items::*".to_owned()
        }]
    );
    assert!(report.violations[0].to_string().contains("glob"));
}

#[test]
fn core_src_holds_twelve_entries_at_most() {
    let f = Fixture::new();
    let mut lib = String::new();
    for i in 0..11 {
        lib.push_str(&format!("mod m{i};\n"));
        f.write(&format!("core/src/m{i}.rs"), "");
    }
    f.write("core/src/lib.rs", &lib);
    assert_eq!(f.check().violations, []);
    f.write("core/src/extra/mod.rs", "");
    match f.check().violations.as_slice() {
        [Violation::CoreEntries { entries }] => assert_eq!(entries.len(), 13),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_core_has_no_mock_and_no_logger_integration() {
    let f = Fixture::new();
    f.write(
        "core/src/lib.rs",
        "pub mod mock;\nmod bridge;\nmod layer;\n",
    );
    f.write("core/src/mock.rs", "pub struct Fake;\n");
    f.write(
        "core/src/bridge.rs",
        "//! Not a `log::Log` impl: this doc comment does not count.\nuse log::{Log, Metadata};\n\
         pub struct L;\nimpl Log for L {}\n",
    );
    f.write(
        "core/src/layer.rs",
        "// tracing_subscriber in a comment does not count\nuse tracing_subscriber::Layer;\n\
         #[cfg(test)]\nmod mock {}\n",
    );
    // Outside the core, all of it is fine.
    f.write("other/src/lib.rs", "mod mock;\nimpl log::Log for X {}\n");
    f.write("other/src/mock.rs", "use tracing_subscriber::Layer;\n");
    let report = f.check();
    assert_eq!(
        report.violations,
        [
            Violation::Mock {
                path: PathBuf::from("core/src/mock.rs"),
                line: None
            },
            Violation::LogImpl {
                path: PathBuf::from("core/src/bridge.rs"),
                line: 4
            },
            Violation::Mock {
                path: PathBuf::from("core/src/layer.rs"),
                line: Some(4)
            },
            Violation::Subscriber {
                path: PathBuf::from("core/src/layer.rs"),
                lines: vec![2]
            },
        ]
    );
}

#[test]
fn a_workspace_without_core_is_an_error() {
    let f = Fixture::new();
    fs::remove_dir_all(f.dir.join("core/src")).unwrap();
    let err = check(&f.dir).unwrap_err();
    assert!(err.contains("core/src/lib.rs"), "{err}");
}
