//! Splitting one logical line into keyword, flags and arguments, as BuildKit's
//! parser does (`splitCommand`, `extractBuilderFlags` and the per-instruction
//! `parse*` functions), keeping byte offsets so that every word gets a span.

// Offsets `a`/`b` delimit the text being split, `t` is the line: short names keep the
// byte arithmetic readable.
#![allow(clippy::many_single_char_names)]

use crate::error::ErrorKind;
use crate::span::{Pos, Span};
use crate::syntax::{Node, Word};
use crate::unicode::is_space;

/// A logical line (continuations joined) and where each piece came from.
#[derive(Debug, Default)]
pub(crate) struct LineText {
    pub(crate) text: String,
    /// (offset in `text`, physical line, characters before the piece on that line)
    segments: Vec<(usize, usize, usize)>,
}

impl LineText {
    pub(crate) fn push(&mut self, piece: &str, line: usize, col: usize) {
        self.segments.push((self.text.len(), line, col));
        self.text.push_str(piece);
    }

    /// Position of the character starting at byte `off`.
    pub(crate) fn pos(&self, off: usize) -> Pos {
        let idx = self.segments.iter().rposition(|s| s.0 <= off).unwrap_or(0);
        let Some(&(start, line, col)) = self.segments.get(idx) else {
            return Pos::new(1, 1);
        };
        let off = off.min(self.text.len()).max(start);
        let chars = self.text.get(start..off).map_or(0, |s| s.chars().count());
        Pos::new(line, col + chars + 1)
    }

    /// Position just after the character ending at byte `off`.
    pub(crate) fn pos_end(&self, off: usize) -> Pos {
        let Some(c) = self.text.get(..off).and_then(|s| s.chars().next_back()) else {
            return self.pos(off);
        };
        let p = self.pos(off - c.len_utf8());
        Pos::new(p.line, p.column + 1)
    }

    fn span(&self, a: usize, b: usize) -> Span {
        Span::new(self.pos(a), self.pos_end(b))
    }

    fn word(&self, value: impl Into<String>, a: usize, b: usize) -> Word {
        Word {
            value: value.into(),
            span: self.span(a, b),
        }
    }
}

type PResult<T> = Result<T, (usize, ErrorKind)>;

fn is_ws(c: char) -> bool {
    matches!(c, '\t' | '\u{b}' | '\u{c}' | '\r' | ' ')
}

/// Trims Unicode whitespace from `[a, b)`.
fn trim(t: &str, a: usize, b: usize) -> (usize, usize) {
    let s = &t[a..b];
    let start = a + (s.len() - s.trim_start_matches(is_space).len());
    let end = start + s[start - a..].trim_end_matches(is_space).len();
    (start, end)
}

/// Splits `[a, b)` on runs of `[\t\v\f\r ]`, like Go's `regexp.Split(s, -1)`.
fn ws_split(t: &str, a: usize, b: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = a;
    let mut i = a;
    let s = &t[..b];
    while i < b {
        let c = s[i..].chars().next().unwrap_or(' ');
        if is_ws(c) {
            out.push((start, i));
            while i < b && s[i..].chars().next().is_some_and(is_ws) {
                i += 1;
            }
            start = i;
        } else {
            i += c.len_utf8();
        }
    }
    out.push((start, b));
    out
}

pub(crate) fn parse_line(t: &LineText, escape: char) -> PResult<Node> {
    parse_at(t, 0, t.text.len(), escape)
}

fn parse_at(t: &LineText, a: usize, b: usize, escape: char) -> PResult<Node> {
    let text = t.text.as_str();
    let (a, b) = trim(text, a, b);
    let line = &text[a..b];
    let kw_end = a + line.find(is_ws).unwrap_or(line.len());
    let keyword = &text[a..kw_end];
    let mut flags = Vec::new();
    let mut rest = (b, b);
    if kw_end < b {
        let mut r = kw_end;
        while r < b && text[r..].starts_with(is_ws) {
            r += 1;
        }
        let after = extract_flags(t, r, b, &mut flags);
        rest = trim(text, after, b);
    }
    let mut node = Node {
        keyword: keyword.to_owned(),
        keyword_span: t.span(a, kw_end),
        flags,
        args: Vec::new(),
        sub: None,
        json: false,
        heredocs: Vec::new(),
        original: line.to_owned(),
        comments: Vec::new(),
        span: t.span(a, b),
    };
    let (ra, rb) = rest;
    let empty = ra == rb;
    match keyword.to_lowercase().as_str() {
        "add" | "copy" | "volume" => {
            if let Some(words) = parse_json(t, ra, rb)? {
                node.args = words;
                node.json = true;
            } else if !empty {
                node.args = ws_split(text, ra, rb)
                    .into_iter()
                    .map(|(x, y)| t.word(&text[x..y], x, y))
                    .collect();
            }
        }
        "run" | "cmd" | "entrypoint" | "shell" => {
            (node.args, node.json) = parse_maybe_json(t, ra, rb)?;
        }
        "from" | "expose" => {
            if !empty {
                node.args = ws_split(text, ra, rb)
                    .into_iter()
                    .map(|(x, y)| t.word(&text[x..y], x, y))
                    .collect();
            }
        }
        "healthcheck" => {
            let r = &text[ra..rb];
            let sep = ra + r.find(is_space).unwrap_or(r.len());
            if sep > ra {
                let next = sep + (rb - sep - text[sep..rb].trim_start_matches(is_space).len());
                node.args.push(t.word(&text[ra..sep], ra, sep));
                let (more, json) = parse_maybe_json(t, next, rb)?;
                node.args.extend(more);
                node.json = json;
            }
        }
        "env" | "label" => node.args = parse_name_val(t, ra, rb, keyword, escape)?,
        "arg" => {
            node.args = parse_words(text, ra, rb, escape)
                .into_iter()
                .map(|(w, x, y)| t.word(w, x, y))
                .collect();
        }
        "maintainer" | "stopsignal" | "user" | "workdir" => {
            if !empty {
                node.args.push(t.word(&text[ra..rb], ra, rb));
            }
        }
        "onbuild" => {
            if !empty {
                node.sub = Some(Box::new(parse_at(t, ra, rb, escape)?));
            }
        }
        _ => node.args.push(t.word("", ra, rb)),
    }
    Ok(node)
}

/// `extractBuilderFlags`: leading `--words`; returns the offset where the arguments start.
fn extract_flags(t: &LineText, a: usize, b: usize, out: &mut Vec<Word>) -> usize {
    let text = &t.text[..b];
    let mut pos = a;
    loop {
        while pos < b && text[pos..].starts_with(is_space) {
            pos += text[pos..].chars().next().map_or(1, char::len_utf8);
        }
        if pos >= b || !text[pos..].starts_with("--") {
            return pos;
        }
        let start = pos;
        let mut word = String::new();
        let mut blank_ok = false;
        let mut quote: Option<char> = None;
        let mut chars = text[pos..].char_indices().peekable();
        let mut end = b;
        while let Some((i, c)) = chars.next() {
            if let Some(q) = quote {
                if c == q {
                    quote = None;
                } else if c == '\\' {
                    match chars.next() {
                        Some((_, n)) => word.push(n),
                        None => quote = None,
                    }
                } else {
                    word.push(c);
                }
                continue;
            }
            if is_space(c) {
                end = pos + i;
                break;
            }
            if c == '\'' || c == '"' {
                quote = Some(c);
                blank_ok = true;
            } else if c == '\\' {
                if let Some((_, n)) = chars.next() {
                    word.push(n);
                }
            } else {
                word.push(c);
            }
        }
        pos = end;
        if word == "--" {
            return pos;
        }
        if blank_ok || !word.is_empty() {
            out.push(t.word(word, start, end));
        }
    }
}

/// `parseMaybeJSON`: a JSON string array, or the whole text as one argument.
fn parse_maybe_json(t: &LineText, a: usize, b: usize) -> PResult<(Vec<Word>, bool)> {
    if a == b {
        return Ok((Vec::new(), false));
    }
    if let Some(words) = parse_json(t, a, b)? {
        return Ok((words, true));
    }
    Ok((vec![t.word(&t.text[a..b], a, b)], false))
}

/// `parseJSON`: `Ok(None)` when the text is not a JSON array at all.
fn parse_json(t: &LineText, a: usize, b: usize) -> PResult<Option<Vec<Word>>> {
    let (a, _) = trim(&t.text, a, b);
    let s = &t.text[a..b];
    if !s.starts_with('[') {
        return Ok(None);
    }
    let Ok(values) = serde_json::from_str::<Vec<serde_json::Value>>(s) else {
        return Ok(None);
    };
    let mut strings = Vec::with_capacity(values.len());
    for v in values {
        match v {
            serde_json::Value::String(s) => strings.push(s),
            _ => return Err((a, ErrorKind::NotStringArray)),
        }
    }
    // The array is valid and holds only strings: find where each string was written.
    let mut spans = Vec::with_capacity(strings.len());
    let mut in_str: Option<usize> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match (in_str, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(st), '"') => {
                spans.push((a + st, a + i + 1));
                in_str = None;
            }
            (None, '"') => in_str = Some(i),
            _ => {}
        }
    }
    Ok(Some(
        strings
            .into_iter()
            .zip(spans.into_iter().chain(std::iter::repeat((a, b))))
            .map(|(v, (x, y))| t.word(v, x, y))
            .collect(),
    ))
}

/// `parseWords`: split on unquoted whitespace, keeping quotes and escapes.
/// Returns `(word, start, end)` byte offsets.
pub(crate) fn parse_words(
    text: &str,
    a: usize,
    b: usize,
    escape: char,
) -> Vec<(String, usize, usize)> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut start = a;
    let mut in_word = false;
    let mut blank_ok = false;
    let mut quote: Option<char> = None;
    let mut it = text[a..b]
        .char_indices()
        .map(|(i, c)| (a + i, c))
        .peekable();
    while let Some((i, c)) = it.next() {
        if !in_word {
            if is_space(c) {
                continue;
            }
            in_word = true;
            start = i;
        }
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            if c == escape && q != '\'' {
                if let Some((_, n)) = it.next() {
                    word.push(c);
                    word.push(n);
                } else {
                    quote = None;
                }
                continue;
            }
            word.push(c);
            continue;
        }
        if is_space(c) {
            if blank_ok || !word.is_empty() {
                words.push((std::mem::take(&mut word), start, i));
            }
            word.clear();
            blank_ok = false;
            in_word = false;
            continue;
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
            blank_ok = true;
        }
        if c == escape {
            match it.next() {
                None => continue,
                Some((_, n)) => {
                    word.push(c);
                    word.push(n);
                    continue;
                }
            }
        }
        word.push(c);
    }
    if in_word && (blank_ok || !word.is_empty()) {
        words.push((word, start, b));
    }
    words
}

/// `parseNameVal` for ENV and LABEL: the legacy `key value` form or `k=v` pairs.
fn parse_name_val(
    t: &LineText,
    a: usize,
    b: usize,
    keyword: &str,
    escape: char,
) -> PResult<Vec<Word>> {
    let text = t.text.as_str();
    let words = parse_words(text, a, b, escape);
    let Some(first) = words.first() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    if !first.0.contains('=') {
        let parts = ws_split(text, a, b);
        let (Some(&(ka, kb)), Some(&(va, _))) = (parts.first(), parts.get(1)) else {
            return Err((
                a,
                ErrorKind::MissingValue {
                    instruction: keyword.to_uppercase(),
                },
            ));
        };
        out.push(t.word(&text[ka..kb], ka, kb));
        out.push(t.word(&text[va..b], va, b));
        out.push(t.word("", b, b));
        return Ok(out);
    }
    for (w, x, y) in words {
        let Some((k, v)) = w.split_once('=') else {
            return Err((x, ErrorKind::MissingEquals { word: w }));
        };
        let eq = x + k.len();
        out.push(t.word(k, x, eq));
        out.push(t.word(v, eq + 1, y));
        out.push(t.word("=", eq, eq + 1));
    }
    Ok(out)
}
