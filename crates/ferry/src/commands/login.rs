//! `ferry login REGISTRY` / `ferry logout REGISTRY`: credentials in the auth file (mode 0600),
//! checked against the registry before they are stored.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use wharf_registry::{ClientOptions, Credentials, RegistryClient, RegistryError, auth_file};

use super::common::runtime;

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// Registry host (a repository path after it scopes the entry)
    pub registry: String,
    #[arg(short, long)]
    pub username: Option<String>,
    #[arg(short, long)]
    pub password: Option<String>,
    /// Read the password from standard input
    #[arg(long)]
    pub password_stdin: bool,
    /// Auth file to write [default: ${XDG_RUNTIME_DIR}/containers/auth.json]
    #[arg(long, env = "REGISTRY_AUTH_FILE", value_name = "PATH")]
    pub authfile: Option<PathBuf>,
    /// Require HTTPS and verify certificates
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub tls_verify: Option<bool>,
    /// Use certificates in DIR
    #[arg(long, value_name = "DIR")]
    pub cert_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct LogoutArgs {
    /// Registry host
    pub registry: Option<String>,
    /// Remove every stored credential
    #[arg(short, long)]
    pub all: bool,
    #[arg(long, env = "REGISTRY_AUTH_FILE", value_name = "PATH")]
    pub authfile: Option<PathBuf>,
}

fn auth_path(given: Option<&PathBuf>) -> anyhow::Result<PathBuf> {
    match given {
        Some(p) => Ok(p.clone()),
        None => ClientOptions::default()
            .paths
            .default_auth_file()
            .context("no auth file location: set XDG_RUNTIME_DIR or pass --authfile"),
    }
}

fn read_line(prompt: Option<&str>) -> anyhow::Result<String> {
    if let Some(p) = prompt {
        eprint!("{p}");
        std::io::stderr().flush()?;
    }
    let mut s = String::new();
    std::io::stdin().lock().read_line(&mut s)?;
    Ok(s.trim_end_matches(['\r', '\n']).to_owned())
}

pub fn login(args: &LoginArgs) -> anyhow::Result<ExitCode> {
    let tty = std::io::stdin().is_terminal();
    let username = match &args.username {
        Some(u) => u.clone(),
        None if !args.password_stdin && tty => read_line(Some("Username: "))?,
        None => anyhow::bail!("--username is required"),
    };
    let password = match (&args.password, args.password_stdin) {
        (Some(_), true) => anyhow::bail!("--password and --password-stdin are mutually exclusive"),
        (Some(p), false) => p.clone(),
        (None, true) => read_line(None)?,
        (None, false) if tty => read_line(Some("Password: "))?,
        (None, false) => anyhow::bail!("--password or --password-stdin is required"),
    };
    let creds = Credentials::new(username, password);
    let host = args.registry.split('/').next().unwrap_or(&args.registry);
    let opts = ClientOptions {
        tls_verify: args.tls_verify,
        cert_dir: args.cert_dir.clone(),
        creds: Some(creds.clone()),
        ..ClientOptions::default()
    };
    let client = RegistryClient::new(host, &opts)?;
    runtime()?
        .block_on(check(&client))
        .with_context(|| format!("logging in to {host}"))?;
    let path = auth_path(args.authfile.as_ref())?;
    auth_file::login(&path, &args.registry, &creds)
        .with_context(|| format!("writing {}", path.display()))?;
    println!("Login Succeeded!");
    Ok(ExitCode::SUCCESS)
}

/// Asks the registry to accept the credentials: an authenticated blob lookup in a probe
/// repository. Only an authentication failure counts against them (the repository need not
/// exist, and the account need not be able to read it).
async fn check(client: &RegistryClient) -> anyhow::Result<()> {
    client.ping().await?;
    let probe = wharf_oci::digest::sha256(b"");
    match client.blob_exists("wharf/login-check", &probe).await {
        Err(e @ RegistryError::Unauthorized { .. }) => {
            Err(anyhow::Error::new(e).context("invalid username/password"))
        }
        _ => Ok(()),
    }
}

pub fn logout(args: &LogoutArgs) -> anyhow::Result<ExitCode> {
    let path = auth_path(args.authfile.as_ref())?;
    if args.all {
        if path.exists() {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
        println!("Removed login credentials for all registries");
        return Ok(ExitCode::SUCCESS);
    }
    let registry = args
        .registry
        .as_deref()
        .context("a registry or --all is required")?;
    if !auth_file::logout(&path, registry)? {
        anyhow::bail!("not logged into {registry}");
    }
    println!("Removed login credentials for {registry}");
    Ok(ExitCode::SUCCESS)
}
