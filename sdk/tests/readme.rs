//! The README's table of variables is complete: every variable the client
//! reads is in it, and no other `TIMBERLOGS_*` name.

const README: &str = include_str!("../README.md");

#[test]
fn the_readme_lists_every_variable_the_sdk_reads() {
    let mut read: Vec<&str> = timber_sdk::config::ENV_VARS
        .iter()
        .map(|v| v.name)
        .collect();
    read.push(timber_sdk::CA_CERT_VAR);
    let listed: Vec<&str> = README
        .lines()
        .filter_map(|line| line.strip_prefix("| `TIMBERLOGS_"))
        .filter_map(|rest| rest.split('`').next())
        .collect();
    let listed: Vec<String> = listed.iter().map(|n| format!("TIMBERLOGS_{n}")).collect();
    assert_eq!(listed, read);
}
