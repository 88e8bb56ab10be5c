//! Reading an accepted OTLP request (feature `otlp`): its records in order
//! and the level each severity number falls in. The store counts with them
//! and the OTLP endpoint looks through them, so they are kept apart from
//! both: the endpoint stores into the store, never the other way round.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use timber_core::Level;

/// The level a severity number falls in (trace counts as debug, fatal as error).
pub(crate) fn level_of(severity_number: i32) -> Level {
    match severity_number {
        ..=8 => Level::Debug,
        9..=12 => Level::Info,
        13..=16 => Level::Warn,
        _ => Level::Error,
    }
}

/// Every record of a request, in order.
pub(crate) fn records(request: &ExportLogsServiceRequest) -> impl Iterator<Item = &LogRecord> {
    request
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
}
