//! From source text to [`Dockerfile`]: physical lines, directives, continuations, heredocs.
//!
//! This follows BuildKit's `parser.Parse` step by step (the conformance README in
//! `shared/conformance/buildkit` describes it); positions are tracked through line
//! joining so that every word can point back at the source.

use crate::args::{LineText, parse_line};
use crate::error::{Error, ErrorKind};
use crate::shell::Lexer;
use crate::span::{Pos, Span};
use crate::syntax::{Directive, Dockerfile, Heredoc, Node, ParseWarning};
use crate::unicode::is_space;

/// Parses Dockerfile bytes; invalid UTF-8 is an error at its position.
pub fn parse_bytes(src: &[u8]) -> Result<Dockerfile, Error> {
    match std::str::from_utf8(src) {
        Ok(s) => parse(s),
        Err(e) => {
            let good = &src[..e.valid_up_to()];
            let line = good.split(|&b| b == b'\n').count();
            let last = good.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
            let column = String::from_utf8_lossy(&good[last..]).chars().count() + 1;
            Err(Error::new(Pos::new(line, column), ErrorKind::InvalidUtf8))
        }
    }
}

/// Parses a Dockerfile into its syntax tree (BuildKit's parser, no expansion).
///
/// Instructions are not checked beyond what BuildKit's parser checks; use
/// [`crate::instruction::Instruction::from_node`] (or [`crate::instruction::instructions`]) for the typed model.
pub fn parse(src: &str) -> Result<Dockerfile, Error> {
    let lines = split_lines(src);
    let mut p = DirectiveParser::default();
    let mut escape = '\\';
    let mut nodes: Vec<Node> = Vec::new();
    let mut warnings = Vec::new();
    let mut comments: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line_no = i + 1;
        let mut raw = lines[i];
        i += 1;
        if line_no == 1 {
            raw = raw.strip_prefix('\u{feff}').unwrap_or(raw);
        }
        let trimmed = raw.trim_start_matches(is_space);
        let lead = raw.len() - trimmed.len();
        if let Some(d) = p.feed(trimmed, line_no)? {
            if d.name == "escape" {
                escape = match d.value.as_str() {
                    "\\" => '\\',
                    "`" => '`',
                    other => {
                        return Err(Error::new(
                            Pos::new(line_no, 1),
                            ErrorKind::InvalidEscapeToken {
                                value: other.to_owned(),
                            },
                        ));
                    }
                };
            }
            continue;
        }
        if let Some(c) = trimmed.strip_prefix('#') {
            comments.push(c.trim_start().to_owned());
            continue;
        }
        let mut text = LineText::default();
        let col0 = raw[..lead].chars().count();
        let (content, mut done) = trim_continuation(trimmed, escape);
        if done && content.is_empty() {
            continue;
        }
        text.push(content, line_no, col0);
        let start_line = line_no;
        let mut end_line = line_no;
        let mut empty_continuation = false;
        while !done && i < lines.len() {
            let raw = lines[i];
            i += 1;
            end_line = i;
            let t = raw.trim_start_matches(is_space);
            if t.starts_with('#') {
                continue;
            }
            if t.is_empty() {
                empty_continuation = true;
                continue;
            }
            let (content, d) = trim_continuation(raw, escape);
            done = d;
            text.push(content, end_line, 0);
        }
        if empty_continuation {
            warnings.push(ParseWarning {
                line: start_line,
                message: "empty continuation line".to_owned(),
            });
        }
        let mut node =
            parse_line(&text, escape).map_err(|(off, kind)| Error::new(text.pos(off), kind))?;
        node.comments = std::mem::take(&mut comments);
        let mut end = Pos::new(end_line, lines[end_line - 1].chars().count() + 1);
        if can_contain_heredoc(&node) && text.text.contains("<<") {
            for (name, expand, chomp, fd) in heredocs_from_line(&text.text) {
                let body_start = i + 1;
                let mut content = String::new();
                let mut terminated = false;
                while i < lines.len() {
                    let l = lines[i];
                    i += 1;
                    let cand = if chomp { l.trim_start_matches('\t') } else { l };
                    if cand == name {
                        terminated = true;
                        break;
                    }
                    content.push_str(l);
                    content.push('\n');
                }
                end = Pos::new(i, lines[i.max(1) - 1].chars().count() + 1);
                if !terminated {
                    return Err(Error::new(
                        Pos::new(start_line, text.pos(0).column),
                        ErrorKind::UnterminatedHeredoc { name },
                    ));
                }
                node.heredocs.push(Heredoc {
                    name,
                    content,
                    expand,
                    chomp,
                    fd,
                    span: Span::new(Pos::new(body_start, 1), end),
                });
            }
        }
        node.span = Span::new(node.keyword_span.start, end);
        nodes.push(node);
    }
    if nodes.is_empty() {
        return Err(Error::new(
            Pos::new(lines.len().max(1), 1),
            ErrorKind::NoInstructions,
        ));
    }
    let span = Span::new(
        nodes.first().map(|n| n.span.start).unwrap_or_default(),
        nodes.last().map(|n| n.span.end).unwrap_or_default(),
    );
    Ok(Dockerfile {
        directives: p.directives,
        escape,
        nodes,
        warnings,
        span,
    })
}

/// Splits like Go's `bufio.ScanLines` followed by trimming trailing CR/LF.
fn split_lines(src: &str) -> Vec<&str> {
    let mut out: Vec<&str> = src
        .split_inclusive('\n')
        .map(|l| l.trim_end_matches(['\r', '\n']))
        .collect();
    if out.is_empty() && !src.is_empty() {
        out.push(src);
    }
    out
}

/// BuildKit's continuation rule: escape token followed only by spaces/tabs, and not
/// itself escaped. Returns the text without the token, and whether the line ends here.
fn trim_continuation(line: &str, escape: char) -> (&str, bool) {
    let body = line.trim_end_matches([' ', '\t']);
    if let Some(before) = body.strip_suffix(escape)
        && !before.ends_with(escape)
    {
        return (before, false);
    }
    (line, true)
}

#[derive(Default)]
struct DirectiveParser {
    done: bool,
    directives: Vec<Directive>,
}

impl DirectiveParser {
    /// Looks at one line; returns the directive when the line is one.
    fn feed(&mut self, line: &str, line_no: usize) -> Result<Option<Directive>, Error> {
        if self.done {
            return Ok(None);
        }
        let Some((name, value)) = match_directive(line) else {
            self.done = true;
            return Ok(None);
        };
        let name = name.to_ascii_lowercase();
        if !matches!(name.as_str(), "syntax" | "escape" | "check") {
            self.done = true;
            return Ok(None);
        }
        if self.directives.iter().any(|d| d.name == name) {
            return Err(Error::new(
                Pos::new(line_no, 1),
                ErrorKind::DuplicateDirective { name },
            ));
        }
        let d = Directive {
            name,
            value: value.to_owned(),
            line: line_no,
        };
        self.directives.push(d.clone());
        Ok(Some(d))
    }
}

/// `^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$`
fn match_directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('#')?.trim_start_matches([' ', '\t']);
    let name_len = rest
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(rest.len(), |(i, _)| i);
    if name_len == 0 {
        return None;
    }
    let (name, rest) = rest.split_at(name_len);
    let value = rest
        .trim_start_matches([' ', '\t'])
        .strip_prefix('=')?
        .trim_matches([' ', '\t']);
    if value.is_empty() {
        return None;
    }
    Some((name, value))
}

fn can_contain_heredoc(node: &Node) -> bool {
    let n = match (&node.sub, node.keyword.eq_ignore_ascii_case("onbuild")) {
        (Some(sub), true) => sub,
        _ => node,
    };
    let k = n.keyword.to_ascii_lowercase();
    matches!(k.as_str(), "run" | "copy" | "add") && !n.json
}

/// The heredocs named on a logical line: `(name, expand, chomp, fd)`.
fn heredocs_from_line(line: &str) -> Vec<(String, bool, bool, u32)> {
    let mut lex = Lexer::new('\\');
    lex.raw_quotes = true;
    lex.raw_escapes = true;
    let Ok(words) = lex.process_words(line, &|_| None) else {
        return Vec::new();
    };
    words.iter().filter_map(|w| parse_heredoc(w)).collect()
}

/// BuildKit's `ParseHeredoc`: `^(\d*)<<(-?)\s*([^<]*)$` (blanks allowed before the name
/// since Dockerfile 1.14), the word unquoted as the name.
pub(crate) fn parse_heredoc(word: &str) -> Option<(String, bool, bool, u32)> {
    let digits = word.len() - word.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let rest = word[digits..].strip_prefix("<<")?;
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let fd = word[..digits].parse().unwrap_or(0);
    let mut lex = Lexer::new('\\');
    lex.skip_unset_env = true;
    let words = lex.process_words(rest, &|_| None).ok()?;
    if words.len() != 1 {
        return None;
    }
    lex.raw_quotes = true;
    let raw = lex.process_words(rest, &|_| None).ok()?;
    if raw.len() != 1 {
        return None;
    }
    let quotes = |s: &str| s.matches(['\'', '"']).count();
    let expand = quotes(&words[0]) == quotes(&raw[0]);
    Some((words[0].clone(), expand, chomp, fd))
}
