//! The official Python SDK (`timberlogs-client`, from PyPI) against the
//! command: its logs, an exception, a local flow and a raw CSV body, sent by
//! the package's own code, come back from `/api/records` and `/api/raw`.
//!
//! The interpreter is `TIMBER_PYTHON` (or `python3`); without the package
//! the test says so and passes, unless `TIMBER_REQUIRE_PYTHON_SDK=1` (which
//! `.ci/run` sets after installing it in a virtual environment).

mod common;

use std::process::Command;

use common::{eventually, get_json, start};
use serde_json::Value;

const KEY: &str = "tb_test_python_sdk_key_0123456789";

/// The program: the package's endpoints pointed at the command (they are
/// module constants, read at each request), then what a Python service logs.
const PROGRAM: &str = r#"
import sys
import timberlogs.client as tc
from timberlogs import TimberlogsClient, TimberlogsConfig
from timberlogs.types import IngestRawOptions, LogOptions

url = sys.argv[1]
tc.LOGS_ENDPOINT = url + "/v1/logs"
tc.FLOWS_ENDPOINT = url + "/v1/flows"
client = TimberlogsClient(TimberlogsConfig(
    source="py-service", environment="staging", api_key=sys.argv[2],
    version="3.1.0", user_id="user-7", flush_interval=0,
))
client.info("user signed in", {"method": "oauth", "attempt": 2}, LogOptions(tags=["auth"]))
try:
    raise ValueError("card declined")
except ValueError as e:
    client.error("payment failed", e)
flow = client.flow("checkout")
flow.info("cart loaded").warn("stock low").info("paid")
client.flush()
client.ingest_raw("level,message\nwarn,disk at 91%\ninfo,rotated\n", "csv",
                  IngestRawOptions(source="py-cron"))
print(flow.id)
"#;

fn python() -> String {
    std::env::var("TIMBER_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn has_the_package() -> bool {
    Command::new(python())
        .args(["-c", "import timberlogs"])
        .output()
        .is_ok_and(|out| out.status.success())
}

fn records(addr: std::net::SocketAddr, query: &str) -> Vec<Value> {
    get_json(addr, &format!("/api/records?{query}"))["records"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn what_the_official_python_sdk_sends_is_stored_and_shown() {
    if !has_the_package() {
        assert!(
            std::env::var("TIMBER_REQUIRE_PYTHON_SDK").as_deref() != Ok("1"),
            "TIMBER_REQUIRE_PYTHON_SDK=1 but {} cannot import timberlogs",
            python()
        );
        eprintln!(
            "skipped: no timberlogs-client for {} (pip install timberlogs-client)",
            python()
        );
        return;
    }
    let server = start(&["--listen", "127.0.0.1:0", "--api-key", KEY]);
    let out = Command::new(python())
        .args(["-c", PROGRAM, &server.url, KEY])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the Python program failed:\n{stderr}");
    assert!(!stderr.contains(KEY));
    let flow_id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(flow_id.starts_with("checkout-"), "{flow_id}");

    eventually("the Python SDK's records", || {
        records(server.addr, "").len() >= 5
    });
    let signed_in = records(server.addr, "q=signed");
    assert_eq!(signed_in.len(), 1, "{signed_in:?}");
    let r = &signed_in[0];
    assert_eq!(
        (
            &r["level"],
            &r["source"],
            &r["environment"],
            &r["version"],
            &r["userId"]
        ),
        (
            &"info".into(),
            &"py-service".into(),
            &"staging".into(),
            &"3.1.0".into(),
            &"user-7".into()
        )
    );
    assert_eq!(
        r["data"],
        serde_json::json!({"method": "oauth", "attempt": 2})
    );
    assert_eq!(r["tags"], serde_json::json!(["auth"]));

    let failed = &records(server.addr, "level=error")[0];
    assert_eq!(failed["errorName"], "ValueError");
    let stack = failed["errorStack"].as_str().unwrap();
    assert!(
        stack.starts_with("Traceback (most recent call last)"),
        "{stack}"
    );
    assert_eq!(failed["data"]["message"], "card declined");

    let mut steps: Vec<(u64, String)> = records(server.addr, &format!("flow={flow_id}"))
        .iter()
        .map(|r| {
            (
                r["stepIndex"].as_u64().unwrap(),
                r["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    steps.sort();
    assert_eq!(
        steps,
        [
            (0, "cart loaded".into()),
            (1, "stock low".into()),
            (2, "paid".into())
        ]
    );

    eventually("the raw CSV body", || {
        get_json(server.addr, "/api/raw")["raw"]
            .as_array()
            .is_some_and(|raw| !raw.is_empty())
    });
    let raw = get_json(server.addr, "/api/raw");
    let text = raw.to_string();
    assert!(
        text.contains("disk at 91%") && text.contains("py-cron"),
        "{text}"
    );
    assert!(!text.contains(KEY));
}
