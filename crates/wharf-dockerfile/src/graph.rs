//! The stage graph: which stages and images each stage needs (`FROM <stage>`,
//! `COPY --from=`, `RUN --mount=from=`), cycle detection, and pruning for `--target`.

use crate::error::{Error, ErrorKind};
use crate::instruction::{Instruction, Located};
use crate::span::Pos;
use crate::stage::Stage;

/// How a stage uses another stage or an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepKind {
    /// `FROM <stage>`.
    Base,
    /// `COPY --from=`.
    CopyFrom,
    /// `RUN --mount=from=`.
    MountFrom,
}

/// What a dependency points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepTarget {
    /// Another stage, by index.
    Stage(usize),
    /// An image reference.
    Image(String),
}

/// One dependency of a stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dep {
    /// How it is used.
    pub kind: DepKind,
    /// What it points at.
    pub target: DepTarget,
    /// Where it is written.
    pub pos: Pos,
}

/// Resolves `reference` (a stage name, a stage index or an image) as seen from any stage.
fn resolve(stages: &[Stage], reference: &str, pos: Pos) -> Result<DepTarget, Error> {
    let lower = reference.to_lowercase();
    if let Some(s) = stages
        .iter()
        .find(|s| s.name.as_deref() == Some(lower.as_str()))
    {
        return Ok(DepTarget::Stage(s.index));
    }
    if !reference.is_empty() && reference.bytes().all(|b| b.is_ascii_digit()) {
        return match reference.parse::<usize>() {
            Ok(i) if i < stages.len() => Ok(DepTarget::Stage(i)),
            _ => Err(Error::new(
                pos,
                ErrorKind::UnknownStage {
                    name: reference.to_owned(),
                },
            )),
        };
    }
    Ok(DepTarget::Image(reference.to_owned()))
}

/// The dependencies of stage `index`, given its instructions (preferably expanded).
pub fn deps<'a>(
    stages: &[Stage],
    index: usize,
    instructions: impl Iterator<Item = &'a Located>,
) -> Result<Vec<Dep>, Error> {
    let mut out = Vec::new();
    if let Some(stage) = stages.get(index) {
        let pos = stage.from.span.start;
        let target = match stage.base_stage {
            Some(b) => DepTarget::Stage(b),
            None => DepTarget::Image(stage.base.clone()),
        };
        if stage.base != "scratch" || stage.base_stage.is_some() {
            out.push(Dep {
                kind: DepKind::Base,
                target,
                pos,
            });
        }
    }
    for loc in instructions {
        let pos = loc.span.start;
        match &loc.instruction {
            Instruction::Copy(c) => {
                if let Some(from) = &c.from {
                    out.push(Dep {
                        kind: DepKind::CopyFrom,
                        target: resolve(stages, from, pos)?,
                        pos,
                    });
                }
            }
            Instruction::Run(r) => {
                for m in &r.mounts {
                    if let Some(from) = &m.from {
                        out.push(Dep {
                            kind: DepKind::MountFrom,
                            target: resolve(stages, from, pos)?,
                            pos,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Fails when stages depend on each other in a cycle, naming the stages and the line.
pub fn check_cycles(stages: &[Stage]) -> Result<(), Error> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    fn label(s: &Stage) -> String {
        s.name.clone().unwrap_or_else(|| s.index.to_string())
    }
    fn visit(
        stages: &[Stage],
        i: usize,
        marks: &mut [Mark],
        path: &mut Vec<usize>,
    ) -> Result<(), Error> {
        marks[i] = Mark::Active;
        path.push(i);
        for d in &stages[i].deps {
            let DepTarget::Stage(j) = d.target else {
                continue;
            };
            match marks[j] {
                Mark::Active => {
                    let start = path.iter().position(|&p| p == j).unwrap_or(0);
                    let mut names: Vec<String> =
                        path[start..].iter().map(|&p| label(&stages[p])).collect();
                    names.push(label(&stages[j]));
                    return Err(Error::new(
                        d.pos,
                        ErrorKind::StageCycle {
                            path: names.join(" -> "),
                        },
                    ));
                }
                Mark::New => visit(stages, j, marks, path)?,
                Mark::Done => {}
            }
        }
        path.pop();
        marks[i] = Mark::Done;
        Ok(())
    }
    let mut marks = vec![Mark::New; stages.len()];
    for i in 0..stages.len() {
        if marks[i] == Mark::New {
            visit(stages, i, &mut marks, &mut Vec::new())?;
        }
    }
    Ok(())
}

/// The stages `target` needs, itself included, in ascending order.
pub fn needed(stages: &[Stage], target: usize) -> Vec<usize> {
    let mut seen = vec![false; stages.len()];
    let mut stack = vec![target];
    while let Some(i) = stack.pop() {
        if i >= stages.len() || seen[i] {
            continue;
        }
        seen[i] = true;
        for d in &stages[i].deps {
            if let DepTarget::Stage(j) = d.target {
                stack.push(j);
            }
        }
    }
    seen.iter()
        .enumerate()
        .filter(|(_, s)| **s)
        .map(|(i, _)| i)
        .collect()
}
