//! The `log` crate's macros, shipped through the global client: install
//! `TimberLogger::global()` once, and every `log::info!` anywhere in the
//! program (and its dependencies) becomes a record.
//!
//! ```sh
//! cargo run --example log_facade --features log
//! ```

mod support;

use timber_sdk::{Level, TimberLogger};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = support::target()?;
    let guard = timber_sdk::init(target.builder().source("log-facade").min_level(Level::Info))?;
    // The `log` max level follows the client's min_level (info here).
    TimberLogger::global().init();

    log::info!(user = "u-1", plan = "pro"; "user signed in");
    log::debug!("below min_level: never formatted, never sent");
    log::warn!(target: "billing::invoices", overdue = 3; "invoices overdue");
    if let Err(err) = std::fs::read_to_string("/nonexistent/app.toml") {
        // An error key-value fills errorName and errorStack.
        log::error!(err:err = err; "cannot read the configuration");
    }

    drop(guard); // flushes, then disconnects
    target.report();
    Ok(())
}
