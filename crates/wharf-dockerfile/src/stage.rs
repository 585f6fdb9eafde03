//! Build stages with ARG/ENV scoping and variable expansion, as BuildKit's
//! `dockerfile2llb` applies them.
//!
//! - ARGs before the first FROM ("meta args") are visible only to FROM lines, unless a
//!   stage redeclares them (`ARG NAME` without a default takes the global value).
//! - `--build-arg` values override ARG defaults; a build arg that no ARG consumes is
//!   reported in [`Plan::warnings`] (proxy args are exempt and reach RUN anyway).
//! - The predefined `TARGET*` and `BUILD*` ARGs are set for FROM lines, and in a stage once
//!   declared.
//! - ENV overrides ARG of the same name; a stage built `FROM` another stage inherits
//!   its ENV and ARGs.
//! - RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER and ONBUILD are not expanded
//!   (the shell does that at run time); everything else is.

use std::collections::BTreeMap;

use crate::error::{Error, ErrorKind};
use crate::graph::{self, Dep};
use crate::instruction::{self, ArgDecl, Instruction, KeyValue, Located};
use crate::mount::parse_mount;
use crate::platform::Platform;
use crate::shell::{Expansion, Lexer};
use crate::span::Pos;
use crate::syntax::Dockerfile;

/// Build arguments that need no ARG declaration: they are passed to RUN when given.
pub const PROXY_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// What the build asks for.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// `--build-arg NAME=VALUE`.
    pub build_args: BTreeMap<String, String>,
    /// `--platform`; the host platform when `None`.
    pub target_platform: Option<Platform>,
    /// The platform the build runs on; the host platform when `None`.
    pub build_platform: Option<Platform>,
    /// `--target`; the last stage when `None`.
    pub target: Option<String>,
}

/// A non-fatal finding of planning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Line concerned, 0 when the warning is not about one line.
    pub line: usize,
    /// The message.
    pub message: String,
}

/// One `FROM` and the instructions that follow it.
#[derive(Debug, Clone)]
pub struct Stage {
    /// Position among all stages (what `COPY --from=N` counts).
    pub index: usize,
    /// `AS name`, lower-cased.
    pub name: Option<String>,
    /// The base after expansion with the global ARGs (image reference, stage name or `scratch`).
    pub base: String,
    /// The stage `base` names, if it names one.
    pub base_stage: Option<usize>,
    /// `--platform` after expansion.
    pub platform: Option<String>,
    /// The FROM instruction as written.
    pub from: Located,
    /// The instructions after FROM, as written.
    pub instructions: Vec<Located>,
    /// Stages and images this stage needs.
    pub deps: Vec<Dep>,
}

/// An instruction with its values expanded.
#[derive(Debug, Clone)]
pub struct Expanded {
    /// The instruction; for ARG, each default holds the value in effect (`None`: unset).
    pub located: Located,
    /// ARG values (and given proxy args) that RUN sees as environment variables,
    /// excluding names that ENV sets.
    pub run_env: Vec<(String, String)>,
}

/// A stage with all its instructions expanded.
#[derive(Debug, Clone)]
pub struct ExpandedStage {
    /// The instructions in order (FROM not included).
    pub instructions: Vec<Expanded>,
    /// ENV at the end of the stage (base environment included).
    pub env: Vec<(String, String)>,
    /// ARG values in scope at the end of the stage.
    pub args: Vec<(String, Option<String>)>,
}

/// The stages of a Dockerfile under given build options.
#[derive(Debug, Clone)]
pub struct Plan {
    /// All stages, in file order.
    pub stages: Vec<Stage>,
    /// Index of the stage to build.
    pub target: usize,
    /// Stages the target needs (itself included), ascending; the others are pruned.
    pub needed: Vec<usize>,
    /// Global ARGs (before the first FROM) with their values.
    pub global_args: Vec<(String, Option<String>)>,
    /// Build args that were not consumed, and similar.
    pub warnings: Vec<Warning>,
    escape: char,
    /// Predefined platform ARGs and `--build-arg` values.
    arg_values: BTreeMap<String, String>,
}

/// Splits `df` into stages, expands FROM lines, resolves the stage graph and prunes
/// for the target.
pub fn plan(df: &Dockerfile, opts: &BuildOptions) -> Result<Plan, Error> {
    let all = instruction::instructions(df)?;
    let lexer = Lexer::new(df.escape);
    let target_p = opts.target_platform.clone().unwrap_or_default();
    let build_p = opts.build_platform.clone().unwrap_or_default();
    let mut defaults = BTreeMap::new();
    for (prefix, p) in [("TARGET", &target_p), ("BUILD", &build_p)] {
        defaults.insert(format!("{prefix}PLATFORM"), p.to_string());
        defaults.insert(format!("{prefix}OS"), p.os.clone());
        defaults.insert(format!("{prefix}ARCH"), p.arch.clone());
        defaults.insert(format!("{prefix}VARIANT"), p.variant.clone());
    }
    let mut arg_values = defaults.clone();
    arg_values.extend(opts.build_args.clone());

    // Global scope: predefined platform ARGs, then meta ARGs in order.
    let mut global: Vec<(String, Option<String>)> = Vec::new();
    let mut global_env: BTreeMap<String, String> = defaults;
    let mut iter = all.into_iter().peekable();
    while let Some(loc) = iter.next_if(|l| !matches!(l.instruction, Instruction::From(_))) {
        let Instruction::Arg(decls) = &loc.instruction else {
            return Err(Error::new(loc.span.start, ErrorKind::NoStage));
        };
        for d in decls {
            let value = match (opts.build_args.get(&d.name), &d.default) {
                (Some(v), _) => Some(v.clone()),
                (None, Some(def)) => {
                    Some(expand(&lexer, def, loc.span.start, &|k| global_env.get(k).cloned())?.word)
                }
                (None, None) => None,
            };
            if let Some(v) = &value {
                global_env.insert(d.name.clone(), v.clone());
            } else {
                global_env.remove(&d.name);
            }
            global.retain(|(k, _)| k != &d.name);
            global.push((d.name.clone(), value));
        }
    }

    let mut stages: Vec<Stage> = Vec::new();
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    while let Some(from_loc) = iter.next() {
        let Instruction::From(from) = &from_loc.instruction else {
            return Err(Error::new(from_loc.span.start, ErrorKind::NoStage));
        };
        let lookup = |k: &str| global_env.get(k).cloned();
        let base = expand(&lexer, &from.image, from_loc.span.start, &lookup)?.word;
        if base.is_empty() {
            return Err(Error::new(
                from_loc.span.start,
                ErrorKind::BlankBaseName {
                    name: from.image.clone(),
                },
            ));
        }
        let platform = match &from.platform {
            Some(p) => Some(expand(&lexer, p, from_loc.span.start, &lookup)?.word),
            None => None,
        };
        let index = stages.len();
        if let Some(name) = &from.name {
            if let Some(&first) = names.get(name) {
                return Err(Error::new(
                    from_loc.span.start,
                    ErrorKind::DuplicateStage {
                        name: name.clone(),
                        first_line: stages[first].from.span.start.line,
                    },
                ));
            }
            names.insert(name.clone(), index);
        }
        let base_stage = names
            .get(&base.to_lowercase())
            .copied()
            .filter(|&i| i < index);
        let mut instructions = Vec::new();
        while let Some(loc) = iter.next_if(|l| !matches!(l.instruction, Instruction::From(_))) {
            instructions.push(loc);
        }
        stages.push(Stage {
            index,
            name: from.name.clone(),
            base,
            base_stage,
            platform,
            from: from_loc.clone(),
            instructions,
            deps: Vec::new(),
        });
    }

    let mut plan = Plan {
        stages,
        target: 0,
        needed: Vec::new(),
        global_args: global,
        warnings: Vec::new(),
        escape: df.escape,
        arg_values,
    };
    // Dependencies come from expanded `--from` values; a stage whose expansion fails
    // falls back to the values as written, and fails the build only if it is needed.
    let mut failures: BTreeMap<usize, Error> = BTreeMap::new();
    // Stages are expanded in file order so that a stage built on another reuses its
    // result (a base stage always comes first).
    let mut done: Vec<Option<ExpandedStage>> = Vec::with_capacity(plan.stages.len());
    for i in 0..plan.stages.len() {
        let scope = match plan.stages[i].base_stage {
            Some(b) => done.get(b).and_then(Option::as_ref).map(Scope::after),
            None => Some(Scope::default()),
        };
        // A stage whose base failed is skipped: the base's error is reported first.
        let expanded = scope.map(|scope| plan.expand_stage(i, scope));
        let deps = match &expanded {
            Some(Ok(e)) => graph::deps(&plan.stages, i, e.instructions.iter().map(|x| &x.located)),
            _ => graph::deps(&plan.stages, i, plan.stages[i].instructions.iter()),
        };
        plan.stages[i].deps = deps?;
        done.push(match expanded {
            Some(Ok(e)) => Some(e),
            Some(Err(e)) => {
                failures.insert(i, e);
                None
            }
            None => None,
        });
    }
    graph::check_cycles(&plan.stages)?;
    plan.target = match &opts.target {
        Some(t) => plan
            .stages
            .iter()
            .position(|s| s.name.as_deref() == Some(t.to_lowercase().as_str()))
            .ok_or_else(|| {
                Error::new(Pos::new(0, 0), ErrorKind::UnknownTarget { name: t.clone() })
            })?,
        None => plan.stages.len().saturating_sub(1),
    };
    plan.needed = graph::needed(&plan.stages, plan.target);
    if let Some(e) = plan.needed.iter().find_map(|i| failures.remove(i)) {
        return Err(e);
    }
    plan.warnings = unused_build_args(&plan, opts);
    Ok(plan)
}

fn unused_build_args(plan: &Plan, opts: &BuildOptions) -> Vec<Warning> {
    let mut declared: Vec<&str> = plan.global_args.iter().map(|(k, _)| k.as_str()).collect();
    for &i in &plan.needed {
        for loc in &plan.stages[i].instructions {
            if let Instruction::Arg(decls) = &loc.instruction {
                declared.extend(decls.iter().map(|d| d.name.as_str()));
            }
        }
    }
    opts.build_args
        .keys()
        .filter(|k| {
            !declared.contains(&k.as_str())
                && !PROXY_ARGS.contains(&k.as_str())
                && k.as_str() != "SOURCE_DATE_EPOCH"
                && !k.starts_with("BUILDKIT_")
        })
        .map(|k| Warning {
            line: 0,
            message: format!("build-arg {k:?} was not consumed by any ARG"),
        })
        .collect()
}

fn expand(
    lexer: &Lexer,
    word: &str,
    pos: Pos,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Expansion, Error> {
    lexer.process(word, env).map_err(|cause| {
        Error::new(
            pos,
            ErrorKind::Expand {
                word: word.to_owned(),
                cause,
            },
        )
    })
}

/// The variables visible while expanding one stage.
#[derive(Debug, Clone, Default)]
struct Scope {
    env: Vec<(String, String)>,
    args: Vec<(String, Option<String>)>,
}

impl Scope {
    fn after(e: &ExpandedStage) -> Self {
        Self {
            env: e.env.clone(),
            args: e.args.clone(),
        }
    }

    fn get(&self, k: &str) -> Option<String> {
        self.env
            .iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .or_else(|| {
                self.args
                    .iter()
                    .rev()
                    .find(|(n, _)| n == k)
                    .and_then(|(_, v)| v.clone())
            })
    }
    fn set_env(&mut self, k: String, v: String) {
        self.env.retain(|(n, _)| *n != k);
        self.env.push((k, v));
    }
    fn set_arg(&mut self, k: String, v: Option<String>) {
        self.args.retain(|(n, _)| *n != k);
        self.args.push((k, v));
    }
}

impl Plan {
    /// The stage called `name` (case-insensitive) or with index `name`.
    pub fn stage(&self, name: &str) -> Option<&Stage> {
        let lower = name.to_lowercase();
        self.stages
            .iter()
            .find(|s| s.name.as_deref() == Some(lower.as_str()))
            .or_else(|| name.parse::<usize>().ok().and_then(|i| self.stages.get(i)))
    }

    /// Expands stage `index`. `image_env` is the ENV of the image at the root of the
    /// stage's base chain (empty for `scratch`); stages built on stages inherit theirs.
    pub fn expand(
        &self,
        index: usize,
        image_env: &[(String, String)],
    ) -> Result<ExpandedStage, Error> {
        if index >= self.stages.len() {
            return Err(Error::new(
                Pos::new(0, 0),
                ErrorKind::UnknownStage {
                    name: index.to_string(),
                },
            ));
        }
        // The base chain, root first; base stages always precede, so this ends.
        let mut chain = vec![index];
        while let Some(b) = chain.last().and_then(|&i| self.stages[i].base_stage) {
            chain.push(b);
        }
        let mut scope = Scope {
            env: image_env.to_vec(),
            args: Vec::new(),
        };
        let mut last = None;
        for &i in chain.iter().rev() {
            let e = self.expand_stage(i, scope)?;
            scope = Scope::after(&e);
            last = Some(e);
        }
        last.ok_or_else(|| {
            Error::new(
                Pos::new(0, 0),
                ErrorKind::UnknownStage {
                    name: index.to_string(),
                },
            )
        })
    }

    fn expand_stage(&self, index: usize, mut scope: Scope) -> Result<ExpandedStage, Error> {
        let stage = &self.stages[index];
        let lexer = Lexer::new(self.escape);
        let mut out = Vec::with_capacity(stage.instructions.len());
        for loc in &stage.instructions {
            let pos = loc.span.start;
            let located = {
                let s = &scope;
                let word = |w: &str| expand(&lexer, w, pos, &|k| s.get(k)).map(|e| e.word);
                let mut located = loc.clone();
                located.instruction = match &loc.instruction {
                    Instruction::Arg(decls) => Instruction::Arg(decls.clone()),
                    other => self.expand_instruction(other, &lexer, &word, &|k| s.get(k), pos)?,
                };
                located
            };
            let located = match &loc.instruction {
                Instruction::Arg(decls) => {
                    let mut resolved = Vec::new();
                    for d in decls {
                        let value = if let Some(v) = self.arg_values.get(&d.name) {
                            Some(v.clone())
                        } else if let Some(def) = &d.default {
                            Some(expand(&lexer, def, pos, &|k| scope.get(k))?.word)
                        } else {
                            self.global_args
                                .iter()
                                .find(|(k, _)| *k == d.name)
                                .and_then(|(_, v)| v.clone())
                        };
                        scope.set_arg(d.name.clone(), value.clone());
                        resolved.push(ArgDecl {
                            name: d.name.clone(),
                            default: value,
                        });
                    }
                    Located {
                        instruction: Instruction::Arg(resolved),
                        ..located
                    }
                }
                Instruction::Env(_) => {
                    if let Instruction::Env(kvs) = &located.instruction {
                        for kv in kvs {
                            scope.set_env(kv.key.clone(), kv.value.clone());
                        }
                    }
                    located
                }
                _ => located,
            };
            let mut run_env: Vec<(String, String)> = scope
                .args
                .iter()
                .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
                .collect();
            for p in PROXY_ARGS {
                if let Some(v) = self.arg_values.get(*p)
                    && !run_env.iter().any(|(k, _)| k == p)
                {
                    run_env.push(((*p).to_owned(), v.clone()));
                }
            }
            run_env.retain(|(k, _)| !scope.env.iter().any(|(e, _)| e == k));
            out.push(Expanded { located, run_env });
        }
        Ok(ExpandedStage {
            instructions: out,
            env: scope.env,
            args: scope.args,
        })
    }

    #[allow(clippy::unused_self)] // kept a method: expansion rules may depend on plan options
    fn expand_instruction(
        &self,
        ins: &Instruction,
        lexer: &Lexer,
        word: &dyn Fn(&str) -> Result<String, Error>,
        env: &dyn Fn(&str) -> Option<String>,
        pos: Pos,
    ) -> Result<Instruction, Error> {
        let opt = |v: &Option<String>| v.as_deref().map(word).transpose();
        let kvs = |kvs: &[KeyValue]| -> Result<Vec<KeyValue>, Error> {
            kvs.iter()
                .map(|kv| {
                    Ok(KeyValue {
                        key: word(&kv.key)?,
                        value: word(&kv.value)?,
                        legacy: kv.legacy,
                    })
                })
                .collect()
        };
        Ok(match ins {
            Instruction::Env(v) => Instruction::Env(kvs(v)?),
            Instruction::Label(v) => Instruction::Label(kvs(v)?),
            Instruction::Add(c) | Instruction::Copy(c) => {
                let mut c = c.clone();
                c.sources = c
                    .sources
                    .iter()
                    .map(|s| word(s))
                    .collect::<Result<_, _>>()?;
                c.dest = word(&c.dest)?;
                c.from = opt(&c.from)?;
                c.chown = opt(&c.chown)?;
                c.chmod = opt(&c.chmod)?;
                c.checksum = opt(&c.checksum)?;
                c.excludes = c
                    .excludes
                    .iter()
                    .map(|s| word(s))
                    .collect::<Result<_, _>>()?;
                let mut body_lexer = lexer.clone();
                body_lexer.skip_process_quotes = true;
                for h in &mut c.heredocs {
                    if h.expand {
                        h.content = expand(&body_lexer, &h.content, pos, env)?.word;
                    }
                }
                if matches!(ins, Instruction::Add(_)) {
                    Instruction::Add(c)
                } else {
                    Instruction::Copy(c)
                }
            }
            Instruction::Expose(ports) => {
                let mut out = Vec::new();
                for p in ports {
                    out.extend(lexer.process_words(p, env).map_err(|cause| {
                        Error::new(
                            pos,
                            ErrorKind::Expand {
                                word: p.clone(),
                                cause,
                            },
                        )
                    })?);
                }
                Instruction::Expose(out)
            }
            Instruction::Volume(v) => {
                let v: Vec<String> = v.iter().map(|s| word(s)).collect::<Result<_, _>>()?;
                if v.iter().any(String::is_empty) {
                    return Err(Error::new(
                        pos,
                        ErrorKind::InvalidArgument {
                            instruction: "VOLUME",
                            reason: "volume specified can not be an empty string".to_owned(),
                        },
                    ));
                }
                Instruction::Volume(v)
            }
            Instruction::User(s) => Instruction::User(word(s)?),
            Instruction::Workdir(s) => Instruction::Workdir(word(s)?),
            Instruction::StopSignal(s) => Instruction::StopSignal(word(s)?),
            Instruction::Run(r) => {
                let mut r = r.clone();
                let expander = |v: &str| word(v).map_err(|e| e.kind.to_string());
                r.mounts = r
                    .mount_specs
                    .iter()
                    .map(|spec| {
                        parse_mount(spec, Some(&expander)).map_err(|reason| {
                            Error::new(
                                pos,
                                ErrorKind::InvalidMount {
                                    spec: spec.clone(),
                                    reason,
                                },
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?;
                Instruction::Run(r)
            }
            other => other.clone(),
        })
    }
}
