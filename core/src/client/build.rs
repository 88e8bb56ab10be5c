//! [`ClientBuilder::build`]: a checked configuration, its spool opened, its
//! worker started.

use crate::client::Client;
use crate::config::builder::ClientBuilder;
use crate::error::{ConfigError, Error};
use crate::pipeline::spool::Spool;

impl ClientBuilder {
    /// Validates the configuration and starts the client's worker.
    pub fn build(self) -> Result<Client, Error> {
        let (config, transport) = self.into_config()?;
        let spool = match &config.spool {
            Some(spool) => Some(Spool::open(spool).map_err(|e| ConfigError {
                field: "spool",
                reason: format!("cannot open {}: {e}", spool.dir.display()),
            })?),
            None => None,
        };
        Ok(Client::start(config, transport, spool)?)
    }
}
