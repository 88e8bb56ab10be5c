//! A Rust tokenizer good enough for `arch`: comments (doc comments
//! included) are dropped, string, character and number literals become one
//! token each, so nothing inside them reads as code. Lifetimes are dropped.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An identifier or keyword; `$crate` is one; a raw identifier keeps
    /// its `r#`, so `r#mod` is no keyword.
    Ident,
    /// A string literal of any kind; the text is its contents, unescaped
    /// not.
    Str,
    /// A number, character or byte literal.
    Lit,
    /// `::`.
    PathSep,
    /// Any other single character.
    Punct,
}

/// One token and the line it starts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    /// What it is.
    pub kind: Kind,
    /// Its text (see [`Kind`]).
    pub text: &'a str,
    /// 1-based.
    pub line: u32,
}

impl Token<'_> {
    /// Whether this is the identifier or keyword `word`.
    pub fn is(&self, word: &str) -> bool {
        self.kind == Kind::Ident && self.text == word
    }

    /// Whether this is the punctuation `c`.
    pub fn is_punct(&self, c: char) -> bool {
        self.kind == Kind::Punct && self.text.len() == c.len_utf8() && self.text.starts_with(c)
    }
}

fn ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    i: usize,
    line: u32,
    out: Vec<Token<'a>>,
}

/// The tokens of `src`.
pub fn lex(src: &str) -> Vec<Token<'_>> {
    let mut l = Lexer {
        src,
        b: src.as_bytes(),
        i: 0,
        line: 1,
        out: Vec::with_capacity(src.len() / 4),
    };
    while l.i < l.b.len() {
        l.next();
    }
    l.out
}

impl<'a> Lexer<'a> {
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    fn push(&mut self, kind: Kind, start: usize, end: usize, line: u32) {
        self.out.push(Token {
            kind,
            text: &self.src[start..end],
            line,
        });
    }

    /// Advances to `end`, counting the newlines passed.
    fn skip_to(&mut self, end: usize) {
        let end = end.min(self.b.len());
        self.line += self.b[self.i..end].iter().filter(|&&c| c == b'\n').count() as u32;
        self.i = end;
    }

    fn next(&mut self) {
        let (i, c, line) = (self.i, self.b[self.i], self.line);
        match c {
            b'/' if self.at(i + 1) == b'/' => {
                let end = self.src[i..].find('\n').map_or(self.b.len(), |n| i + n);
                self.i = end;
            }
            b'/' if self.at(i + 1) == b'*' => {
                let (mut j, mut depth) = (i + 2, 1);
                while j < self.b.len() && depth > 0 {
                    if self.b[j] == b'/' && self.at(j + 1) == b'*' {
                        depth += 1;
                        j += 2;
                    } else if self.b[j] == b'*' && self.at(j + 1) == b'/' {
                        depth -= 1;
                        j += 2;
                    } else {
                        j += 1;
                    }
                }
                self.skip_to(j);
            }
            b'"' => self.string(i + 1),
            b'\'' => self.quote(i),
            b'$' if self.src[i + 1..].starts_with("crate") && !ident_char(self.at(i + 6)) => {
                self.push(Kind::Ident, i, i + 6, line);
                self.i = i + 6;
            }
            b':' if self.at(i + 1) == b':' => {
                self.push(Kind::PathSep, i, i + 2, line);
                self.i = i + 2;
            }
            c if c.is_ascii_whitespace() => self.skip_to(i + 1),
            c if c.is_ascii_digit() => {
                let mut j = i + 1;
                while ident_char(self.at(j)) {
                    j += 1;
                }
                self.push(Kind::Lit, i, j, line);
                self.i = j;
            }
            c if ident_char(c) => self.word(i),
            _ => {
                self.push(Kind::Punct, i, i + 1, line);
                self.i = i + 1;
            }
        }
    }

    /// An identifier, or a prefixed literal: `b".."`, `b'.'`, `r#".."#`,
    /// `br".."`, `c".."`, `cr".."`; or a raw identifier `r#name`.
    fn word(&mut self, i: usize) {
        let c = self.b[i];
        let mut j = i + 1;
        if c == b'b' && self.at(j) == b'\'' {
            return self.quote(j);
        }
        if (c == b'b' || c == b'c') && self.at(j) == b'"' {
            return self.string(j + 1);
        }
        if (c == b'b' || c == b'c') && self.at(j) == b'r' {
            j += 1;
        }
        if c == b'r' || j == i + 2 {
            let mut k = j;
            while self.at(k) == b'#' {
                k += 1;
            }
            if self.at(k) == b'"' {
                return self.raw_string(k + 1, k - j);
            }
            if c == b'r' && k == j + 1 && ident_char(self.at(k)) {
                j = k;
            } else {
                j = i + 1;
            }
        }
        while ident_char(self.at(j)) {
            j += 1;
        }
        self.push(Kind::Ident, i, j, self.line);
        self.i = j;
    }

    /// A string whose contents start at `body`, with escapes.
    fn string(&mut self, body: usize) {
        let line = self.line;
        let mut j = body;
        while j < self.b.len() && self.b[j] != b'"' {
            j += if self.b[j] == b'\\' { 2 } else { 1 };
        }
        let end = j.min(self.b.len());
        self.push(Kind::Str, body, end, line);
        self.skip_to(end + 1);
    }

    /// A raw string whose contents start at `body`, closed by `"` and
    /// `hashes` `#`.
    fn raw_string(&mut self, body: usize, hashes: usize) {
        let line = self.line;
        let close: String = std::iter::once('"')
            .chain(std::iter::repeat_n('#', hashes))
            .collect();
        let end = self.src[body..]
            .find(&close)
            .map_or(self.b.len(), |n| body + n);
        self.push(Kind::Str, body, end, line);
        self.skip_to(end + close.len());
    }

    /// A character literal or a lifetime, at the `'`.
    fn quote(&mut self, i: usize) {
        let line = self.line;
        if self.at(i + 1) == b'\\' {
            let mut j = i + 3;
            while j < self.b.len() && self.b[j] != b'\'' && self.b[j] != b'\n' {
                j += 1;
            }
            let end = (j + 1).min(self.b.len());
            self.push(Kind::Lit, i, end, line);
            self.i = end;
            return;
        }
        let width = self.src[i + 1..].chars().next().map_or(1, char::len_utf8);
        if self.at(i + 1 + width) == b'\'' {
            self.push(Kind::Lit, i, i + 2 + width, line);
            self.i = i + 2 + width;
            return;
        }
        let mut j = i + 1;
        while ident_char(self.at(j)) {
            j += 1;
        }
        self.i = j.max(i + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<(Kind, &str)> {
        lex(src).into_iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn comments_and_literals_hide_what_they_hold() {
        let src = "a // crate::x\n/* b /* nested */ crate::y */ \"crate::z\\\"\" r#\"q\"\"#\n'c' '\\'' 'a x";
        let t = texts(src);
        assert_eq!(
            t,
            [
                (Kind::Ident, "a"),
                (Kind::Str, "crate::z\\\""),
                (Kind::Str, "q\""),
                (Kind::Lit, "'c'"),
                (Kind::Lit, "'\\''"),
                (Kind::Ident, "x"),
            ]
        );
        let lines: Vec<u32> = lex(src).iter().map(|t| t.line).collect();
        assert_eq!(lines, [1, 2, 2, 3, 3, 3]);
    }

    #[test]
    fn paths_raw_identifiers_and_prefixed_literals() {
        assert_eq!(
            texts("$crate::a::B r#mod b\"x\" br#\"y\"# c\"z\" b'q' é::f"),
            [
                (Kind::Ident, "$crate"),
                (Kind::PathSep, "::"),
                (Kind::Ident, "a"),
                (Kind::PathSep, "::"),
                (Kind::Ident, "B"),
                (Kind::Ident, "r#mod"),
                (Kind::Str, "x"),
                (Kind::Str, "y"),
                (Kind::Str, "z"),
                (Kind::Lit, "'q'"),
                (Kind::Ident, "é"),
                (Kind::PathSep, "::"),
                (Kind::Ident, "f"),
            ]
        );
        assert_eq!(
            texts("fn f<'a>(x: &'a str) -> char { 'é' }")
                .iter()
                .filter(|(k, _)| *k == Kind::Lit)
                .count(),
            1
        );
    }
}
