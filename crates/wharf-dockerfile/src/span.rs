//! Source positions: 1-based lines and 1-based columns counted in characters.

use std::fmt;

/// A position in the Dockerfile: 1-based line, 1-based column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl Pos {
    /// A position at `line`, `column`.
    pub const fn new(line: usize, column: usize) -> Self {
        Self { line, column }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A range of source text: `start` is the first character, `end` the position just after the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First character.
    pub start: Pos,
    /// Just past the last character (same line as the last character).
    pub end: Pos,
}

impl Span {
    /// A span from `start` to `end`.
    pub const fn new(start: Pos, end: Pos) -> Self {
        Self { start, end }
    }
}
