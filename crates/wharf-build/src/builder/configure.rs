//! `kiln config`: buildah's rules for changing a working container's config. `KEY=VALUE` sets,
//! `KEY-` removes (env, labels, annotations, ports, volumes); `--cmd` is a JSON array or words
//! split as a shell would; `--entrypoint` is a JSON array or a string run by `/bin/sh -c`.

use wharf_oci::config::{ContainerConfig, Empty};

use super::{ContainerError, Record};
use crate::config::set_env;

/// The changes one `kiln config` asks for; `None`/empty leaves a field alone.
#[derive(Debug, Default, Clone)]
pub struct ConfigChanges {
    /// `KEY=VALUE` (`$NAME` and `${NAME}` expand against the container's environment) or `KEY-`.
    pub env: Vec<String>,
    pub cmd: Option<String>,
    pub entrypoint: Option<String>,
    /// `KEY=VALUE`, `KEY` (empty value) or `KEY-`.
    pub labels: Vec<String>,
    pub annotations: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    /// `PORT[/PROTO]` or `PORT[/PROTO]-`.
    pub ports: Vec<String>,
    /// `PATH` or `PATH-`.
    pub volumes: Vec<String>,
    pub author: Option<String>,
    pub created_by: Option<String>,
    pub shell: Option<String>,
    pub stop_signal: Option<String>,
    pub history_comment: Option<String>,
}

/// Splits `text` into words as a POSIX shell would (quotes and backslashes; no expansion).
pub fn split_words(text: &str) -> Result<Vec<String>, ContainerError> {
    let bad = |reason: &str| ContainerError::InvalidValue {
        flag: "command",
        value: text.to_owned(),
        reason: reason.to_owned(),
    };
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err(bad("unterminated single quote")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => cur.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => return Err(bad("unterminated double quote")),
                        },
                        Some(c) => cur.push(c),
                        None => return Err(bad("unterminated double quote")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') => {}
                    Some(c) => cur.push(c),
                    None => cur.push('\\'),
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// `$NAME` and `${NAME}` replaced by their values in `env` (empty when unset), as Go's
/// `os.Expand` that buildah uses.
fn expand(value: &str, env: &[String]) -> String {
    let lookup = |name: &str| {
        env.iter()
            .find_map(|e| {
                e.split_once('=')
                    .filter(|(k, _)| *k == name)
                    .map(|(_, v)| v)
            })
            .unwrap_or("")
            .to_owned()
    };
    let mut out = String::new();
    let mut rest = value;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(inner) = after.strip_prefix('{') {
            if let Some(end) = inner.find('}') {
                out.push_str(&lookup(&inner[..end]));
                rest = &inner[end + 1..];
                continue;
            }
            out.push('$');
            rest = after;
            continue;
        }
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if len == 0 {
            out.push('$');
        } else {
            out.push_str(&lookup(&after[..len]));
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// `KEY=VALUE`, `KEY-` or a bare `KEY`: (key, Some(value)) to set, (key, None) to remove.
fn key_value(spec: &str, bare: Option<&str>) -> Option<(String, Option<String>)> {
    match spec.split_once('=') {
        Some((k, v)) => Some((k.to_owned(), Some(v.to_owned()))),
        None => match spec.strip_suffix('-') {
            Some(k) => Some((k.to_owned(), None)),
            None => bare.map(|b| (spec.to_owned(), Some(b.to_owned()))),
        },
    }
}

fn json_array(text: &str) -> Option<Vec<String>> {
    serde_json::from_str::<Vec<String>>(text).ok()
}

/// Applies `ch` to the record; returns warnings for the user (buildah's).
pub fn apply(record: &mut Record, ch: &ConfigChanges) -> Result<Vec<String>, ContainerError> {
    let mut warnings = Vec::new();
    if let Some(a) = &ch.author {
        record.config.author = Some(a.clone());
    }
    if let Some(c) = &ch.created_by {
        record.created_by = Some(c.clone());
    }
    if let Some(c) = &ch.history_comment {
        record.history_comment = Some(c.clone());
    }
    for a in &ch.annotations {
        match key_value(a, Some("")) {
            Some((k, Some(v))) => {
                record.annotations.insert(k, v);
            }
            Some((k, None)) => {
                record.annotations.remove(&k);
            }
            None => {}
        }
    }
    let c: &mut ContainerConfig = record
        .config
        .config
        .get_or_insert_with(ContainerConfig::default);
    for e in &ch.env {
        match key_value(e, None) {
            Some((k, _)) if k.is_empty() => {
                return Err(ContainerError::InvalidValue {
                    flag: "--env",
                    value: e.clone(),
                    reason: "the name is empty".to_owned(),
                });
            }
            Some((k, Some(v))) => {
                let env = c.env.get_or_insert_with(Vec::new);
                let v = expand(&v, env);
                set_env(env, &k, &v);
            }
            Some((k, None)) => {
                if let Some(env) = c.env.as_mut() {
                    env.retain(|x| x.split_once('=').map_or(x.as_str(), |(n, _)| n) != k);
                }
            }
            None => {
                return Err(ContainerError::InvalidValue {
                    flag: "--env",
                    value: e.clone(),
                    reason: "expected KEY=VALUE or KEY- to remove it".to_owned(),
                });
            }
        }
    }
    for l in &ch.labels {
        match key_value(l, Some("")) {
            Some((k, Some(v))) => {
                c.labels.get_or_insert_with(Default::default).insert(k, v);
            }
            Some((k, None)) => {
                if let Some(labels) = c.labels.as_mut() {
                    labels.remove(&k);
                }
            }
            None => {}
        }
    }
    for p in &ch.ports {
        match p.strip_suffix('-') {
            Some(p) => {
                if let Some(ports) = c.exposed_ports.as_mut() {
                    ports.remove(p);
                }
            }
            None => {
                c.exposed_ports
                    .get_or_insert_with(Default::default)
                    .insert(p.clone(), Empty::default());
            }
        }
    }
    for v in &ch.volumes {
        match v.strip_suffix('-') {
            Some(v) => {
                if let Some(vols) = c.volumes.as_mut() {
                    vols.remove(v);
                }
            }
            None => {
                c.volumes
                    .get_or_insert_with(Default::default)
                    .insert(v.clone(), Empty::default());
            }
        }
    }
    if let Some(w) = &ch.working_dir {
        c.working_dir = Some(w.clone());
    }
    if let Some(u) = &ch.user {
        c.user = Some(u.clone());
    }
    if let Some(s) = &ch.stop_signal {
        c.stop_signal = Some(s.clone());
    }
    if let Some(s) = &ch.shell {
        c.shell = Some(split_words(s)?);
        if record.format != "docker" {
            warnings.push(format!(
                "SHELL is not supported for OCI image format, {s:?} will be ignored. Must use `docker` format"
            ));
        }
    }
    if let Some(cmd) = &ch.cmd {
        c.cmd = Some(match json_array(cmd) {
            Some(v) => v,
            None => split_words(cmd)?,
        });
    }
    if let Some(ep) = &ch.entrypoint {
        let has_cmd = c.cmd.as_ref().is_some_and(|v| !v.is_empty());
        if ep.trim().is_empty() {
            c.entrypoint = Some(Vec::new());
        } else if let Some(v) = json_array(ep) {
            if has_cmd {
                warnings.push(format!(
                    "cmd {:?} exists and will be passed to entrypoint as a parameter",
                    c.cmd.clone().unwrap_or_default().join(" ")
                ));
            }
            c.entrypoint = Some(v);
        } else {
            if has_cmd {
                warnings.push(format!(
                    "cmd {:?} exists but will be ignored because of entrypoint settings",
                    c.cmd.clone().unwrap_or_default().join(" ")
                ));
            }
            c.entrypoint = Some(vec!["/bin/sh".into(), "-c".into(), ep.clone()]);
        }
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(
            split_words(r#"ls -l "a b" 'c d' e\ f"#).unwrap(),
            ["ls", "-l", "a b", "c d", "e f"]
        );
        assert_eq!(split_words("  ").unwrap(), Vec::<String>::new());
        assert!(split_words("'open").is_err());
    }

    fn record(format: &str) -> Record {
        Record {
            id: "0".repeat(64),
            name: "c".into(),
            from_image: String::new(),
            from_image_id: None,
            from_manifest: None,
            created: String::new(),
            driver: "overlay".into(),
            format: format.into(),
            config: wharf_oci::ImageConfig::default(),
            layers: Vec::new(),
            annotations: std::collections::BTreeMap::new(),
            created_by: None,
            history_comment: None,
            network: None,
            isolation: None,
        }
    }

    #[test]
    fn config_follows_buildah() {
        let mut r = record("oci");
        let w = apply(
            &mut r,
            &ConfigChanges {
                cmd: Some("ls -l".into()),
                entrypoint: Some("run me".into()),
                env: vec!["A=1".into(), "B=${A}x".into()],
                ports: vec!["8080".into(), "53/udp".into()],
                labels: vec!["bare".into(), "k=v".into()],
                shell: Some("/bin/bash -c".into()),
                ..ConfigChanges::default()
            },
        )
        .unwrap();
        let c = r.config.config.clone().unwrap();
        assert_eq!(c.cmd.unwrap(), ["ls", "-l"]);
        assert_eq!(c.entrypoint.unwrap(), ["/bin/sh", "-c", "run me"]);
        assert_eq!(c.env.unwrap(), ["A=1", "B=1x"]);
        let ports: Vec<String> = c.exposed_ports.unwrap().into_keys().collect();
        assert_eq!(ports, ["53/udp", "8080"]);
        assert_eq!(c.labels.unwrap()["bare"], "");
        assert_eq!(c.shell.unwrap(), ["/bin/bash", "-c"]);
        // The shell-form entrypoint ignores the cmd; SHELL needs the docker format.
        assert_eq!(w.len(), 2, "{w:?}");
        apply(
            &mut r,
            &ConfigChanges {
                entrypoint: Some(r#"["/app"]"#.into()),
                env: vec!["A-".into()],
                ports: vec!["8080-".into()],
                labels: vec!["k-".into()],
                ..ConfigChanges::default()
            },
        )
        .unwrap();
        let c = r.config.config.clone().unwrap();
        assert_eq!(c.entrypoint.unwrap(), ["/app"]);
        assert_eq!(c.env.unwrap(), ["B=1x"]);
        assert_eq!(c.exposed_ports.unwrap().len(), 1);
        assert!(!c.labels.unwrap().contains_key("k"));
        let bad = apply(
            &mut r,
            &ConfigChanges {
                env: vec!["NOVALUE".into()],
                ..ConfigChanges::default()
            },
        );
        assert!(bad.is_err());
    }

    #[test]
    fn env_expands_and_removes() {
        let mut env = vec!["A=1".to_owned(), "PATH=/bin".to_owned()];
        assert_eq!(expand("${A}x$PATH:$NONE$", &env), "1x/bin:$");
        set_env(&mut env, "A", "2");
        assert_eq!(env, ["A=2", "PATH=/bin"]);
        assert_eq!(key_value("K-", None), Some(("K".into(), None)));
        assert_eq!(
            key_value("K=a=b", None),
            Some(("K".into(), Some("a=b".into())))
        );
        assert_eq!(
            key_value("K", Some("")),
            Some(("K".into(), Some(String::new())))
        );
        assert_eq!(key_value("K", None), None);
    }
}
