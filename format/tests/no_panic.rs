//! Parsers never panic, whatever the input; and whatever they accept, the
//! writers turn into a body the parsers accept again.

mod common;

use proptest::prelude::*;
use timber_format::{parse, serialize, Format};

/// Strings built from each format's syntax, to reach past the first check.
fn syntax_soup() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "<",
        ">",
        "<13>",
        "<165>1 ",
        "1 ",
        "-",
        " ",
        "  ",
        "[",
        "]",
        "=",
        "\"",
        "\\",
        "\n",
        "\r\n",
        "2024-01-15T10:30:00.000Z",
        "2024-02-29 23:59:60",
        "Jan 15 10:30:00",
        "Feb 29 ",
        "+99:99",
        "host",
        "tag[1]: ",
        "timber@32473",
        " data=\"{}\"",
        "stepIndex=\"9999999999\"",
        "{",
        "}",
        ":",
        ",",
        ";",
        "level",
        "message",
        "ERROR",
        "[warn]",
        "\"logs\":",
        "{\"level\":\"info\",\"message\":\"m\"}",
        "format",
        "\"open-board-log-0.1\"",
        "\"sessions\":[{\"events\":[",
        "\"type\":\"button\"",
        "null",
        "1e999",
        "-0",
        "\u{feff}",
        "é",
        "\0",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|p| p.concat())
}

fn check(input: &str) -> Result<(), TestCaseError> {
    for format in Format::ALL {
        if let Ok(records) = parse(input, format) {
            let body = serialize(&records, format);
            if let Err(e) = parse(&body, format) {
                return Err(TestCaseError::fail(format!(
                    "{format}: re-reading what was written failed: {e}\ninput: {input:?}\nbody: {body:?}"
                )));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings(input in any::<String>()) { check(&input)?; }

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        check(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn syntax(input in syntax_soup()) { check(&input)?; }

    #[test]
    fn serialized_then_mangled(records in common::records(), cut in any::<prop::sample::Index>(), junk in common::text()) {
        for format in Format::ALL {
            let body = serialize(&records, format);
            let mut at = cut.index(body.len() + 1);
            while !body.is_char_boundary(at) { at -= 1; }
            let mangled = format!("{}{}{}", &body[..at], junk, &body[at..]);
            check(&mangled)?;
            check(&body[..at])?;
        }
    }
}
