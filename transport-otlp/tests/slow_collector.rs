//! A collector that takes about 10,000 records a second (each request of
//! 1,000 answered after 100 ms), at every default of the client: a burst
//! twice the queue loses nothing, over OTLP/JSON and protobuf.

mod common;

use std::time::Duration;

use common::*;
use timber_core::Client;
use timber_ingest_server::Misbehave;
use timber_transport_otlp::Encoding;

#[test]
fn a_burst_into_a_slow_collector_loses_nothing_at_the_defaults() {
    for encoding in [Encoding::Json, Encoding::Protobuf] {
        let server = http_receiver();
        server.misbehave(Misbehave::delay(Duration::from_millis(100)).times(u32::MAX));
        let client = Client::builder()
            .source("slow-collector")
            .api_key(KEY)
            .base_url(server.url())
            .transport(builder_for(&server).encoding(encoding).build().unwrap())
            .build()
            .unwrap();
        for i in 0..20_000 {
            client.info(format!("burst {i}"), (), None);
        }
        client.flush().unwrap();
        let stats = client.stats();
        assert_eq!(
            (stats.sent, stats.dropped),
            (20_000, 0),
            "{encoding:?}: {stats:?}"
        );
        assert_eq!(otlp_records(&server).len(), 20_000);
    }
}
