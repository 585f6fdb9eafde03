//! `kiln lint [FILE]`: BuildKit's build checks on a Dockerfile.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use wharf_dockerfile::lint;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The Dockerfile to check
    #[arg(default_value = "Dockerfile")]
    pub file: PathBuf,
    /// Rules to skip (comma-separated BuildKit rule names, or `all`), added to `# check=skip=`
    #[arg(long, value_delimiter = ',')]
    pub skip: Vec<String>,
    /// Exit with status 1 when there are findings, as `# check=error=true` does
    #[arg(long)]
    pub error: bool,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let name = args.file.display().to_string();
    let src = std::fs::read(&args.file).with_context(|| format!("reading {name}"))?;
    let df =
        wharf_dockerfile::parse_bytes(&src).map_err(|e| anyhow::anyhow!("{}", e.in_file(&name)))?;
    wharf_dockerfile::instruction::instructions(&df)
        .map_err(|e| anyhow::anyhow!("{}", e.in_file(&name)))?;
    let mut opts = lint::Options::from_dockerfile(&df);
    for rule in &args.skip {
        if rule.eq_ignore_ascii_case("all") {
            opts.skip_all = true;
        } else {
            opts.skip.insert(rule.clone());
        }
    }
    opts.error |= args.error;
    let findings = lint::check(&df, &opts);
    let mut out = std::io::stdout().lock();
    for f in &findings {
        writeln!(
            out,
            "{name}:{}: {}: {} (fix: {})",
            f.line, f.rule, f.message, f.fix
        )?;
    }
    Ok(if opts.error && !findings.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
