//! `ferry generate-sigstore-key --output-prefix PREFIX`: a cosign-format key pair, as
//! `skopeo generate-sigstore-key` (skopeo 1.10) writes it: `PREFIX.private` (encrypted with
//! the passphrase) and `PREFIX.pub`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write the keys to PREFIX.pub and PREFIX.private
    #[arg(long, value_name = "PREFIX")]
    pub output_prefix: PathBuf,
    /// Read the passphrase that encrypts the private key from the first line of PATH (default: $COSIGN_PASSWORD, else none)
    #[arg(long, value_name = "PATH")]
    pub passphrase_file: Option<PathBuf>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let passphrase = wharf_cli::signing::read_passphrase(args.passphrase_file.as_deref())?;
    let (private, public) = wharf_sign::PrivateKey::generate(passphrase.as_bytes())?;
    let with = |ext: &str| {
        let mut p = args.output_prefix.clone().into_os_string();
        p.push(ext);
        PathBuf::from(p)
    };
    let (priv_path, pub_path) = (with(".private"), with(".pub"));
    for p in [&priv_path, &pub_path] {
        if p.exists() {
            anyhow::bail!("{} exists; refusing to overwrite a key", p.display());
        }
    }
    write_new(&priv_path, private.as_bytes(), 0o600)?;
    write_new(&pub_path, public.as_bytes(), 0o644)?;
    println!(
        "Key written to {} and {}",
        priv_path.display(),
        pub_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn write_new(path: &std::path::Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))
}
