//! Go's `unicode` predicates, which BuildKit's parser and lexer use.
//!
//! Rust's `char` methods use different Unicode properties (`is_alphabetic` is the
//! Alphabetic property, not the Letter category), so the general categories are
//! taken from the regex crate's Unicode tables instead.

use std::sync::LazyLock;

use regex::Regex;

static LETTER: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^\p{L}$").ok());
static DIGIT: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^\p{Nd}$").ok());
static GRAPHIC: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[\p{L}\p{M}\p{N}\p{P}\p{S}]$").ok());

fn category(re: &LazyLock<Option<Regex>>, c: char) -> bool {
    let mut buf = [0u8; 4];
    re.as_ref()
        .is_some_and(|re| re.is_match(c.encode_utf8(&mut buf)))
}

/// Go's `unicode.IsSpace` (the White_Space property, equal to Rust's).
pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// Go's `unicode.IsLetter` (general category L).
pub(crate) fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    category(&LETTER, c)
}

/// Go's `unicode.IsDigit` (general category Nd).
pub(crate) fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    category(&DIGIT, c)
}

/// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
pub(crate) fn is_print(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    category(&GRAPHIC, c)
}
