//! Wharf's Dockerfile frontend, compatible with BuildKit.
//!
//! - [`parse`] turns source text into a [`Dockerfile`] syntax tree: parser
//!   directives, continuations, comments, heredocs, JSON and shell forms, flags, with
//!   a [`Span`] on every node. [`dump_buildkit`] prints BuildKit's parse dump.
//! - [`instruction`] gives each node a typed model ([`instruction::Instruction`]).
//! - [`shell::Lexer`] is BuildKit's word expander (`$VAR`, `${VAR:-w}`, `${VAR%%p}`, ...).
//! - [`stage`] applies build arguments and the target platform: ARG/ENV scoping,
//!   predefined ARGs, expanded instructions per stage, unused `--build-arg` warnings.
//! - [`graph`] finds the dependencies between stages and prunes for `--target`.
//! - [`ignore`] reads `.dockerignore`/`.containerignore` and walks a build context.
//! - [`lint`] runs BuildKit's build checks.
//!
//! Every error carries a position; `error.in_file("Dockerfile")` displays as
//! `Dockerfile:LINE:COLUMN: message`.
//!
//! ```
//! use wharf_dockerfile::{parse, stage::{BuildOptions, plan}};
//!
//! let df = parse("ARG V=3.20\nFROM alpine:${V} AS base\nRUN echo hi\n").unwrap();
//! let plan = plan(&df, &BuildOptions::default()).unwrap();
//! assert_eq!(plan.stages[0].base, "alpine:3.20");
//! assert_eq!(plan.stages[0].name.as_deref(), Some("base"));
//! ```
#![forbid(unsafe_code)]

mod args;
pub mod error;
mod flags;
pub mod graph;
pub mod ignore;
pub mod instruction;
pub mod lint;
pub mod mount;
mod parser;
mod pattern;
pub mod platform;
mod quote;
pub mod shell;
pub mod span;
pub mod stage;
pub mod syntax;
mod unicode;

pub use error::{Error, ErrorKind};
pub use parser::{parse, parse_bytes};
pub use quote::go_quote;
pub use span::{Pos, Span};
pub use syntax::{Directive, Dockerfile, Heredoc, Node, Word, dump_buildkit};
