//! The crate's error type: every error carries the position it refers to.

use std::fmt;

use crate::shell::ShellError;
use crate::span::Pos;

/// An error found in a Dockerfile, with its position.
///
/// `Display` gives `LINE:COLUMN: message`; [`Error::in_file`] adds the file name, as in
/// `Dockerfile:12:5: unknown instruction "RUNN" (did you mean RUN?)`. Errors about no
/// line in particular (an unknown `--target`) have line 0 and show no position.
#[derive(Debug, thiserror::Error)]
pub struct Error {
    /// Where the error is.
    pub pos: Pos,
    /// What went wrong.
    #[source]
    pub kind: ErrorKind,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pos.line == 0 {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "{}: {}", self.pos, self.kind)
        }
    }
}

impl Error {
    /// An error of `kind` at `pos`.
    pub fn new(pos: Pos, kind: ErrorKind) -> Self {
        Self { pos, kind }
    }

    /// A displayable form that names the file: `NAME:LINE:COLUMN: message`.
    pub fn in_file<'a>(&'a self, name: &'a str) -> InFile<'a> {
        InFile { name, error: self }
    }
}

/// An [`Error`] shown with its file name; see [`Error::in_file`].
#[derive(Debug)]
pub struct InFile<'a> {
    name: &'a str,
    error: &'a Error,
}

impl fmt::Display for InFile<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.error.pos.line == 0 {
            write!(f, "{}: {}", self.name, self.error)
        } else {
            write!(f, "{}:{}", self.name, self.error)
        }
    }
}

/// The kinds of errors, without position.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file has no instruction at all.
    #[error("file with no instructions")]
    NoInstructions,
    /// The file is not valid UTF-8.
    #[error("invalid utf-8 in dockerfile")]
    InvalidUtf8,
    /// A parser directive appears twice.
    #[error("only one {name} parser directive can be used")]
    DuplicateDirective {
        /// Directive name, lower-cased.
        name: String,
    },
    /// `# escape=` with something other than `\` or a backtick.
    #[error("invalid escape token {value:?} does not match ` or \\")]
    InvalidEscapeToken {
        /// The value given.
        value: String,
    },
    /// A heredoc without its terminator line.
    #[error("unterminated heredoc {name:?}")]
    UnterminatedHeredoc {
        /// The delimiter that was never found.
        name: String,
    },
    /// A JSON array with an element that is not a string.
    #[error("when using JSON array syntax, arrays must be comprised of strings only")]
    NotStringArray,
    /// Legacy `ENV key value` / `LABEL key value` without a value.
    #[error("{instruction} must have two arguments")]
    MissingValue {
        /// `ENV` or `LABEL`.
        instruction: String,
    },
    /// `key=value` form with a word lacking `=`.
    #[error("syntax error - can't find = in {word:?}. must be of the form: name=value")]
    MissingEquals {
        /// The offending word.
        word: String,
    },
    /// An instruction keyword that does not exist.
    #[error("unknown instruction {name:?}{}", did_you_mean(suggestion.as_deref()))]
    UnknownInstruction {
        /// The keyword as written.
        name: String,
        /// The closest known instruction, if any is close.
        suggestion: Option<&'static str>,
    },
    /// A flag the instruction does not take.
    #[error("unknown flag: --{flag}")]
    UnknownFlag {
        /// Flag name without dashes.
        flag: String,
    },
    /// A flag that may appear once appears again.
    #[error("duplicate flag specified: --{flag}")]
    DuplicateFlag {
        /// Flag name without dashes.
        flag: String,
    },
    /// `--flag` without `=value` for a flag that needs one.
    #[error("missing a value on flag: --{flag}")]
    FlagMissingValue {
        /// Flag name without dashes.
        flag: String,
    },
    /// A flag value that does not parse.
    #[error("invalid value {value:?} for flag --{flag}: {reason}")]
    InvalidFlagValue {
        /// Flag name without dashes.
        flag: String,
        /// The value given.
        value: String,
        /// Why it is invalid.
        reason: String,
    },
    /// Wrong number of arguments.
    #[error("{instruction} requires {expected}")]
    Arguments {
        /// Instruction keyword, upper-case.
        instruction: &'static str,
        /// What it needs, e.g. "at least two arguments".
        expected: &'static str,
    },
    /// An invalid argument value.
    #[error("{instruction}: {reason}")]
    InvalidArgument {
        /// Instruction keyword, upper-case.
        instruction: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// An invalid `RUN --mount` specification.
    #[error("invalid mount {spec:?}: {reason}")]
    InvalidMount {
        /// The `--mount` value.
        spec: String,
        /// What is wrong.
        reason: String,
    },
    /// Variable expansion failed.
    // The lexer's error is part of the message (the rendered Dockerfile error is one line), so
    // it is not also a `source`: each cause is printed once.
    #[error("failed to process {word:?}: {cause}")]
    Expand {
        /// The word being expanded.
        word: String,
        /// The lexer's error.
        cause: ShellError,
    },
    /// An instruction before the first FROM (only ARG may be there).
    #[error("no build stage in current context")]
    NoStage,
    /// Two stages share a name.
    #[error("duplicate stage name {name:?} (first defined on line {first_line})")]
    DuplicateStage {
        /// The stage name.
        name: String,
        /// Line of the first definition.
        first_line: usize,
    },
    /// A stage name that is not valid.
    #[error("invalid stage name {name:?}, must match [a-z][a-z0-9-_.]*")]
    InvalidStageName {
        /// The stage name.
        name: String,
    },
    /// `--from=N` refers to a stage that does not exist before this one.
    #[error("unknown stage {name:?}")]
    UnknownStage {
        /// The reference as written.
        name: String,
    },
    /// Stages depend on each other in a cycle.
    #[error("circular dependency between stages: {path}")]
    StageCycle {
        /// The stages in the cycle, `a -> b -> a`.
        path: String,
    },
    /// `--target` names no stage.
    #[error("target stage {name:?} could not be found")]
    UnknownTarget {
        /// The requested target.
        name: String,
    },
    /// `FROM` names an empty image after expansion.
    #[error("base name ({name}) should not be blank")]
    BlankBaseName {
        /// The unexpanded base name.
        name: String,
    },
    /// `ONBUILD` with an instruction it cannot wrap.
    #[error("{instruction} isn't allowed as an ONBUILD trigger")]
    BadOnbuild {
        /// The wrapped keyword.
        instruction: String,
    },
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion
        .map(|s| format!(" (did you mean {s}?)"))
        .unwrap_or_default()
}
