//! The filters of `/api/records` (and of the page): level, source, tag,
//! flow, free text and a limit, read from a query string. A bad value is a
//! reason for a 400, never a panic.

use timber_core::{Level, LogRecord};

use crate::http::query_pairs;

/// How many records an answer holds when `limit` is not given.
pub(crate) const DEFAULT_LIMIT: usize = 500;
/// The largest `limit` accepted.
pub(crate) const MAX_LIMIT: usize = 100_000;

/// Which records to give back.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Filter {
    levels: Vec<Level>,
    source: Option<String>,
    tag: Option<String>,
    flow: Option<String>,
    /// Lowercase.
    text: Option<String>,
    pub(crate) limit: usize,
}

impl Filter {
    /// Reads `level` (one or a comma-separated list), `source`, `tag`,
    /// `flow`, `q` and `limit`; an unknown name or a bad value is the
    /// reason of a 400. Empty values mean "any".
    pub(crate) fn parse(query: &str) -> Result<Filter, String> {
        let mut filter = Filter {
            limit: DEFAULT_LIMIT,
            ..Filter::default()
        };
        let some = |v: String| (!v.is_empty()).then_some(v);
        for (name, value) in query_pairs(query) {
            match name.as_str() {
                "level" => {
                    for name in value.split(',').filter(|s| !s.is_empty()) {
                        let level = name.parse().map_err(|_| {
                            format!("level must be debug, info, warn or error, got {name:?}")
                        })?;
                        filter.levels.push(level);
                    }
                }
                "source" => filter.source = some(value),
                "tag" => filter.tag = some(value),
                "flow" => filter.flow = some(value),
                "q" => filter.text = some(value.to_lowercase()),
                "limit" => {
                    filter.limit = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| {
                            format!("limit must be a number from 1 to {MAX_LIMIT}, got {value:?}")
                        })?;
                }
                _ => {
                    return Err(format!(
                        "unknown parameter {name:?} (known: level, source, tag, flow, q, limit)"
                    ))
                }
            }
        }
        Ok(filter)
    }

    /// Whether `record` passes every filter given.
    pub(crate) fn matches(&self, record: &LogRecord) -> bool {
        (self.levels.is_empty() || self.levels.contains(&record.level))
            && self
                .source
                .as_deref()
                .is_none_or(|s| record.source.as_deref() == Some(s))
            && self
                .tag
                .as_deref()
                .is_none_or(|t| record.tags.iter().any(|tag| tag == t))
            && self
                .flow
                .as_deref()
                .is_none_or(|f| record.flow_id.as_deref() == Some(f))
            && self
                .text
                .as_deref()
                .is_none_or(|q| contains_text(record, q))
    }
}

/// Free text: the message, the error's name and stack and the data, as
/// the page searches them, case-insensitively.
fn contains_text(record: &LogRecord, lowercase: &str) -> bool {
    let has = |s: &str| s.to_lowercase().contains(lowercase);
    has(&record.message)
        || record.error_name.as_deref().is_some_and(has)
        || record.error_stack.as_deref().is_some_and(has)
        || record
            .data
            .as_ref()
            .is_some_and(|d| has(&serde_json::Value::Object(d.clone()).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_filter_and_refuses_bad_values() {
        let f = Filter::parse("level=warn,error&flow=cart-1&q=Disk&limit=5&source=").unwrap();
        assert_eq!(f.levels, [Level::Warn, Level::Error]);
        assert_eq!(
            (f.flow.as_deref(), f.text.as_deref()),
            (Some("cart-1"), Some("disk"))
        );
        assert_eq!((f.source, f.limit), (None, 5));
        assert!(Filter::parse("level=loud")
            .unwrap_err()
            .contains("level must be"));
        assert!(Filter::parse("limit=0")
            .unwrap_err()
            .contains("limit must be"));
        assert!(Filter::parse("limit=x").is_err());
        assert!(Filter::parse("colour=red")
            .unwrap_err()
            .contains("unknown parameter"));
    }

    #[test]
    fn matches_what_it_says() {
        let mut r = LogRecord::new(Level::Error, "Disk full");
        r.tags = vec!["io".into()];
        r.flow_id = Some("f-1".into());
        assert!(Filter::parse("level=error&tag=io&flow=f-1&q=disk")
            .unwrap()
            .matches(&r));
        assert!(!Filter::parse("level=info").unwrap().matches(&r));
        assert!(!Filter::parse("tag=net").unwrap().matches(&r));
        assert!(!Filter::parse("q=memory").unwrap().matches(&r));
    }
}
