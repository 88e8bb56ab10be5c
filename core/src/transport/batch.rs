//! [`Batch`]: the records a transport delivers together, with the client's
//! [`Resource`] and an idempotency key.

use std::sync::Arc;

use crate::record::environment::Environment;
use crate::record::log_record::LogRecord;
use crate::record::record::Record;

/// What every record of a client shares: where it comes from.
///
/// Transports write it once per request (the Timberlogs protocol on every
/// record, OTLP as the request's resource).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Resource {
    /// The emitting application.
    pub source: Arc<str>,
    /// The deployment environment.
    pub environment: Environment,
    /// The application's version.
    pub version: Option<Arc<str>>,
}

impl Resource {
    /// A resource.
    pub fn new(
        source: impl Into<Arc<str>>,
        environment: Environment,
        version: Option<Arc<str>>,
    ) -> Self {
        Resource {
            source: source.into(),
            environment,
            version,
        }
    }
}

/// Records to deliver together, in order, with their resource and an
/// idempotency key.
///
/// The key is the same on every attempt to send the batch, so a service
/// that honours it stores the batch once even when an answer was lost; the
/// halves of a batch the service refused get keys derived from it (the
/// same halves, the same keys, in every process).
///
/// ```
/// use timber_core::transport::{Batch, Resource};
/// use timber_core::{Environment, Level, Record};
///
/// let resource = Resource::new("api", Environment::Production, None);
/// let batch = Batch::new(resource, vec![Record::new(Level::Warn, "disk"), Record::new(Level::Info, "ok")]);
/// assert_eq!(batch.len(), 2);
/// assert_eq!(batch.records()[1].message(), "ok");
/// assert_eq!(batch.idempotency_key().len(), 32);
/// assert_eq!(batch.log_records()[0].source.as_deref(), Some("api"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    records: Vec<Record>,
    resource: Arc<Resource>,
    idempotency_key: String,
}

impl Batch {
    /// A batch of these records, with a fresh random idempotency key.
    pub fn new(resource: impl Into<Arc<Resource>>, records: Vec<Record>) -> Self {
        Self::with_key(resource.into(), records, new_key())
    }

    /// A batch with a key of its own (a spooled batch keeps the one it had).
    pub(crate) fn with_key(
        resource: Arc<Resource>,
        records: Vec<Record>,
        idempotency_key: String,
    ) -> Self {
        Batch {
            records,
            resource,
            idempotency_key,
        }
    }

    /// The records, in the order they were logged.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// What the records share.
    pub fn resource(&self) -> &Resource {
        &self.resource
    }

    /// The key, the same on every attempt to send this batch.
    pub fn idempotency_key(&self) -> &str {
        &self.idempotency_key
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the batch has no record.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The records in the protocol's wire form, each with the resource's
    /// fields (for a transport or a test that wants owned values).
    pub fn log_records(&self) -> Vec<LogRecord> {
        self.records
            .iter()
            .map(|record| LogRecord {
                source: Some(self.resource.source.clone()),
                environment: Some(self.resource.environment),
                version: self.resource.version.clone(),
                ..record.to_log_record()
            })
            .collect()
    }

    /// The records, to own.
    pub(crate) fn into_records(self) -> Vec<Record> {
        self.records
    }

    /// Cuts the batch in two halves, at least two records. Each half's key
    /// is derived from this batch's key: cutting the same batch again (a
    /// spooled batch read back at the next start) gives the same halves the
    /// same keys, so a server that stored a half once ignores it the second
    /// time.
    pub(crate) fn split(mut self) -> (Batch, Batch) {
        let back = self.records.split_off(self.records.len() / 2);
        let front = std::mem::take(&mut self.records);
        let half = |records, tag| Batch {
            records,
            resource: self.resource.clone(),
            idempotency_key: derived_key(&self.idempotency_key, tag),
        };
        (half(front, "a"), half(back, "b"))
    }
}

/// A fresh idempotency key: 32 random letters and digits.
pub(crate) fn new_key() -> String {
    (0..32).map(|_| fastrand::alphanumeric()).collect()
}

/// A key of the same form, the same for the same `parent` and `tag` in
/// every process and version (FNV-1a seeding a fixed generator).
fn derived_key(parent: &str, tag: &str) -> String {
    let seed = parent
        .bytes()
        .chain([b'/'])
        .chain(tag.bytes())
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..32).map(|_| rng.alphanumeric()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::level::Level;

    fn batch(n: usize) -> Batch {
        let records = (0..n)
            .map(|i| Record::new(Level::Info, format!("m{i}")))
            .collect();
        Batch::new(Resource::new("s", Environment::Staging, None), records)
    }

    fn messages(batch: &Batch) -> Vec<String> {
        batch
            .records()
            .iter()
            .map(|r| r.message().to_owned())
            .collect()
    }

    #[test]
    fn halves_keep_every_record_once_in_order_with_derived_keys() {
        for n in 2..9 {
            let whole = batch(n);
            let key = whole.idempotency_key().to_owned();
            let (again, _) = whole.clone().split();
            let expected = messages(&whole);
            let (a, b) = whole.split();
            assert_eq!(a.len(), n / 2);
            assert_ne!(a.idempotency_key(), key);
            assert_ne!(b.idempotency_key(), key);
            assert_ne!(a.idempotency_key(), b.idempotency_key());
            assert_eq!(
                a.idempotency_key(),
                again.idempotency_key(),
                "the same cut, the same key"
            );
            assert_eq!(a.idempotency_key().len(), 32);
            assert_eq!([messages(&a), messages(&b)].concat(), expected);
            assert_eq!(a.resource(), b.resource());
        }
    }

    #[test]
    fn wire_records_carry_the_resource() {
        let records = batch(2).log_records();
        assert_eq!(records[1].message, "m1");
        assert_eq!(records[1].source.as_deref(), Some("s"));
        assert_eq!(records[1].environment, Some(Environment::Staging));
        assert_eq!(records[1].version, None);
    }
}
