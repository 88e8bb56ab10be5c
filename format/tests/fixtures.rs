//! Real-world samples of each format (tests/fixtures) read as expected.

use serde_json::json;
use timber_core::{Environment, Level};
use timber_format::{parse, serialize, syslog, Format, Record};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Everything read can be written and read again to the same records
/// (formats that carry everything) or at least re-read.
fn rereads(records: &[Record], format: Format) {
    let again = parse(&serialize(records, format), format).unwrap();
    assert_eq!(again.len(), records.len());
}

#[test]
fn syslog_as_rsyslog_and_journald_forward_it() {
    // 2024-01-20: BSD stamps (no year) resolve to January 2024.
    let records = syslog::parse_at(&fixture("rsyslog.log"), 1_705_708_800_000).unwrap();
    assert_eq!(records.len(), 10);

    let r = &records[0];
    assert_eq!((r.level, r.source.as_deref()), (Level::Info, Some("api")));
    assert_eq!(r.timestamp, Some(1_705_314_600_000));
    assert_eq!(
        r.data.as_ref().unwrap(),
        json!({"hostname": "myhost", "procid": "1234", "facility": "local4", "severity": "notice"})
            .as_object()
            .unwrap()
    );

    // rsyslog's own origin element, an offset and microseconds.
    let r = &records[1];
    assert_eq!(r.timestamp, Some(1_705_311_001_123));
    assert_eq!(r.message, "GET /health 200");
    let data = r.data.as_ref().unwrap();
    assert_eq!(data["origin"]["swVersion"], "8.2312.0");
    assert_eq!(data["msgid"], "ACCESS");
    assert_eq!(data["facility"], "daemon");

    // Two SD elements, a BOM before the message, severity err.
    let r = &records[2];
    assert_eq!(r.level, Level::Error);
    assert_eq!(
        r.message,
        "FATAL:  terminating connection due to administrator command"
    );
    assert_eq!(
        r.data.as_ref().unwrap()["exampleSDID@32473"]["eventID"],
        "1011"
    );
    assert_eq!(
        r.data.as_ref().unwrap()["examplePriority@32473"]["class"],
        "high"
    );

    // RFC 3164 from sshd: facility authpriv, severity info.
    let r = &records[3];
    assert_eq!((r.level, r.source.as_deref()), (Level::Info, Some("sshd")));
    assert_eq!(
        r.message,
        "Accepted publickey for alice from 10.0.0.7 port 51234 ssh2"
    );
    assert_eq!(r.data.as_ref().unwrap()["procid"], "2291");
    assert_eq!(r.data.as_ref().unwrap()["hostname"], "bastion");
    assert_eq!(r.data.as_ref().unwrap()["facility"], "authpriv");
    assert_eq!(r.timestamp, Some(1_705_314_603_000));

    // A space-padded day.
    assert_eq!(records[4].timestamp, Some(1_704_450_604_000));
    assert_eq!(records[4].source.as_deref(), Some("CRON"));

    // kernel: severity info, facility kern.
    assert_eq!(
        records[5].message,
        "[    0.000000] Linux version 6.1.0-17-amd64"
    );
    assert_eq!(records[5].data.as_ref().unwrap()["facility"], "kern");

    // journald's ForwardToSyslog: no hostname.
    let r = &records[6];
    assert_eq!(r.source.as_deref(), Some("systemd"));
    assert_eq!(r.message, "Started Session 42 of User alice.");
    assert!(r.data.as_ref().unwrap().get("hostname").is_none());

    // rsyslog's RFC 3339 forward format, warning.
    let r = &records[7];
    assert_eq!(
        (r.level, r.source.as_deref()),
        (Level::Warn, Some("dockerd"))
    );
    assert_eq!(r.timestamp, Some(1_705_314_607_412));

    // All NILVALUEs.
    let r = &records[8];
    assert_eq!((r.timestamp, r.source.as_deref()), (None, None));
    assert_eq!(r.message, "message with every header field nil");

    // Our own element.
    let r = &records[9];
    assert_eq!(r.level, Level::Debug);
    assert_eq!(r.user_id.as_deref(), Some("u-1"));
    assert_eq!(r.tags, ["auth", "login"]);
    assert_eq!(r.step_index, Some(2));
    assert_eq!(r.data.as_ref().unwrap()["attempt"], 3);
    assert_eq!(r.data.as_ref().unwrap()["facility"], "local7");

    // Writing gives valid RFC 5424 that reads back to the same records.
    let body = serialize(&records, Format::Syslog);
    assert!(
        body.lines()
            .all(|l| l.starts_with('<') && l.contains(">1 ")),
        "{body}"
    );
    assert_eq!(syslog::parse_at(&body, 0).unwrap(), records);
}

#[test]
fn csv_exported_by_a_spreadsheet() {
    let records = parse(&fixture("spreadsheet.csv"), Format::Csv).unwrap();
    assert_eq!(records.len(), 4);
    let r = &records[0];
    assert_eq!(r.level, Level::Error);
    assert_eq!(r.timestamp, Some(1_705_314_600_000));
    assert_eq!(r.user_id.as_deref(), Some("u-17"));
    assert_eq!(r.tags, ["db", "network"]);
    assert_eq!(
        r.data.as_ref().unwrap(),
        json!({"Host": "db-1"}).as_object().unwrap()
    );
    let r = &records[1];
    assert_eq!(
        (r.level, r.message.as_str()),
        (Level::Warn, "Disk at 91%, cleanup scheduled")
    );
    assert_eq!(r.user_id, None);
    assert_eq!(r.data.as_ref().unwrap()["Notes"], "said \"soon\"");
    assert_eq!(records[2].message, "Multi-line\nmessage from a cell");
    assert_eq!(
        (records[3].level, records[3].timestamp),
        (Level::Debug, None)
    );
    rereads(&records, Format::Csv);
    assert_eq!(
        parse(&serialize(&records, Format::Csv), Format::Csv).unwrap(),
        records
    );

    let records = parse(&fixture("excel-semicolon.csv"), Format::Csv).unwrap();
    assert_eq!(
        records[0].message,
        "Zahlung fehlgeschlagen; Karte abgelehnt"
    );
    assert_eq!(records[0].step_index, Some(3));
}

#[test]
fn jsonl_stream_from_several_producers() {
    let records = parse(&fixture("stream.jsonl"), Format::Jsonl).unwrap();
    assert_eq!(records.len(), 4);
    assert_eq!(records[0].data.as_ref().unwrap()["port"], 8080);
    // pino
    let r = &records[1];
    assert_eq!(
        (r.level, r.message.as_str()),
        (Level::Info, "request completed")
    );
    assert_eq!(r.timestamp, Some(1_705_314_601_000));
    assert_eq!(r.data.as_ref().unwrap()["hostname"], "web-01");
    let r = &records[2];
    assert_eq!(
        (r.level, r.timestamp),
        (Level::Warn, Some(1_705_314_602_500))
    );
    assert_eq!(r.tags, ["db", "slow"]);
    assert_eq!(records[3].step_index, Some(2));
    assert_eq!(
        parse(&serialize(&records, Format::Jsonl), Format::Jsonl).unwrap(),
        records
    );
}

#[test]
fn json_logs_body() {
    let records = parse(&fixture("export.json"), Format::Json).unwrap();
    assert_eq!(records[0].environment, Some(Environment::Production));
    assert_eq!(records[1].country.as_deref(), Some("DE"));
    assert_eq!(
        parse(&serialize(&records, Format::Json), Format::Json).unwrap(),
        records
    );
}

#[test]
fn text_application_log() {
    let records = parse(&fixture("app.log"), Format::Text).unwrap();
    let got: Vec<(Level, Option<i64>, &str)> = records
        .iter()
        .map(|r| (r.level, r.timestamp, r.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (Level::Error, Some(1_705_314_600_000), "Connection refused"),
            (
                Level::Warn,
                Some(1_705_314_601_234),
                "Retrying in 5 seconds"
            ),
            (
                Level::Info,
                Some(1_705_314_602_500),
                "request completed in 12 ms"
            ),
            (Level::Debug, Some(1_705_314_603_000), "cache warmed"),
            (Level::Debug, None, "loading plugin auth"),
            (Level::Info, None, "Traceback (most recent call last):"),
            (Level::Info, None, "Error reading configuration file"),
        ]
    );
    assert_eq!(
        parse(&serialize(&records, Format::Text), Format::Text).unwrap(),
        records
    );
}

#[test]
fn obl_with_several_sessions_and_event_types() {
    let records = parse(&fixture("sessions.obl"), Format::Obl).unwrap();
    assert_eq!(records.len(), 6);
    assert!(records
        .iter()
        .all(|r| r.user_id.as_deref() == Some("u-ally")));
    assert!(records
        .iter()
        .all(|r| r.source.as_deref() == Some("AAC Speak")));
    let r = &records[1];
    assert_eq!(
        (r.message.as_str(), r.session_id.as_deref()),
        ("juice", Some("sess-1"))
    );
    assert_eq!(r.request_id.as_deref(), Some("2"));
    assert_eq!(r.timestamp, Some(1_705_309_202_000));
    let data = r.data.as_ref().unwrap();
    assert_eq!(
        (data["type"].as_str(), data["vocalization"].as_str()),
        (Some("button"), Some("apple juice"))
    );
    assert_eq!(records[2].message, "want apple juice");
    assert_eq!(
        records[2].data.as_ref().unwrap()["buttons"][1]["label"],
        "juice"
    );
    assert_eq!(records[3].message, ":clear");
    let note = &records[4];
    assert_eq!(
        (note.message.as_str(), note.session_id.as_deref()),
        ("Therapy session: focused on requesting", Some("sess-2"))
    );
    assert_eq!(
        note.data.as_ref().unwrap(),
        json!({"author": "SLP"}).as_object().unwrap()
    );
    assert_eq!(records[5].message, "assessment");
    assert_eq!(records[5].data.as_ref().unwrap()["totals"]["correct"], 8);
    let body = serialize(&records, Format::Obl);
    assert_eq!(parse(&body, Format::Obl).unwrap(), records);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["sessions"][0]["started"], "2024-01-15T09:00:00.000Z");
    assert_eq!(doc["sessions"][1]["ended"], "2024-01-16T14:10:00.000Z");
    assert_eq!(doc["user_id"], "u-ally");
}

#[test]
fn error_positions() {
    let e = parse(
        "{\"level\":\"info\",\"message\":\"a\"}\n\n{\"level\":\"info\",\"message\":}\n",
        Format::Jsonl,
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (3, 27), "{e}");
    let e = parse("<14>1 2024-13-01T00:00:00Z h a - - - x", Format::Syslog).unwrap_err();
    assert_eq!((e.line, e.column), (1, 7), "{e}");
    let e = parse("<14>1 - h a - - [x@1 a=\"b] m", Format::Syslog).unwrap_err();
    assert_eq!(e.line, 1);
    assert!(e.message.contains("unterminated"), "{e}");
    let e = parse("<999>1 - - - - - - m", Format::Syslog).unwrap_err();
    assert_eq!((e.line, e.column), (1, 2), "{e}");
    let e = parse(
        r#"{"format":"open-board-log-0.1","sessions":[{"events":[
        {"type":"note","text":"ok"},
        {"type":"note","text":"bad","timestamp":"yesterday"}]}]}"#,
        Format::Obl,
    )
    .unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert!(e.message.contains("invalid event timestamp"), "{e}");
    let e = parse(r#"{"sessions":[]}"#, Format::Obl).unwrap_err();
    assert!(e.message.contains("format"), "{e}");
}
