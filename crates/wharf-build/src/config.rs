//! The config instructions (ENV, LABEL, EXPOSE, VOLUME, WORKDIR, USER, ENTRYPOINT, CMD, SHELL,
//! STOPSIGNAL, HEALTHCHECK, MAINTAINER, ONBUILD) applied to an image config, as BuildKit's
//! `dockerfile2llb` does.

use wharf_dockerfile::instruction::{Command, Healthcheck, Instruction};
use wharf_oci::ImageConfig;
use wharf_oci::config::{ContainerConfig, Empty, Healthcheck as OciHealthcheck};

use crate::rootfs;
use crate::run::DEFAULT_SHELL;

/// Per-stage state the config rules need besides the config itself.
#[derive(Debug, Default, Clone)]
pub struct StageFlags {
    /// CMD was set in this stage (ENTRYPOINT then keeps it; an inherited CMD is dropped).
    pub cmd_set: bool,
}

fn shell_of(c: &ContainerConfig) -> Vec<String> {
    c.shell
        .clone()
        .unwrap_or_else(|| DEFAULT_SHELL.map(String::from).to_vec())
}

fn argv(c: &ContainerConfig, cmd: &Command) -> Vec<String> {
    match cmd {
        Command::Exec(v) => v.clone(),
        Command::Shell(text) => shell_of(c).into_iter().chain([text.clone()]).collect(),
    }
}

/// `KEY=VALUE` list update: the key keeps its place, its value changes.
pub fn set_env(env: &mut Vec<String>, key: &str, value: &str) {
    let entry = format!("{key}={value}");
    match env
        .iter_mut()
        .find(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key)
    {
        Some(slot) => *slot = entry,
        None => env.push(entry),
    }
}

fn nanos(d: Option<std::time::Duration>) -> Option<i64> {
    d.map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Applies a config instruction; returns `false` for instructions that are not config-only.
pub fn apply(image: &mut ImageConfig, flags: &mut StageFlags, ins: &Instruction) -> bool {
    if let Instruction::Maintainer(m) = ins {
        image.author = Some(m.clone());
        return true;
    }
    let c = image.config.get_or_insert_with(ContainerConfig::default);
    match ins {
        Instruction::Env(kvs) => {
            let env = c.env.get_or_insert_with(Vec::new);
            for kv in kvs {
                set_env(env, &kv.key, &kv.value);
            }
        }
        Instruction::Label(kvs) => {
            let labels = c.labels.get_or_insert_with(Default::default);
            for kv in kvs {
                labels.insert(kv.key.clone(), kv.value.clone());
            }
        }
        Instruction::Expose(ports) => {
            let set = c.exposed_ports.get_or_insert_with(Default::default);
            for p in ports {
                let p = if p.contains('/') {
                    p.to_lowercase()
                } else {
                    format!("{p}/tcp")
                };
                set.insert(p, Empty::default());
            }
        }
        Instruction::Volume(vs) => {
            let set = c.volumes.get_or_insert_with(Default::default);
            for v in vs {
                set.insert(v.clone(), Empty::default());
            }
        }
        Instruction::Workdir(w) => {
            let cur = c.working_dir.clone().unwrap_or_default();
            c.working_dir = Some(clean_abs(&rootfs::absolute(&cur, w)));
        }
        Instruction::User(u) => c.user = Some(u.clone()),
        Instruction::Cmd(cmd) => {
            c.cmd = Some(argv(c, cmd));
            flags.cmd_set = true;
        }
        Instruction::Entrypoint(cmd) => {
            c.entrypoint = Some(argv(c, cmd));
            if !flags.cmd_set {
                c.cmd = None;
            }
        }
        Instruction::Shell(s) => c.shell = Some(s.clone()),
        Instruction::StopSignal(s) => c.stop_signal = Some(s.clone()),
        Instruction::Healthcheck(Healthcheck::None) => {
            c.healthcheck = Some(OciHealthcheck {
                test: Some(vec!["NONE".to_owned()]),
                ..OciHealthcheck::default()
            });
        }
        Instruction::Healthcheck(Healthcheck::Cmd {
            command,
            interval,
            timeout,
            start_period,
            start_interval,
            retries,
        }) => {
            let test = match command {
                Command::Exec(v) => std::iter::once("CMD".to_owned()).chain(v.clone()).collect(),
                Command::Shell(t) => vec!["CMD-SHELL".to_owned(), t.clone()],
            };
            c.healthcheck = Some(OciHealthcheck {
                test: Some(test),
                interval: nanos(*interval),
                timeout: nanos(*timeout),
                start_period: nanos(*start_period),
                start_interval: nanos(*start_interval),
                retries: retries.map(i64::from),
            });
        }
        Instruction::Onbuild(inner) => {
            let text = inner.original.trim();
            let text = match text.get(..8) {
                Some(p) if p.eq_ignore_ascii_case("ONBUILD ") => text[8..].trim_start(),
                _ => text,
            };
            c.on_build
                .get_or_insert_with(Vec::new)
                .push(text.to_owned());
        }
        Instruction::Arg(_) => {}
        _ => return false,
    }
    true
}

/// Cleans an absolute path like Go's `path.Clean`.
pub fn clean_abs(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_dockerfile::instruction::KeyValue;

    #[test]
    fn entrypoint_drops_an_inherited_cmd_but_keeps_its_own() {
        let mut img = ImageConfig {
            config: Some(ContainerConfig {
                cmd: Some(vec!["sh".into()]),
                ..ContainerConfig::default()
            }),
            ..ImageConfig::default()
        };
        let mut f = StageFlags::default();
        apply(
            &mut img,
            &mut f,
            &Instruction::Entrypoint(Command::Shell("app".into())),
        );
        let c = img.config.clone().unwrap();
        assert_eq!(c.entrypoint.unwrap(), ["/bin/sh", "-c", "app"]);
        assert!(c.cmd.is_none());
        apply(
            &mut img,
            &mut f,
            &Instruction::Cmd(Command::Exec(vec!["x".into()])),
        );
        apply(
            &mut img,
            &mut f,
            &Instruction::Entrypoint(Command::Exec(vec!["e".into()])),
        );
        assert_eq!(img.config.clone().unwrap().cmd.unwrap(), ["x"]);
        apply(&mut img, &mut f, &Instruction::Workdir("a/../b".into()));
        apply(&mut img, &mut f, &Instruction::Workdir("c".into()));
        assert_eq!(img.config.clone().unwrap().working_dir.unwrap(), "/b/c");
        let kv = |k: &str, v: &str| KeyValue {
            key: k.into(),
            value: v.into(),
            legacy: false,
        };
        apply(
            &mut img,
            &mut f,
            &Instruction::Env(vec![kv("A", "1"), kv("B", "2"), kv("A", "3")]),
        );
        assert_eq!(img.config.clone().unwrap().env.unwrap(), ["A=3", "B=2"]);
        apply(
            &mut img,
            &mut f,
            &Instruction::Expose(vec!["80".into(), "53/UDP".into()]),
        );
        let ports: Vec<String> = img
            .config
            .clone()
            .unwrap()
            .exposed_ports
            .unwrap()
            .into_keys()
            .collect();
        assert_eq!(ports, ["53/udp", "80/tcp"]);
        assert!(apply(&mut img, &mut f, &Instruction::User("app".into())));
    }
}
