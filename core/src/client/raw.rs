//! What a client sends for a caller, beside its records: flows (local ids,
//! or the service's) and raw bodies. Both calls go through the worker's
//! delivery: the retry policy, the shutdown deadline, panic containment.

use futures_channel::oneshot;

use crate::client::flow::Flow;
use crate::client::Client;
use crate::error::Error;
use crate::pipeline::request::Request;
use crate::record::flow_id::local_id;
use crate::record::raw::{IngestRawOptions, RawFormat};
use crate::record::trace_context::TraceContext;
use crate::record::validate::{check_flow_id, check_flow_name};
use crate::rt::block_on::block_on;
use crate::transport::batch::new_key;

impl Client {
    /// Starts a flow with a local id `{name}-{8 random [a-z0-9]}`.
    ///
    /// ```
    /// # #[path = "../../tests/double/mod.rs"] mod double;
    /// # use double::MockTransport;
    /// # use timber_core::Client;
    /// # let client = Client::builder().source("s").api_key("k").transport(MockTransport::new()).build()?;
    /// let flow = client.flow("checkout")?;
    /// assert!(flow.id().starts_with("checkout-"));
    /// assert_eq!(flow.id().len(), "checkout-".len() + 8);
    /// # Ok::<(), timber_core::Error>(())
    /// ```
    pub fn flow(&self, name: &str) -> Result<Flow, Error> {
        check_flow_name(name)?;
        Ok(Flow::new(self.clone(), name.into(), local_id(name).into()))
    }

    /// Starts a flow (as [`flow`](Self::flow)) that continues the trace of
    /// an incoming request's W3C `traceparent` header: its records carry
    /// that trace, and [`Flow::traceparent`] passes it on. A missing or
    /// invalid header starts a flow as `flow` does (W3C Trace Context asks
    /// a receiver to ignore an invalid one).
    pub fn flow_continuing(&self, name: &str, traceparent: Option<&str>) -> Result<Flow, Error> {
        let trace = traceparent.and_then(|header| header.parse::<TraceContext>().ok());
        Ok(self.flow(name)?.in_trace(trace))
    }

    /// Starts a flow whose id the transport gives (the service's, for the
    /// hyper transport), with the client's retry policy.
    pub async fn flow_async(&self, name: &str) -> Result<Flow, Error> {
        check_flow_name(name)?;
        let (reply, answer) = oneshot::channel();
        self.pipeline().request(Request::Flow {
            name: name.to_owned(),
            reply,
        })?;
        let id = answer
            .await
            .map_err(|_| Error::Closed)?
            .map_err(Error::Transport)?;
        check_flow_id(&id)?;
        Ok(Flow::new(self.clone(), name.into(), id.into()))
    }

    /// Sends a raw body (json, jsonl, syslog, text, csv or obl) now, blocking
    /// the calling thread, with the client's retry policy. Options left
    /// `None` take the client's source, environment and dataset. From
    /// `on_error` on the worker thread it returns [`Error::Timeout`] at once
    /// (the worker is the one that would send it).
    ///
    /// ```
    /// # #[path = "../../tests/double/mod.rs"] mod double;
    /// # use double::MockTransport;
    /// # use timber_core::{Client, RawFormat};
    /// # let mock = MockTransport::new();
    /// # let client = Client::builder().source("relay").api_key("k").transport(mock.clone()).build()?;
    /// client.ingest_raw("level,message\nerror,Connection refused", RawFormat::Csv, None)?;
    /// let raw = mock.raw_ingestions();
    /// assert_eq!(raw[0].format, RawFormat::Csv);
    /// assert_eq!(raw[0].options.source.as_deref(), Some("relay"));
    /// # Ok::<(), timber_core::Error>(())
    /// ```
    pub fn ingest_raw(
        &self,
        body: &str,
        format: RawFormat,
        options: impl Into<Option<IngestRawOptions>>,
    ) -> Result<(), Error> {
        if self.pipeline().on_worker_thread() {
            return Err(Error::Timeout {
                after: std::time::Duration::ZERO,
            });
        }
        block_on(self.ingest_raw_async(body, format, options))
    }

    /// The async form of [`Client::ingest_raw`]; runs under any executor.
    pub async fn ingest_raw_async(
        &self,
        body: &str,
        format: RawFormat,
        options: impl Into<Option<IngestRawOptions>>,
    ) -> Result<(), Error> {
        if self.pipeline().is_closed() {
            return Err(Error::Closed);
        }
        let config = self.config();
        if body.trim().is_empty() {
            return Err(Error::InvalidRawBody {
                format,
                reason: "the body is empty".into(),
            });
        }
        if let (true, Some(check)) = (config.check_raw_bodies, &config.raw_validator) {
            check(format, body).map_err(|reason| Error::InvalidRawBody { format, reason })?;
        }
        let mut options = options.into().unwrap_or_default();
        options
            .source
            .get_or_insert_with(|| config.source.to_string());
        options.environment.get_or_insert(config.environment);
        if let Some(dataset) = &config.dataset {
            options.dataset.get_or_insert_with(|| dataset.to_string());
        }
        let (reply, answer) = oneshot::channel();
        self.pipeline().request(Request::Raw {
            body: body.to_owned(),
            format,
            options,
            idempotency_key: new_key(),
            reply,
        })?;
        answer
            .await
            .map_err(|_| Error::Closed)?
            .map_err(Error::Transport)
    }
}
