//! The runtime spec builder on hostile input: an arbitrary image config (as a registry or a
//! tampered store would hand it over), the image's own `/etc/passwd` and `/etc/group`, and
//! arbitrary user options (`-u`, `-w`, `-e`, `--cap-add/--cap-drop`, a seccomp profile, a
//! command). `generate` must give a spec or an error, never a panic, and a spec it gives
//! must serialize and read back.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use wharf_oci::config::ContainerConfig;
use wharf_sandbox::spec::{NetworkMode, SeccompMode, SpecOptions, generate};

/// The root filesystem the options point at; its account files come from the input.
fn rootfs() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("wharf-fuzz-spec-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("etc")).expect("fuzz rootfs");
        dir
    })
}

fn list(s: &str) -> Vec<String> {
    s.split(',').filter(|p| !p.is_empty()).map(str::to_owned).collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    // Fields separated by NUL: config JSON, passwd, group, user, workdir, env, cap-add,
    // cap-drop, seccomp profile, command, hostname.
    let mut f = text.split('\0');
    let mut next = || f.next().unwrap_or_default().to_owned();
    let config: Option<ContainerConfig> = serde_json::from_str(&next()).ok();
    let root = rootfs();
    let _ = std::fs::write(root.join("etc/passwd"), next());
    let _ = std::fs::write(root.join("etc/group"), next());

    let mut opts = SpecOptions::new(root, "fuzz");
    let user = next();
    opts.user = (flags & 1 != 0).then_some(user);
    let workdir = next();
    opts.workdir = (flags & 2 != 0).then_some(workdir);
    opts.env = list(&next());
    opts.cap_add = list(&next());
    opts.cap_drop = list(&next());
    let profile = next();
    opts.seccomp = match flags >> 2 & 3 {
        0 => SeccompMode::Default,
        1 => SeccompMode::Unconfined,
        _ => SeccompMode::Profile {
            text: profile,
            origin: "fuzz".into(),
        },
    };
    let command = next();
    if flags & 16 != 0 {
        opts.command = Some(command.split(' ').map(str::to_owned).collect());
    }
    if flags & 32 != 0 {
        opts.entrypoint = Some(Vec::new());
    }
    opts.hostname = next();
    opts.terminal = flags & 64 != 0;
    opts.rootless = flags & 128 != 0;
    opts.network = match flags % 3 {
        0 => NetworkMode::None,
        1 => NetworkMode::Host,
        _ => NetworkMode::Private,
    };
    if let Ok(spec) = generate(config.as_ref(), &opts) {
        let json = serde_json::to_string(&spec).expect("a generated spec serializes");
        let _: wharf_oci::oci_spec::runtime::Spec =
            serde_json::from_str(&json).expect("a generated spec reads back");
    }
});
