//! Raw ingestion of a CSV file from disk: the body is checked locally
//! before it is sent (a malformed file is an error with its line and
//! column, and nothing leaves the process), then sent as it is with the
//! client's retries.
//!
//! ```sh
//! cargo run --example csv_ingest -- path/to/export.csv   # default: examples/data/requests.csv
//! ```

mod support;

use std::path::PathBuf;

use timber_sdk::{Error, IngestRawOptions, RawFormat};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/data/requests.csv")
        });
    let body = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;

    // What the file holds, read with the same parser the client checks with.
    let records = timber_sdk::format::parse(&body, RawFormat::Csv).map_err(|e| {
        format!(
            "{}: line {}, column {}: {}",
            path.display(),
            e.line,
            e.column,
            e.message
        )
    })?;
    eprintln!("{}: {} record(s)", path.display(), records.len());

    let target = support::target()?;
    let client = target.builder().source("csv-import").build()?;
    let options = IngestRawOptions::new().dataset("access-logs");
    client.ingest_raw(&body, RawFormat::Csv, options)?;

    // A broken export never reaches the service.
    let broken = "level,message\ninfo,Request completed,an extra field\n";
    match client.ingest_raw(broken, RawFormat::Csv, None) {
        Err(Error::InvalidRawBody { reason, .. }) => eprintln!("refused locally: {reason}"),
        other => eprintln!("unexpected: {other:?}"),
    }

    client.disconnect()?;
    target.report();
    Ok(())
}
