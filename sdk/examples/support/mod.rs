//! Where the examples send their logs: the service that the `TIMBERLOGS_*`
//! variables name or, when `TIMBERLOGS_API_KEY` is not set, a local ingest
//! server started here on 127.0.0.1 (HTTPS, with a certificate made now),
//! so that every example runs as is. Not part of what an example shows.

use timber_ingest_server::{IngestServer, ServerConfig, TlsIdentity};
use timber_sdk::{ClientBuilder, HyperTransport};

const LOCAL_KEY: &str = "tb_test_examples_local";

pub struct Target {
    local: Option<(IngestServer, HyperTransport)>,
}

/// The service to log to.
pub fn target() -> Result<Target, Box<dyn std::error::Error>> {
    if std::env::var_os("TIMBERLOGS_API_KEY").is_some() {
        return Ok(Target { local: None });
    }
    let server = IngestServer::start(ServerConfig::new(LOCAL_KEY).tls(TlsIdentity::generate()?))?;
    let transport = HyperTransport::builder()
        .add_root_certificate_pem(server.ca_pem().unwrap_or_default())
        .no_proxy()
        .build()?;
    eprintln!(
        "(TIMBERLOGS_API_KEY is not set: logging to a local ingest server at {})",
        server.url()
    );
    Ok(Target {
        local: Some((server, transport)),
    })
}

impl Target {
    /// `timber_sdk::builder()`, pointed at the local server when there is one.
    pub fn builder(&self) -> ClientBuilder {
        let builder = timber_sdk::builder();
        match &self.local {
            None => builder,
            Some((server, transport)) => builder
                .api_key(LOCAL_KEY)
                .base_url(server.url())
                .transport(transport.clone()),
        }
    }

    /// Prints what the local server received (after the client flushed).
    pub fn report(&self) {
        let Some((server, _)) = &self.local else {
            return;
        };
        let records = server.records();
        eprintln!("\nthe local ingest server received:");
        for r in &records {
            let flow = match (&r.flow_id, r.step_index) {
                (Some(id), Some(step)) => format!(" [{id} step {step}]"),
                _ => String::new(),
            };
            eprintln!("  {:5} {}{flow}", r.level.as_str(), r.message);
        }
        for raw in server.raw_ingestions() {
            eprintln!(
                "  a raw {} body of {} line(s)",
                raw.format,
                raw.body.lines().count()
            );
        }
    }
}
