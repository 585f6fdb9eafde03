//! `berth logs [-f] [--tail N] CONTAINER`: print a detached container's output from its
//! k8s-file log, stdout lines to stdout and stderr lines to stderr.

use std::io::{BufRead as _, BufReader, Seek as _, Write as _};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::Cli;
use wharf_container as container;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep printing new output until the container exits
    #[arg(short, long)]
    pub follow: bool,
    /// Print only the last N lines
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,
    pub container: String,
}

/// Writes one log entry's text to its stream.
fn emit(entry: &[u8]) -> std::io::Result<()> {
    let text = entry.strip_suffix(b"\n").unwrap_or(entry);
    let mut fields = text.splitn(4, |b| *b == b' ');
    let (_time, stream, tag) = (fields.next(), fields.next(), fields.next());
    let msg = fields.next().unwrap_or_default();
    let newline = tag != Some(b"P".as_slice());
    let write = |w: &mut dyn std::io::Write| -> std::io::Result<()> {
        w.write_all(msg)?;
        if newline {
            w.write_all(b"\n")?;
        }
        w.flush()
    };
    if stream == Some(b"stderr".as_slice()) {
        write(&mut std::io::stderr().lock())
    } else {
        write(&mut std::io::stdout().lock())
    }
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let found = container::find(&store, &args.container)?;
    let path = found.dir.join(container::LOG);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !found.record.detached => {
            anyhow::bail!(
                "container {} ran in the foreground: its output was not logged",
                found.record.name
            )
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(e).with_context(|| format!("opening {}", path.display())),
    };
    let mut reader = BufReader::new(file);
    let mut entries: Vec<Vec<u8>> = Vec::new();
    let mut buf = Vec::new();
    while reader.read_until(b'\n', &mut buf)? > 0 {
        entries.push(std::mem::take(&mut buf));
    }
    let skip = args.tail.map_or(0, |n| entries.len().saturating_sub(n));
    for e in &entries[skip..] {
        emit(e)?;
    }
    if !args.follow {
        return Ok(ExitCode::SUCCESS);
    }
    let mut pos = reader.stream_position()?;
    loop {
        let done = !container::load(&found.dir)?.running();
        let mut file = std::fs::File::open(&path)?;
        file.seek(std::io::SeekFrom::Start(pos))?;
        let mut reader = BufReader::new(file);
        loop {
            buf.clear();
            let n = reader.read_until(b'\n', &mut buf)?;
            // Only whole entries: a half-written one is read again next round.
            if n == 0 || buf.last() != Some(&b'\n') {
                break;
            }
            pos += n as u64;
            emit(&buf)?;
        }
        if done {
            std::io::stdout().flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
