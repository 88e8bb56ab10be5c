//! `timber_sdk::init` end to end, in a child process with the variables a
//! deployment would set: configuration from the environment under explicit
//! calls, the default HTTPS transport trusting `TIMBERLOGS_CA_CERT`, raw
//! bodies checked locally, and the `tracing` and `log` bridges logging
//! through the global client, all delivered to a real HTTPS ingest server.

mod common;

use common::*;
use timber_sdk::{json, Error, Level, RawFormat, TimberLayer, TimberLogger};
use tracing_subscriber::layer::SubscriberExt;

#[test]
fn init_configures_from_the_environment_and_the_bridges_use_the_global_client() {
    let server = https_server();
    let ca = ca_file(&server, "init");
    run_child(
        "child_runs_an_application",
        &[
            ("TIMBERLOGS_API_KEY", KEY.to_owned()),
            ("TIMBERLOGS_SOURCE", "from-env".to_owned()),
            ("TIMBERLOGS_ENDPOINT", server.url()),
            ("TIMBERLOGS_CA_CERT", ca.display().to_string()),
            ("TIMBERLOGS_ENVIRONMENT", "staging".to_owned()),
            ("TIMBERLOGS_MIN_LEVEL", "info".to_owned()),
            ("TIMBERLOGS_DATASET", "checkout".to_owned()),
            ("TIMBERLOGS_VERSION", "1.0.0".to_owned()),
        ],
    );
    let _ = std::fs::remove_file(ca);

    let records = server.records();
    let messages: Vec<&str> = records.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(
        messages,
        ["from the client", "from tracing", "from log"],
        "debug records are below TIMBERLOGS_MIN_LEVEL"
    );
    for record in &records {
        assert_eq!(record.source.as_deref(), Some("from-env"));
        assert_eq!(record.environment, Some(timber_sdk::Environment::Staging));
        assert_eq!(record.dataset.as_deref(), Some("checkout"));
        // The explicit call won over TIMBERLOGS_VERSION.
        assert_eq!(record.version.as_deref(), Some("2.0.0-explicit"));
    }
    assert_eq!(records[1].data.as_ref().unwrap()["order"], 7);
    assert_eq!(records[2].data.as_ref().unwrap()["attempt"], 2);
    // Only the well-formed raw body reached the server.
    let raw = server.raw_ingestions();
    assert_eq!(raw.len(), 1);
    assert_eq!(raw[0].body, "level,message\ninfo,imported");
    // Over TLS, HTTP/2 by ALPN, with the server's CA from TIMBERLOGS_CA_CERT.
    assert!(server
        .requests()
        .iter()
        .all(|r| r.version == "HTTP/2.0" && r.authorized));
}

#[test]
#[ignore = "run by init_configures_from_the_environment_and_the_bridges_use_the_global_client"]
fn child_runs_an_application() -> Result<(), Error> {
    // A bridge installed before the client exists...
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(TimberLayer::global()),
    )
    .unwrap();

    let guard = timber_sdk::init(timber_sdk::builder().version("2.0.0-explicit"))?;
    assert_eq!(guard.client().config().min_level, Level::Info);

    // ...and one after, whose `log` max level follows the global client.
    TimberLogger::global().try_init().unwrap();
    assert_eq!(log::max_level(), log::LevelFilter::Info);

    let client = timber_sdk::client().expect("init set the global client");
    client.info("from the client", (), None);
    client.debug("below min_level", (), None);
    tracing::info!(order = 7, "from tracing");
    log::warn!(attempt = 2; "from log");
    log::debug!("below min_level");

    let err = client
        .ingest_raw("level,message\ninfo,ok,extra", RawFormat::Csv, None)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRawBody { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("invalid csv body: line 2, column "),
        "{err}"
    );
    client.ingest_raw("level,message\ninfo,imported", RawFormat::Csv, None)?;
    let _ = json!({});

    drop(guard); // flushes and disconnects
    assert!(timber_sdk::client().is_none());
    Ok(())
}
