//! The common shape of a record's data, read without building values: a
//! JSON object whose members are strings without escapes, integers of up
//! to 18 digits, booleans or `null` (what a struct of plain fields renders
//! as). The encoder writes its members as it reads them; any other text
//! goes through [`Json`](crate::map::json::Json), which reads it to the
//! same values.

/// A member's value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Flat<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Str(&'a str),
}

/// Hands each member of `text` to `keep`, in order, while it takes them:
/// `true` if `text` is one flat JSON object and nothing more and `keep`
/// took every member (a caller that wrote members as they came undoes
/// that on `false`).
pub(crate) fn each_member<'a>(
    text: &'a str,
    mut keep: impl FnMut(&'a str, Flat<'a>) -> bool,
) -> bool {
    let Some(mut members) = Members::of(text) else {
        return false;
    };
    loop {
        match members.member() {
            Ok(Some((key, value))) if keep(key, value) => {}
            Ok(Some(_)) | Err(NotFlat) => return false,
            Ok(None) => return members.rest.is_empty(),
        }
    }
}

/// A walk over an object's members; `Err` where the text is not flat.
struct Members<'a> {
    /// What follows the last member read (`}` and nothing more at the end).
    rest: &'a str,
    first: bool,
}

struct NotFlat;

impl<'a> Members<'a> {
    fn of(text: &'a str) -> Option<Self> {
        Some(Members {
            rest: text.strip_prefix('{')?,
            first: true,
        })
    }

    #[inline]
    fn member(&mut self) -> Result<Option<(&'a str, Flat<'a>)>, NotFlat> {
        if let Some(rest) = self.rest.strip_prefix('}') {
            self.rest = rest;
            return Ok(None);
        }
        if !std::mem::take(&mut self.first) {
            self.rest = self.rest.strip_prefix(',').ok_or(NotFlat)?;
        }
        let key = self.string()?;
        self.rest = self.rest.strip_prefix(':').ok_or(NotFlat)?;
        let value = match self.rest.as_bytes().first() {
            Some(b'"') => Flat::Str(self.string()?),
            Some(b'-' | b'0'..=b'9') => Flat::Int(self.integer()?),
            _ => self.literal()?,
        };
        Ok(Some((key, value)))
    }

    /// A string without escapes or control characters.
    #[inline]
    fn string(&mut self) -> Result<&'a str, NotFlat> {
        let body = self.rest.strip_prefix('"').ok_or(NotFlat)?;
        let end = body
            .bytes()
            .position(|b| b == b'"' || b == b'\\' || b < 0x20)
            .ok_or(NotFlat)?;
        if body.as_bytes()[end] != b'"' {
            return Err(NotFlat);
        }
        self.rest = &body[end + 1..];
        Ok(&body[..end])
    }

    /// An integer as JSON writes one (no leading zero), that fits an `i64`
    /// whatever its digits (at most 18); not `-0` (a double to serde_json).
    fn integer(&mut self) -> Result<i64, NotFlat> {
        let negative = self.rest.starts_with('-');
        let digits = &self.rest[usize::from(negative)..];
        let n = digits.bytes().take_while(u8::is_ascii_digit).count();
        let leading_zero = n > 1 && digits.starts_with('0');
        if n == 0 || n > 18 || leading_zero {
            return Err(NotFlat);
        }
        let end = usize::from(negative) + n;
        // A fraction or an exponent: a double, for `Json` to read.
        if !matches!(self.rest.as_bytes().get(end), Some(b',' | b'}')) {
            return Err(NotFlat);
        }
        // At most 18 digits: no overflow.
        let magnitude = digits
            .bytes()
            .take(n)
            .fold(0i64, |v, d| v * 10 + i64::from(d - b'0'));
        if negative && magnitude == 0 {
            return Err(NotFlat);
        }
        let value = if negative { -magnitude } else { magnitude };
        self.rest = &self.rest[end..];
        Ok(value)
    }

    fn literal(&mut self) -> Result<Flat<'a>, NotFlat> {
        for (text, value) in [
            ("true", Flat::Bool(true)),
            ("false", Flat::Bool(false)),
            ("null", Flat::Null),
        ] {
            if let Some(rest) = self.rest.strip_prefix(text) {
                self.rest = rest;
                return Ok(value);
            }
        }
        Err(NotFlat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(text: &str) -> Option<Vec<(&str, Flat<'_>)>> {
        let mut members = Vec::new();
        each_member(text, |key, value| {
            members.push((key, value));
            true
        })
        .then_some(members)
    }

    #[test]
    fn plain_members_are_read_from_the_text() {
        assert_eq!(
            members(
                r#"{"route":"/api/é","status":200,"ms":-7,"ok":true,"no":false,"z":null,"":""}"#
            ),
            Some(vec![
                ("route", Flat::Str("/api/é")),
                ("status", Flat::Int(200)),
                ("ms", Flat::Int(-7)),
                ("ok", Flat::Bool(true)),
                ("no", Flat::Bool(false)),
                ("z", Flat::Null),
                ("", Flat::Str("")),
            ])
        );
        assert_eq!(members("{}"), Some(vec![]));
        let no_ints = |_: &str, v: Flat<'_>| !matches!(v, Flat::Int(_));
        assert!(
            !each_member(r#"{"a":"x","b":1}"#, no_ints),
            "refused by keep"
        );
        assert_eq!(
            members(r#"{"n":0,"m":999999999999999999}"#),
            Some(vec![
                ("n", Flat::Int(0)),
                ("m", Flat::Int(999_999_999_999_999_999))
            ])
        );
    }

    #[test]
    fn anything_else_is_left_to_the_full_reader() {
        for text in [
            "",
            "{",
            "[]",
            "{}x",
            r#"{"a":1"#,
            r#"{"a":1,}"#,
            r#"{"a" :1}"#,
            r#"{ "a":1}"#,
            r#"{"a":"x\"y"}"#,
            r#"{"a\n":1}"#,
            "{\"a\":\"\u{1}\"}",
            r#"{"a":1.5}"#,
            r#"{"a":1e3}"#,
            r#"{"a":-}"#,
            r#"{"a":01}"#,
            r#"{"a":-0}"#,
            r#"{"a":1234567890123456789}"#,
            r#"{"a":{}}"#,
            r#"{"a":[1]}"#,
            r#"{"a":tru}"#,
            r#"{"a":1}}"#,
        ] {
            assert!(!each_member(text, |_, _| true), "{text}");
        }
    }
}
