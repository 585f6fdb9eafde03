//! `ferry standalone-sign` and `ferry standalone-verify`: skopeo's debugging commands that
//! sign a manifest file, or verify a signature file, with GPG simple signing and no registry.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use wharf_sign::standalone::{self, Fingerprints};

#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// Path to a file containing the image manifest
    pub manifest: PathBuf,
    /// A docker reference to identify the image with
    pub docker_reference: String,
    /// Key identity (fingerprint) to use for signing
    pub key_fingerprint: String,
    /// Write the signature to FILE
    #[arg(short, long, value_name = "FILE", required = true)]
    pub output: PathBuf,
    /// Read the key's passphrase from the first line of PATH
    #[arg(long, value_name = "PATH")]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Path to a file containing the image manifest
    pub manifest: PathBuf,
    /// A docker reference expected to identify the image in the signature
    pub docker_reference: String,
    /// Expected identity of the signing key: a fingerprint, a comma-separated list, or `any`
    /// (with --public-key-file)
    pub key_fingerprint: String,
    /// Path to the signature file
    pub signature: PathBuf,
    /// Trust the public keys in FILE instead of the GPG keyring
    #[arg(long, value_name = "FILE")]
    pub public_key_file: Option<PathBuf>,
}

fn read(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading the {what} {}", path.display()))
}

pub fn sign(args: &SignArgs) -> anyhow::Result<ExitCode> {
    let manifest = read(&args.manifest, "manifest")?;
    let sig = standalone::sign(
        &manifest,
        &args.docker_reference,
        &args.key_fingerprint,
        args.passphrase_file.as_deref(),
    )
    .with_context(|| format!("signing {}", args.manifest.display()))?;
    std::fs::write(&args.output, sig)
        .with_context(|| format!("writing the signature {}", args.output.display()))?;
    Ok(ExitCode::SUCCESS)
}

pub fn verify(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let manifest = read(&args.manifest, "manifest")?;
    let signature = read(&args.signature, "signature")?;
    let fingerprints = Fingerprints::parse(&args.key_fingerprint);
    let keys = match &args.public_key_file {
        Some(f) => wharf_sign::simple::GpgKeys {
            material: vec![read(f, "public key file")?],
        }
        .parse()
        .with_context(|| format!("reading the public keys of {}", f.display()))?,
        None if fingerprints == Fingerprints::Any => {
            anyhow::bail!("the key fingerprint `any` needs --public-key-file")
        }
        None => standalone::keyring_keys()?,
    };
    let v = standalone::verify(
        &manifest,
        &args.docker_reference,
        &fingerprints,
        &signature,
        &keys,
    )
    .with_context(|| format!("verifying {}", args.signature.display()))?;
    writeln!(
        std::io::stdout(),
        "Signature verified using fingerprint {}, digest {}",
        v.key_identity,
        v.digest
    )?;
    Ok(ExitCode::SUCCESS)
}
