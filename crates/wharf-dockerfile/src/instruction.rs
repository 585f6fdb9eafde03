//! The typed instruction model, built from syntax [`Node`]s.
//!
//! Values are as written (not expanded); [`crate::stage`] produces expanded copies.

use std::time::Duration;

use crate::error::{Error, ErrorKind};
use crate::flags::{FlagKind, Flags};
use crate::mount::{Mount, parse_mount};
use crate::span::Span;
use crate::syntax::{Dockerfile, Heredoc, Node, Word};

/// Every instruction keyword BuildKit knows, upper-case.
pub const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// An instruction with its place in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The typed instruction.
    pub instruction: Instruction,
    /// The keyword as written (for casing checks).
    pub keyword: String,
    /// The whole instruction.
    pub span: Span,
    /// The original logical line.
    pub original: String,
}

/// A command in exec (JSON) or shell form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `["prog", "arg"]`.
    Exec(Vec<String>),
    /// `prog arg`, run by the stage's shell.
    Shell(String),
}

/// A `key=value` pair of ENV or LABEL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// The key.
    pub key: String,
    /// The value (quotes kept until expansion).
    pub value: String,
    /// Written in the legacy `KEY value` form.
    pub legacy: bool,
}

/// One name of an ARG instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDecl {
    /// The name.
    pub name: String,
    /// The default value, if given.
    pub default: Option<String>,
}

/// `FROM [--platform=p] image [AS name]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct From {
    /// The base: an image reference, a stage name, or `scratch`.
    pub image: String,
    /// `--platform=`.
    pub platform: Option<String>,
    /// The stage name (`AS name`), lower-cased.
    pub name: Option<String>,
    /// The stage name as written.
    pub name_as_written: Option<String>,
    /// Where the `AS` keyword is, if present (casing lint).
    pub as_keyword: Option<String>,
}

/// `RUN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The command.
    pub command: Command,
    /// `--mount=` values as written.
    pub mount_specs: Vec<String>,
    /// The mounts (values not yet expanded).
    pub mounts: Vec<Mount>,
    /// `--network=default|none|host`.
    pub network: Option<String>,
    /// `--security=sandbox|insecure`.
    pub security: Option<String>,
    /// `--device=NAME[,required[=BOOL]]` (Dockerfile labs): CDI devices, as `(name, required)`.
    pub devices: Vec<(String, bool)>,
    /// Heredocs on the line.
    pub heredocs: Vec<Heredoc>,
}

/// What a RUN with heredocs executes, decided as BuildKit decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunScript {
    /// No heredoc (or exec form): run the command as it is.
    Command(Command),
    /// Run this text with the stage's shell.
    Shell(String),
    /// `RUN <<EOF` whose body starts with `#!`: write the body to an executable file
    /// (BuildKit mounts it under `/dev/pipes/`) and run it.
    File {
        /// The heredoc name, used as the file name.
        name: String,
        /// The body (tabs stripped for `<<-`).
        content: String,
    },
}

impl Run {
    /// The script this RUN executes: a lone `<<EOF` runs its body (or, with a `#!`
    /// line, a file holding it); otherwise heredocs are appended to the command line
    /// for the shell to read.
    pub fn script(&self) -> RunScript {
        let Command::Shell(text) = &self.command else {
            return RunScript::Command(self.command.clone());
        };
        let Some(first) = self.heredocs.first() else {
            return RunScript::Command(self.command.clone());
        };
        if crate::parser::parse_heredoc(text).is_some() {
            let body = first.body();
            if body.starts_with("#!") {
                return RunScript::File {
                    name: first.name.clone(),
                    content: body,
                };
            }
            return RunScript::Shell(body);
        }
        let mut full = text.clone();
        for h in &self.heredocs {
            full.push('\n');
            full.push_str(&h.content);
            full.push_str(&h.name);
        }
        RunScript::Shell(full)
    }
}

/// `COPY` and `ADD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    /// Source paths (or URLs for ADD).
    pub sources: Vec<String>,
    /// Destination.
    pub dest: String,
    /// `--from=` (COPY).
    pub from: Option<String>,
    /// `--chown=`.
    pub chown: Option<String>,
    /// `--chmod=`.
    pub chmod: Option<String>,
    /// `--link`.
    pub link: bool,
    /// `--exclude=` (repeatable).
    pub excludes: Vec<String>,
    /// `--parents`.
    pub parents: bool,
    /// `--checksum=` (ADD).
    pub checksum: Option<String>,
    /// `--keep-git-dir` (ADD).
    pub keep_git_dir: Option<bool>,
    /// `--unpack` (ADD).
    pub unpack: Option<bool>,
    /// Heredocs used as sources.
    pub heredocs: Vec<Heredoc>,
    /// Written in JSON form.
    pub json: bool,
}

/// `HEALTHCHECK`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Healthcheck {
    /// `HEALTHCHECK NONE`: disable the base image's check.
    None,
    /// `HEALTHCHECK [options] CMD ...`.
    Cmd {
        /// The test command.
        command: Command,
        /// `--interval=`.
        interval: Option<Duration>,
        /// `--timeout=`.
        timeout: Option<Duration>,
        /// `--start-period=`.
        start_period: Option<Duration>,
        /// `--start-interval=`.
        start_interval: Option<Duration>,
        /// `--retries=`.
        retries: Option<u32>,
    },
}

/// A typed instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instruction {
    /// `FROM`.
    From(From),
    /// `RUN`.
    Run(Run),
    /// `CMD`.
    Cmd(Command),
    /// `ENTRYPOINT`.
    Entrypoint(Command),
    /// `SHELL` (always exec form).
    Shell(Vec<String>),
    /// `LABEL`.
    Label(Vec<KeyValue>),
    /// `MAINTAINER` (deprecated).
    Maintainer(String),
    /// `EXPOSE`.
    Expose(Vec<String>),
    /// `ENV`.
    Env(Vec<KeyValue>),
    /// `ADD`.
    Add(Copy),
    /// `COPY`.
    Copy(Copy),
    /// `VOLUME`.
    Volume(Vec<String>),
    /// `USER`.
    User(String),
    /// `WORKDIR`.
    Workdir(String),
    /// `ARG`.
    Arg(Vec<ArgDecl>),
    /// `ONBUILD` with its trigger.
    Onbuild(Box<Located>),
    /// `STOPSIGNAL`.
    StopSignal(String),
    /// `HEALTHCHECK`.
    Healthcheck(Healthcheck),
}

/// The typed instructions of a parsed file; the first error stops.
pub fn instructions(df: &Dockerfile) -> Result<Vec<Located>, Error> {
    df.nodes.iter().map(Located::from_node).collect()
}

fn values(words: &[Word]) -> Vec<String> {
    words.iter().map(|w| w.value.clone()).collect()
}

fn command(node: &Node, args: &[Word]) -> Command {
    if node.json {
        Command::Exec(values(args))
    } else {
        Command::Shell(args.first().map(|w| w.value.clone()).unwrap_or_default())
    }
}

fn err_at(node: &Node, kind: ErrorKind) -> Error {
    Error::new(node.keyword_span.start, kind)
}

impl Located {
    /// Builds the typed instruction for `node`.
    pub fn from_node(node: &Node) -> Result<Self, Error> {
        Ok(Self {
            instruction: Instruction::from_node(node)?,
            keyword: node.keyword.clone(),
            span: node.span,
            original: node.original.clone(),
        })
    }
}

impl Instruction {
    /// Builds the typed instruction for `node`, checking flags and arity.
    pub fn from_node(node: &Node) -> Result<Self, Error> {
        use FlagKind::{Bool, String as S, Strings};
        let kw = node.keyword.to_uppercase();
        let args = &node.args;
        let arity = |cond: bool, instruction: &'static str, expected: &'static str| {
            if cond {
                Ok(())
            } else {
                Err(err_at(
                    node,
                    ErrorKind::Arguments {
                        instruction,
                        expected,
                    },
                ))
            }
        };
        let no_flags = || Flags::parse(&node.flags, &[]);
        let one = |name: &'static str| -> Result<String, Error> {
            no_flags()?;
            arity(args.len() == 1, name, "exactly one argument")?;
            Ok(args[0].value.clone())
        };
        Ok(match kw.as_str() {
            "FROM" => {
                let f = Flags::parse(&node.flags, &[("platform", S)])?;
                let n = args.len();
                arity(
                    n == 1 || (n == 3 && args[1].value.eq_ignore_ascii_case("as")),
                    "FROM",
                    "either one or three arguments",
                )?;
                let name = args.get(2).map(|w| w.value.to_lowercase());
                if let Some(name) = &name
                    && !valid_stage_name(name)
                {
                    return Err(Error::new(
                        args[2].span.start,
                        ErrorKind::InvalidStageName { name: name.clone() },
                    ));
                }
                Instruction::From(From {
                    image: args[0].value.clone(),
                    platform: f.string("platform"),
                    name,
                    name_as_written: args.get(2).map(|w| w.value.clone()),
                    as_keyword: args.get(1).map(|w| w.value.clone()),
                })
            }
            "RUN" => {
                let f = Flags::parse(
                    &node.flags,
                    &[
                        ("mount", Strings),
                        ("network", S),
                        ("security", S),
                        ("device", Strings),
                    ],
                )?;
                let mut devices = Vec::new();
                for spec in f.strings("device") {
                    let mut parts = spec.split(',');
                    let name = parts.next().unwrap_or_default().to_owned();
                    let mut required = false;
                    for p in parts {
                        required = match p {
                            "required" | "required=true" => true,
                            "required=false" => false,
                            _ => {
                                return Err(err_at(
                                    node,
                                    invalid_flag("device", &spec, "expected NAME[,required]"),
                                ));
                            }
                        };
                    }
                    if name.is_empty() {
                        return Err(err_at(
                            node,
                            invalid_flag("device", &spec, "expected NAME[,required]"),
                        ));
                    }
                    devices.push((name, required));
                }
                arity(!args.is_empty(), "RUN", "at least one argument")?;
                let mount_specs = f.strings("mount");
                let mut mounts = Vec::new();
                for spec in &mount_specs {
                    mounts.push(parse_mount(spec, None).map_err(|reason| {
                        err_at(
                            node,
                            ErrorKind::InvalidMount {
                                spec: spec.clone(),
                                reason,
                            },
                        )
                    })?);
                }
                let network = f.string("network");
                if let Some(n) = &network
                    && !matches!(n.as_str(), "default" | "none" | "host")
                {
                    return Err(err_at(
                        node,
                        invalid_flag("network", n, "expected default, none or host"),
                    ));
                }
                let security = f.string("security");
                if let Some(s) = &security
                    && !matches!(s.as_str(), "sandbox" | "insecure")
                {
                    return Err(err_at(
                        node,
                        invalid_flag("security", s, "expected sandbox or insecure"),
                    ));
                }
                Instruction::Run(Run {
                    command: command(node, args),
                    mount_specs,
                    mounts,
                    network,
                    security,
                    devices,
                    heredocs: node.heredocs.clone(),
                })
            }
            "CMD" => {
                no_flags()?;
                Instruction::Cmd(command(node, args))
            }
            "ENTRYPOINT" => {
                no_flags()?;
                Instruction::Entrypoint(command(node, args))
            }
            "SHELL" => {
                no_flags()?;
                if !node.json {
                    return Err(err_at(
                        node,
                        ErrorKind::InvalidArgument {
                            instruction: "SHELL",
                            reason: "requires the arguments to be in JSON form".to_owned(),
                        },
                    ));
                }
                arity(!args.is_empty(), "SHELL", "at least one argument")?;
                Instruction::Shell(values(args))
            }
            "LABEL" | "ENV" => {
                no_flags()?;
                let name = if kw == "ENV" { "ENV" } else { "LABEL" };
                arity(!args.is_empty(), name, "at least one argument")?;
                let kvs = args
                    .chunks(3)
                    .map(|c| KeyValue {
                        key: c[0].value.clone(),
                        value: c.get(1).map(|w| w.value.clone()).unwrap_or_default(),
                        legacy: c.get(2).is_some_and(|w| w.value.is_empty()),
                    })
                    .collect();
                if kw == "ENV" {
                    Instruction::Env(kvs)
                } else {
                    Instruction::Label(kvs)
                }
            }
            "MAINTAINER" => Instruction::Maintainer(one("MAINTAINER")?),
            "EXPOSE" => {
                no_flags()?;
                arity(!args.is_empty(), "EXPOSE", "at least one argument")?;
                Instruction::Expose(values(args))
            }
            "ADD" | "COPY" => {
                let add = kw == "ADD";
                let spec: &[(&'static str, FlagKind)] = if add {
                    &[
                        ("chown", S),
                        ("chmod", S),
                        ("link", Bool),
                        ("exclude", Strings),
                        ("checksum", S),
                        ("keep-git-dir", Bool),
                        ("unpack", Bool),
                    ]
                } else {
                    &[
                        ("from", S),
                        ("chown", S),
                        ("chmod", S),
                        ("link", Bool),
                        ("exclude", Strings),
                        ("parents", Bool),
                    ]
                };
                let f = Flags::parse(&node.flags, spec)?;
                let name = if add { "ADD" } else { "COPY" };
                arity(args.len() >= 2, name, "at least two arguments")?;
                let (dest, sources) = args
                    .split_last()
                    .map(|(d, s)| (d.value.clone(), values(s)))
                    .unwrap_or_default();
                let c = Copy {
                    sources,
                    dest,
                    from: f.string("from"),
                    chown: f.string("chown"),
                    chmod: f.string("chmod"),
                    link: f.bool("link").unwrap_or(false),
                    excludes: f.strings("exclude"),
                    parents: f.bool("parents").unwrap_or(false),
                    checksum: f.string("checksum"),
                    keep_git_dir: f.bool("keep-git-dir"),
                    unpack: f.bool("unpack"),
                    heredocs: node.heredocs.clone(),
                    json: node.json,
                };
                if add {
                    Instruction::Add(c)
                } else {
                    Instruction::Copy(c)
                }
            }
            "VOLUME" => {
                no_flags()?;
                arity(!args.is_empty(), "VOLUME", "at least one argument")?;
                Instruction::Volume(values(args))
            }
            "USER" => Instruction::User(one("USER")?),
            "WORKDIR" => Instruction::Workdir(one("WORKDIR")?),
            "STOPSIGNAL" => Instruction::StopSignal(one("STOPSIGNAL")?),
            "ARG" => {
                no_flags()?;
                arity(!args.is_empty(), "ARG", "at least one argument")?;
                Instruction::Arg(
                    args.iter()
                        .map(|w| match w.value.split_once('=') {
                            Some((n, d)) => ArgDecl {
                                name: n.to_owned(),
                                default: Some(d.to_owned()),
                            },
                            None => ArgDecl {
                                name: w.value.clone(),
                                default: None,
                            },
                        })
                        .collect(),
                )
            }
            "ONBUILD" => {
                no_flags()?;
                let Some(sub) = &node.sub else {
                    return Err(err_at(
                        node,
                        ErrorKind::Arguments {
                            instruction: "ONBUILD",
                            expected: "at least one argument",
                        },
                    ));
                };
                let inner = sub.keyword.to_uppercase();
                if matches!(inner.as_str(), "ONBUILD" | "FROM" | "MAINTAINER") {
                    return Err(Error::new(
                        sub.keyword_span.start,
                        ErrorKind::BadOnbuild { instruction: inner },
                    ));
                }
                let mut sub = (**sub).clone();
                sub.heredocs.clone_from(&node.heredocs);
                Instruction::Onbuild(Box::new(Located::from_node(&sub)?))
            }
            "HEALTHCHECK" => healthcheck(node)?,
            _ => {
                return Err(err_at(
                    node,
                    ErrorKind::UnknownInstruction {
                        name: node.keyword.clone(),
                        suggestion: suggest(&kw),
                    },
                ));
            }
        })
    }
}

fn invalid_flag(flag: &str, value: &str, reason: &str) -> ErrorKind {
    ErrorKind::InvalidFlagValue {
        flag: flag.to_owned(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

fn healthcheck(node: &Node) -> Result<Instruction, Error> {
    use FlagKind::String as S;
    let f = Flags::parse(
        &node.flags,
        &[
            ("interval", S),
            ("timeout", S),
            ("start-period", S),
            ("start-interval", S),
            ("retries", S),
        ],
    )?;
    let Some((typ, rest)) = node.args.split_first() else {
        return Err(err_at(
            node,
            ErrorKind::Arguments {
                instruction: "HEALTHCHECK",
                expected: "at least one argument",
            },
        ));
    };
    let invalid = |reason: String| {
        err_at(
            node,
            ErrorKind::InvalidArgument {
                instruction: "HEALTHCHECK",
                reason,
            },
        )
    };
    match typ.value.to_uppercase().as_str() {
        "NONE" => {
            if !rest.is_empty() {
                return Err(invalid("HEALTHCHECK NONE takes no arguments".to_owned()));
            }
            Ok(Instruction::Healthcheck(Healthcheck::None))
        }
        "CMD" => {
            if rest.is_empty() || (!node.json && rest[0].value.is_empty()) {
                return Err(invalid("missing command after HEALTHCHECK CMD".to_owned()));
            }
            let dur = |name: &str| -> Result<Option<Duration>, Error> {
                f.string(name)
                    .map(|v| {
                        parse_duration(&v)
                            .map_err(|reason| err_at(node, invalid_flag(name, &v, &reason)))
                    })
                    .transpose()
            };
            let retries = f
                .string("retries")
                .map(|v| {
                    v.parse::<u32>()
                        .map_err(|e| err_at(node, invalid_flag("retries", &v, &e.to_string())))
                })
                .transpose()?;
            Ok(Instruction::Healthcheck(Healthcheck::Cmd {
                command: command(node, rest),
                interval: dur("interval")?,
                timeout: dur("timeout")?,
                start_period: dur("start-period")?,
                start_interval: dur("start-interval")?,
                retries,
            }))
        }
        other => Err(invalid(format!(
            "unknown type {other:?} in HEALTHCHECK (try CMD)"
        ))),
    }
}

/// Go's `time.ParseDuration` for the units Docker accepts (`ns us µs ms s m h`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = s;
    let mut total = 0f64;
    if rest.is_empty() {
        return Err("empty duration".to_owned());
    }
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if n == 0 {
            return Err(format!("invalid duration {s:?}"));
        }
        let value: f64 = rest[..n]
            .parse()
            .map_err(|_| format!("invalid duration {s:?}"))?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let secs = match &rest[..u] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(format!("missing or unknown unit in duration {s:?}")),
        };
        rest = &rest[u..];
        total += value * secs;
    }
    Duration::try_from_secs_f64(total).map_err(|e| e.to_string())
}

/// `^[a-z][a-z0-9-_.]*$`.
pub(crate) fn valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

/// The closest keyword within edit distance 2, for "did you mean".
fn suggest(word: &str) -> Option<&'static str> {
    KEYWORDS
        .iter()
        .map(|k| (levenshtein(word, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
