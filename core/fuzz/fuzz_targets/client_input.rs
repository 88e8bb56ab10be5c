//! Arbitrary bytes as messages, data, tags, ids and raw bodies: the client
//! must answer with a clear error or queue a valid record, never panic, and
//! never send a record the service would reject.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use timber_core::record::validate;
use timber_core::{Client, Level, LogEntry, LogOptions, RawFormat};

#[path = "../../tests/double/mod.rs"]
mod double;
use double::MockTransport;

fn client() -> &'static (Client, MockTransport) {
    static CLIENT: OnceLock<(Client, MockTransport)> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let mock = MockTransport::new();
        let client = Client::builder()
            .source("fuzz")
            .api_key("tb_test_fuzz")
            .on_error(|_| {})
            .transport(mock.clone())
            .build()
            .expect("a valid configuration");
        (client, mock)
    })
}

fuzz_target!(|bytes: &[u8]| {
    let (client, mock) = client();
    let mut parts = bytes.split(|b| *b == 0xff).map(|p| String::from_utf8_lossy(p).into_owned());
    let message = parts.next().unwrap_or_default();
    let data: serde_json::Value = parts.next().and_then(|d| serde_json::from_str(&d).ok()).unwrap_or_default();
    let tags: Vec<String> = parts.next().unwrap_or_default().split(',').map(str::to_owned).collect();
    let id = parts.next();
    let level = Level::ALL[bytes.first().map_or(0, |b| *b as usize % 4)];

    let mut entry = LogEntry::new(level, message.clone()).tags(tags.clone());
    entry.data = data.as_object().cloned();
    entry.user_id = id.clone();
    entry.request_id = id.clone();
    let _ = client.try_log(entry);
    client.info(message.clone(), &data, LogOptions::tags(tags));
    client.error(message.clone(), data, None);
    if let Ok(flow) = client.flow(id.as_deref().unwrap_or("f")) {
        flow.warn(message.clone(), (), None);
    }
    let format = RawFormat::ALL[bytes.len() % RawFormat::ALL.len()];
    let _ = client.ingest_raw(&message, format, None);

    if mock.count() > 10_000 {
        mock.clear();
    }
    let _ = client.flush();
    for record in mock.records() {
        assert_eq!(validate(&record), Ok(()), "sent an invalid record");
    }
    mock.clear();
});
