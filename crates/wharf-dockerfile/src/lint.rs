//! BuildKit's build checks: each [`Finding`] has BuildKit's rule name, a line, a
//! message and a one-line fix. `# check=skip=Rule1,Rule2` (or `skip=all`) and
//! `# check=error=true` are honoured through [`Options::from_dockerfile`].
//!
//! ```
//! use wharf_dockerfile::{parse, lint};
//! let df = parse("from alpine AS Build\nMAINTAINER me\nCMD echo hi\n").unwrap();
//! let rules: Vec<_> = lint::check(&df, &lint::Options::from_dockerfile(&df))
//!     .into_iter().map(|f| f.rule).collect();
//! assert!(rules.contains(&"StageNameCasing"));
//! assert!(rules.contains(&"MaintainerDeprecated"));
//! assert!(rules.contains(&"JSONArgsRecommended"));
//! assert!(rules.contains(&"ConsistentInstructionCasing"));
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

use crate::instruction::{Command, Instruction, Located};
use crate::shell::Lexer;
use crate::syntax::Dockerfile;

/// Every rule this module checks, by BuildKit name.
pub const RULES: &[&str] = &[
    "JSONArgsRecommended",
    "LegacyKeyValueFormat",
    "StageNameCasing",
    "FromAsCasing",
    "FromPlatformFlagConstDisallowed",
    "UndefinedArgInFrom",
    "MaintainerDeprecated",
    "DuplicateStageName",
    "ReservedStageName",
    "WorkdirRelativePath",
    "ConsistentInstructionCasing",
    "MultipleInstructionsDisallowed",
    "NoEmptyContinuation",
    "SecretsUsedInArgOrEnv",
    "CopyAbsoluteSource",
];

/// One check result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// BuildKit's rule name.
    pub rule: &'static str,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it, in one line.
    pub fix: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {} (fix: {})",
            self.line, self.rule, self.message, self.fix
        )
    }
}

/// Which rules run and whether findings fail the build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Rules to skip (BuildKit names).
    pub skip: BTreeSet<String>,
    /// Skip every rule (`skip=all`).
    pub skip_all: bool,
    /// Findings are errors (`error=true`).
    pub error: bool,
}

impl Options {
    /// Reads the `# check=` directive: `skip=A,B;error=true`.
    pub fn from_dockerfile(df: &Dockerfile) -> Self {
        df.directive("check").map(Self::parse).unwrap_or_default()
    }

    /// Parses a `check` directive value.
    pub fn parse(value: &str) -> Self {
        let mut o = Self::default();
        for part in value.split(';') {
            let Some((k, v)) = part.split_once('=') else {
                continue;
            };
            match k.trim().to_lowercase().as_str() {
                "skip" => {
                    for rule in v.split(',').map(str::trim).filter(|r| !r.is_empty()) {
                        if rule.eq_ignore_ascii_case("all") {
                            o.skip_all = true;
                        } else {
                            o.skip.insert(rule.to_owned());
                        }
                    }
                }
                "error" => o.error = v.trim().eq_ignore_ascii_case("true"),
                _ => {}
            }
        }
        o
    }

    fn enabled(&self, rule: &str) -> bool {
        !self.skip_all && !self.skip.contains(rule)
    }
}

static SECRET: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)").ok()
});

const PLATFORM_ARGS: &[&str] = &[
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
];

struct Linter<'a> {
    opts: &'a Options,
    out: Vec<Finding>,
}

impl Linter<'_> {
    fn add(&mut self, rule: &'static str, line: usize, message: String, fix: impl Into<String>) {
        if self.opts.enabled(rule) {
            self.out.push(Finding {
                rule,
                line,
                message,
                fix: fix.into(),
            });
        }
    }
}

/// Runs every enabled check on `df`. Instructions that do not parse are skipped
/// (the parse error is reported by [`crate::instruction::instructions`]).
pub fn check(df: &Dockerfile, opts: &Options) -> Vec<Finding> {
    let mut l = Linter {
        opts,
        out: Vec::new(),
    };
    let all: Vec<Located> = df
        .nodes
        .iter()
        .filter_map(|n| Located::from_node(n).ok())
        .collect();

    for w in &df.warnings {
        l.add(
            "NoEmptyContinuation",
            w.line,
            "Empty continuation line".to_owned(),
            "remove the blank line or end the instruction before it",
        );
    }
    casing(&mut l, &all);

    let lexer = Lexer::new(df.escape);
    let mut meta: Vec<String> = PLATFORM_ARGS.iter().map(|s| (*s).to_owned()).collect();
    let mut stage_names: Vec<(String, usize)> = Vec::new();
    let mut in_stage = false;
    let mut workdir_set = false;
    let mut seen_cmd: Vec<&'static str> = Vec::new();
    let mut explicit_shell = false;
    let mut stage_workdir: Vec<(String, bool)> = Vec::new();
    for loc in &all {
        let line = loc.span.start.line;
        match &loc.instruction {
            Instruction::From(f) => {
                in_stage = true;
                seen_cmd.clear();
                explicit_shell = false;
                // A stage built on a stage inherits its working directory.
                workdir_set = stage_workdir
                    .iter()
                    .any(|(n, set)| *set && n.eq_ignore_ascii_case(&f.image));
                stage_workdir.push((f.name.clone().unwrap_or_default(), workdir_set));
                from_checks(&mut l, &lexer, &meta, loc, f, line);
                if let Some(name) = &f.name {
                    if let Some((_, first)) = stage_names.iter().find(|(n, _)| n == name) {
                        l.add(
                            "DuplicateStageName",
                            line,
                            format!("Duplicate stage name {name:?}, stage names should be unique (first on line {first})"),
                            "rename one of the stages",
                        );
                    }
                    stage_names.push((name.clone(), line));
                }
            }
            Instruction::Arg(decls) => {
                for d in decls {
                    if !in_stage {
                        meta.push(d.name.clone());
                    }
                    secret(&mut l, "ARG", &d.name, line);
                }
            }
            Instruction::Env(kvs) | Instruction::Label(kvs) => {
                let kw = if matches!(loc.instruction, Instruction::Env(_)) {
                    "ENV"
                } else {
                    "LABEL"
                };
                if kvs.iter().any(|kv| kv.legacy) {
                    l.add(
                        "LegacyKeyValueFormat",
                        line,
                        format!("\"{kw} key=value\" should be used instead of legacy \"{kw} key value\" format"),
                        format!("write {kw} {}={}", kvs[0].key, quote_if_needed(&kvs[0].value)),
                    );
                }
                if kw == "ENV" {
                    for kv in kvs {
                        secret(&mut l, "ENV", &kv.key, line);
                    }
                }
            }
            Instruction::Maintainer(_) => l.add(
                "MaintainerDeprecated",
                line,
                "Maintainer instruction is deprecated in favor of using label".to_owned(),
                "use LABEL org.opencontainers.image.authors=\"...\"",
            ),
            Instruction::Shell(_) => explicit_shell = true,
            Instruction::Cmd(c) | Instruction::Entrypoint(c) => {
                let kw = if matches!(loc.instruction, Instruction::Cmd(_)) {
                    "CMD"
                } else {
                    "ENTRYPOINT"
                };
                if let Command::Shell(s) = c
                    && !explicit_shell
                    && !s.is_empty()
                {
                    l.add(
                        "JSONArgsRecommended",
                        line,
                        format!("JSON arguments recommended for {kw} to prevent unintended behavior related to OS signals"),
                        format!("write {kw} [\"sh\", \"-c\", \"...\"] or list the arguments as a JSON array"),
                    );
                }
                multiple(&mut l, &mut seen_cmd, kw, line);
            }
            Instruction::Healthcheck(_) => multiple(&mut l, &mut seen_cmd, "HEALTHCHECK", line),
            Instruction::Workdir(w) => {
                if w.starts_with('/') || w.starts_with('$') {
                    workdir_set = true;
                } else if !workdir_set {
                    l.add(
                        "WorkdirRelativePath",
                        line,
                        format!("Relative workdir {w:?} can have unexpected results if the base image changes"),
                        format!("use an absolute path, e.g. WORKDIR /{w}"),
                    );
                }
            }
            Instruction::Copy(c) if c.from.is_none() => {
                for s in c.sources.iter().filter(|s| s.starts_with('/')) {
                    l.add(
                        "CopyAbsoluteSource",
                        line,
                        format!(
                            "COPY source {s:?} is absolute but is resolved inside the build context"
                        ),
                        format!(
                            "write it relative to the context: {}",
                            s.trim_start_matches('/')
                        ),
                    );
                }
            }
            _ => {}
        }
        if let Some(last) = stage_workdir.last_mut() {
            last.1 = workdir_set;
        }
    }
    l.out.sort_by_key(|f| f.line);
    l.out
}

fn quote_if_needed(v: &str) -> String {
    if v.contains(char::is_whitespace) && !v.starts_with('"') {
        format!("{v:?}")
    } else {
        v.to_owned()
    }
}

fn multiple(l: &mut Linter<'_>, seen: &mut Vec<&'static str>, kw: &'static str, line: usize) {
    if seen.contains(&kw) {
        l.add(
            "MultipleInstructionsDisallowed",
            line,
            format!("Multiple {kw} instructions should not be used in the same stage because only the last one will be used"),
            format!("keep only the last {kw}"),
        );
    } else {
        seen.push(kw);
    }
}

/// Whether a variable name looks like it holds a secret (`API_TOKEN`, `DB_PASSWORD`): BuildKit's
/// `SecretsUsedInArgOrEnv` rule. Provenance leaves such build arguments out.
pub fn looks_secret(name: &str) -> bool {
    SECRET.as_ref().is_some_and(|re| re.is_match(name))
}

fn secret(l: &mut Linter<'_>, kw: &str, name: &str, line: usize) {
    if looks_secret(name) {
        l.add(
            "SecretsUsedInArgOrEnv",
            line,
            format!("Do not use ARG or ENV instructions for sensitive data ({kw} {name:?})"),
            "pass secrets with RUN --mount=type=secret",
        );
    }
}

fn from_checks(
    l: &mut Linter<'_>,
    lexer: &Lexer,
    meta: &[String],
    loc: &Located,
    f: &crate::instruction::From,
    line: usize,
) {
    if let Some(written) = &f.name_as_written {
        if written.to_lowercase() != *written {
            l.add(
                "StageNameCasing",
                line,
                format!("Stage name '{written}' should be lowercase"),
                format!("write AS {}", written.to_lowercase()),
            );
        }
        if written.eq_ignore_ascii_case("scratch") || written.eq_ignore_ascii_case("context") {
            l.add(
                "ReservedStageName",
                line,
                format!(
                    "Stage name should not use the same name as reserved stage {:?}",
                    written.to_lowercase()
                ),
                "pick another stage name",
            );
        }
    }
    if let Some(as_kw) = &f.as_keyword {
        let from_upper = loc.keyword.to_uppercase() == loc.keyword;
        let as_upper = as_kw.to_uppercase() == *as_kw;
        let from_lower = loc.keyword.to_lowercase() == loc.keyword;
        let as_lower = as_kw.to_lowercase() == *as_kw;
        if (from_upper && !as_upper) || (from_lower && !as_lower) {
            l.add(
                "FromAsCasing",
                line,
                format!(
                    "'{as_kw}' and '{}' keywords' casing do not match",
                    loc.keyword
                ),
                if from_upper { "write AS" } else { "write as" },
            );
        }
    }
    if let Some(p) = &f.platform
        && !p.contains('$')
    {
        let arch = p.split('/').nth(1).unwrap_or(p);
        if !f.name.as_deref().is_some_and(|n| n.contains(arch)) {
            l.add(
                "FromPlatformFlagConstDisallowed",
                line,
                format!("FROM --platform flag should not use constant value {p:?}"),
                "remove --platform, or use an ARG such as $BUILDPLATFORM",
            );
        }
    }
    let lookup = |k: &str| meta.iter().any(|m| m == k).then(String::new);
    let mut undefined = BTreeSet::new();
    for w in std::iter::once(&f.image).chain(f.platform.as_ref()) {
        if let Ok(e) = lexer.process(w, &lookup) {
            undefined.extend(e.unmatched);
        }
    }
    for name in undefined {
        l.add(
            "UndefinedArgInFrom",
            line,
            format!("FROM argument '{name}' is not declared"),
            format!("declare it before the first FROM: ARG {name}"),
        );
    }
}

/// ConsistentInstructionCasing: keywords should all follow the majority case.
fn casing(l: &mut Linter<'_>, all: &[Located]) {
    let consistent = |s: &str| s == s.to_lowercase() || s == s.to_uppercase();
    let keywords: Vec<(&str, usize)> = all
        .iter()
        .flat_map(|loc| {
            let mut v = vec![(loc.keyword.as_str(), loc.span.start.line)];
            if let Instruction::Onbuild(inner) = &loc.instruction {
                v.push((inner.keyword.as_str(), loc.span.start.line));
            }
            v
        })
        .collect();
    let lower = keywords
        .iter()
        .filter(|(k, _)| consistent(k) && k.to_lowercase() == *k)
        .count();
    let upper = keywords
        .iter()
        .filter(|(k, _)| consistent(k) && k.to_lowercase() != *k)
        .count();
    let majority_lower = lower > upper;
    for (k, line) in keywords {
        let is_lower = k.to_lowercase() == k;
        if !consistent(k) || is_lower != majority_lower {
            let (case, fixed) = if majority_lower {
                ("lowercase", k.to_lowercase())
            } else {
                ("uppercase", k.to_uppercase())
            };
            l.add(
                "ConsistentInstructionCasing",
                line,
                format!("Command '{k}' should match the case of the command majority ({case})"),
                format!("write {fixed}"),
            );
        }
    }
}
