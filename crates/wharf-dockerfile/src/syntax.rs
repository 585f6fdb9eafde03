//! The syntax tree: what BuildKit's parser produces, with positions.
//!
//! One [`Node`] per logical instruction. Arguments are split exactly as BuildKit's
//! parser splits them (so [`crate::dump_buildkit`] reproduces its dumps); the typed
//! meaning of each instruction is in [`crate::instruction`].

use crate::quote::go_quote;
use crate::span::Span;

/// A parsed Dockerfile: directives, and one node per instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// Parser directives from the top of the file (`syntax`, `escape`, `check`).
    pub directives: Vec<Directive>,
    /// The escape token in effect (`\` or a backtick).
    pub escape: char,
    /// The instructions, in file order.
    pub nodes: Vec<Node>,
    /// Non-fatal findings of the parser (empty continuation lines).
    pub warnings: Vec<ParseWarning>,
    /// From the first to the last instruction line.
    pub span: Span,
}

impl Dockerfile {
    /// The value of directive `name` (lower-case), if present.
    pub fn directive(&self, name: &str) -> Option<&str> {
        self.directives
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.value.as_str())
    }
}

/// A parser directive such as `# escape=`` ` ``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Name, lower-cased (`syntax`, `escape` or `check`).
    pub name: String,
    /// Value as written (trimmed).
    pub value: String,
    /// The directive's line.
    pub line: usize,
}

/// A non-fatal parser finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseWarning {
    /// Line of the instruction concerned.
    pub line: usize,
    /// What was found.
    pub message: String,
}

/// A word of an instruction: an argument or a flag, with its span in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The text (flags: quotes and escapes already removed).
    pub value: String,
    /// Where it was written.
    pub span: Span,
}

/// One instruction as BuildKit's parser sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The keyword as written (`run`, `RUN`, `Run`).
    pub keyword: String,
    /// Where the keyword is.
    pub keyword_span: Span,
    /// Flags (`--from=build`), quotes removed.
    pub flags: Vec<Word>,
    /// The argument chain.
    pub args: Vec<Word>,
    /// ONBUILD: the wrapped instruction.
    pub sub: Option<Box<Node>>,
    /// Arguments were written as a JSON array (exec form).
    pub json: bool,
    /// Heredoc bodies that follow the instruction.
    pub heredocs: Vec<Heredoc>,
    /// The logical line (continuations joined, comments removed).
    pub original: String,
    /// Comment lines just before the instruction (without `#`).
    pub comments: Vec<String>,
    /// From the keyword to the last line consumed (heredoc terminators included).
    pub span: Span,
}

impl Node {
    /// The keyword in upper case.
    pub fn keyword_upper(&self) -> String {
        self.keyword.to_uppercase()
    }
}

/// A heredoc (`<<EOF` ... `EOF`) attached to RUN, COPY or ADD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter word, quotes removed.
    pub name: String,
    /// The body as written, each line ending in `\n`.
    pub content: String,
    /// The delimiter was unquoted, so the body is subject to expansion.
    pub expand: bool,
    /// `<<-`: leading tabs are stripped from body lines.
    pub chomp: bool,
    /// File descriptor before `<<` (`3<<EOF`), 0 when absent.
    pub fd: u32,
    /// First body line to terminator line.
    pub span: Span,
}

impl Heredoc {
    /// The body with `<<-` tab stripping applied.
    pub fn body(&self) -> String {
        if !self.chomp {
            return self.content.clone();
        }
        self.content
            .split_inclusive('\n')
            .map(|l| l.trim_start_matches('\t'))
            .collect()
    }
}

/// BuildKit's parse dump of `df`: one line per instruction, ending in `\n`.
///
/// ```
/// let df = wharf_dockerfile::parse("FROM alpine AS b\nRUN [\"a\", \"b\"]\n").unwrap();
/// assert_eq!(wharf_dockerfile::dump_buildkit(&df), "(from \"alpine\" \"AS\" \"b\")\n(run \"a\" \"b\")\n");
/// ```
pub fn dump_buildkit(df: &Dockerfile) -> String {
    let mut s = String::new();
    for n in &df.nodes {
        s.push('(');
        s.push_str(&dump_node(n));
        s.push_str(")\n");
    }
    let mut out = s.trim_matches(char::is_whitespace).to_owned();
    out.push('\n');
    out
}

fn dump_node(n: &Node) -> String {
    let mut s = n.keyword.to_lowercase();
    if !n.flags.is_empty() {
        let flags: Vec<String> = n.flags.iter().map(|f| go_quote(&f.value)).collect();
        s.push_str(" [");
        s.push_str(&flags.join(" "));
        s.push(']');
    }
    if let Some(sub) = &n.sub {
        s.push_str(" (");
        s.push_str(&dump_node(sub));
        s.push(')');
    }
    for a in &n.args {
        s.push(' ');
        s.push_str(&go_quote(&a.value));
    }
    s.trim_matches(char::is_whitespace).to_owned()
}
