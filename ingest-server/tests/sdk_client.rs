//! Records from this SDK's client (`timber-core`: validation, stamping,
//! flows, batching, idempotency keys) reach the `timber-ingest-server`
//! command and come back from `/api/records`. The client sends through a
//! small transport that POSTs the protocol's body (`{"logs":[...]}` of the
//! batch's wire records) over plain HTTP/1.1, the way the HTTPS transport
//! does over TLS; the transport crate is not a dependency of this one.

mod common;

use common::{eventually, get_json, request, start};
use timber_core::transport::{async_trait, Batch, Endpoint, RawRequest, Transport, TransportError};
use timber_core::{Client, Level};

struct PlainHttp(std::net::SocketAddr);

impl PlainHttp {
    fn post(
        &self,
        endpoint: &Endpoint,
        target: &str,
        content_type: &str,
        key: &str,
        body: &[u8],
    ) -> Result<String, TransportError> {
        let (status, answer) = request(
            self.0,
            "POST",
            target,
            &[
                ("Content-Type", content_type),
                ("X-API-Key", endpoint.api_key.expose()),
                ("Idempotency-Key", key),
            ],
            body,
        );
        match status {
            200..=299 => Ok(answer),
            _ => Err(TransportError::permanent(format!("{status}: {answer}"))),
        }
    }
}

#[async_trait]
impl Transport for PlainHttp {
    async fn send_batch(&self, endpoint: &Endpoint, batch: &Batch) -> Result<(), TransportError> {
        let body = serde_json::json!({"logs": batch.log_records()}).to_string();
        self.post(
            endpoint,
            "/v1/logs",
            "application/json",
            batch.idempotency_key(),
            body.as_bytes(),
        )
        .map(drop)
    }

    async fn create_flow(&self, endpoint: &Endpoint, name: &str) -> Result<String, TransportError> {
        let body = serde_json::json!({"name": name}).to_string();
        let answer = self.post(
            endpoint,
            "/v1/flows",
            "application/json",
            name,
            body.as_bytes(),
        )?;
        let answer: serde_json::Value =
            serde_json::from_str(&answer).map_err(|e| TransportError::permanent(e.to_string()))?;
        Ok(answer["flowId"].as_str().unwrap_or_default().to_owned())
    }

    async fn ingest_raw(
        &self,
        endpoint: &Endpoint,
        raw: RawRequest<'_>,
    ) -> Result<(), TransportError> {
        let target = format!("/v1/logs?format={}", raw.format.as_str());
        self.post(
            endpoint,
            &target,
            raw.format.content_type(),
            raw.idempotency_key,
            raw.body.as_bytes(),
        )
        .map(drop)
    }
}

#[test]
fn the_sdks_records_appear_in_the_api() {
    let server = start(&["--listen", "127.0.0.1:0"]);
    let client = Client::builder()
        .source("rust-app")
        .api_key(server.env_line("TIMBERLOGS_API_KEY").unwrap())
        .base_url(server.url.clone())
        .transport(PlainHttp(server.addr))
        .build()
        .unwrap();
    let flow = client.flow("checkout").unwrap();
    flow.info("cart loaded", serde_json::json!({"items": 3}), None)
        .info("paid", serde_json::json!({"amount": 42}), None);
    let err = "x".parse::<u32>().unwrap_err();
    client.error("bad input", &err, None);
    client.disconnect().unwrap();

    let mut answer = serde_json::Value::Null;
    eventually("three records", || {
        answer = get_json(server.addr, "/api/records?source=rust-app");
        answer["records"].as_array().is_some_and(|r| r.len() == 3)
    });
    let records = answer["records"].as_array().unwrap();
    assert_eq!(records[0]["message"], "bad input");
    assert_eq!(records[0]["errorName"], "ParseIntError");
    let steps = get_json(server.addr, &format!("/api/records?flow={}", flow.id()));
    let steps: Vec<_> = steps["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["stepIndex"].clone())
        .collect();
    assert_eq!(steps, [1, 0], "newest first");
    let stats = get_json(server.addr, "/api/stats");
    assert_eq!(stats["summary"]["byLevel"][Level::Info.as_str()], 2);
}
