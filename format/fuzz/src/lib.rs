//! The check every fuzz target runs on its format.

use timber_format::{parse, serialize, Format};

/// Parsing any bytes must not panic; whatever parses must be written back
/// into a body that parses again to as many records.
pub fn check(data: &[u8], format: Format) {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(records) = parse(input, format) {
        let body = serialize(&records, format);
        match parse(&body, format) {
            Ok(again) => assert_eq!(again.len(), records.len(), "{format}: {body:?}"),
            Err(e) => panic!("{format}: re-reading what was written failed: {e}\n{body:?}"),
        }
    }
}
