//! `kiln parse [--dump] FILE`: parse a Dockerfile the way BuildKit does.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use wharf_dockerfile::instruction::{self, Instruction};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print the syntax tree in BuildKit's parse dump format, one line per instruction.
    /// Like BuildKit's parser, this checks syntax only (an unknown instruction dumps as
    /// `(name "")`); without --dump every instruction is checked as a build would
    #[arg(long)]
    pub dump: bool,
    /// The Dockerfile to parse
    #[arg(default_value = "Dockerfile")]
    pub file: PathBuf,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let name = args.file.display().to_string();
    let src = std::fs::read(&args.file).with_context(|| format!("reading {name}"))?;
    let df =
        wharf_dockerfile::parse_bytes(&src).map_err(|e| anyhow::anyhow!("{}", e.in_file(&name)))?;
    let mut out = std::io::stdout().lock();
    if args.dump {
        out.write_all(wharf_dockerfile::dump_buildkit(&df).as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let instructions =
        instruction::instructions(&df).map_err(|e| anyhow::anyhow!("{}", e.in_file(&name)))?;
    let stages = instructions
        .iter()
        .filter(|l| matches!(l.instruction, Instruction::From(_)))
        .count();
    writeln!(
        out,
        "{name}: {} instructions, {stages} stages",
        instructions.len()
    )?;
    for w in &df.warnings {
        writeln!(out, "{name}:{}: warning: {}", w.line, w.message)?;
    }
    Ok(ExitCode::SUCCESS)
}
