//! `RUN --mount=type=bind|cache|tmpfs|secret|ssh,...`, parsed like BuildKit's
//! `parseMount`: CSV fields, `key=value` or bare boolean keys.

/// The kind of a `RUN --mount`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountType {
    /// A read-only (by default) view of a stage, image or the context.
    Bind,
    /// A persistent cache directory.
    Cache,
    /// A memory file system.
    Tmpfs,
    /// A secret file (or environment variable).
    Secret,
    /// An SSH agent socket.
    Ssh,
}

impl MountType {
    /// The name as written in `type=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bind => "bind",
            Self::Cache => "cache",
            Self::Tmpfs => "tmpfs",
            Self::Secret => "secret",
            Self::Ssh => "ssh",
        }
    }
}

/// How concurrent builds share a cache mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// Used concurrently by several writers (default).
    Shared,
    /// Each writer gets its own copy.
    Private,
    /// Writers wait for each other.
    Locked,
}

/// One parsed `--mount`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// `type=`.
    pub kind: MountType,
    /// `from=`: stage, image, or context.
    pub from: Option<String>,
    /// `source=` / `src=`.
    pub source: Option<String>,
    /// `target=` / `dst=` / `destination=`.
    pub target: Option<String>,
    /// Read-only (bind and secret default to read-only, cache and tmpfs to read-write).
    pub read_only: bool,
    /// `required` (secret, ssh).
    pub required: bool,
    /// `id=`: cache id, secret id, ssh id.
    pub id: Option<String>,
    /// `sharing=` (cache).
    pub sharing: Option<Sharing>,
    /// `mode=` (octal).
    pub mode: Option<u32>,
    /// `uid=`.
    pub uid: Option<u32>,
    /// `gid=`.
    pub gid: Option<u32>,
    /// `size=` in bytes (tmpfs).
    pub size: Option<u64>,
    /// `env=` (secret exposed as an environment variable).
    pub env: Option<String>,
}

/// Expands one mount option value (error: the message).
pub type Expander<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// Parses one `--mount` value. `expand` is applied to every value; when `None`,
/// values that still hold `$` are not validated (they are expanded per stage later).
pub fn parse_mount(spec: &str, expand: Option<Expander<'_>>) -> Result<Mount, String> {
    let mut m = Mount {
        kind: MountType::Bind,
        from: None,
        source: None,
        target: None,
        read_only: true,
        required: false,
        id: None,
        sharing: None,
        mode: None,
        uid: None,
        gid: None,
        size: None,
        env: None,
    };
    let mut ro_auto = true;
    for field in csv_fields(spec)? {
        let Some((key, value)) = field.split_once('=') else {
            match field.to_lowercase().as_str() {
                "readonly" | "ro" => m.read_only = true,
                "readwrite" | "rw" => m.read_only = false,
                "required" if matches!(m.kind, MountType::Secret | MountType::Ssh) => {
                    m.required = true;
                    continue;
                }
                k => return Err(format!("unexpected key '{k}' in '{field}'")),
            }
            ro_auto = false;
            continue;
        };
        let (key, value) = (key.to_lowercase(), value.to_owned());
        let value = match expand {
            Some(f) => f(&value)?,
            None if key == "from" && value.find('$').is_some_and(|i| i + 1 != value.len()) => {
                return Err(
                    "'from' doesn't support variable expansion, define alias stage instead"
                        .to_owned(),
                );
            }
            None if value.contains('$') => continue,
            None => value,
        };
        match key.as_str() {
            "type" => {
                m.kind = match value.to_lowercase().as_str() {
                    "bind" => MountType::Bind,
                    "cache" => MountType::Cache,
                    "tmpfs" => MountType::Tmpfs,
                    "secret" => MountType::Secret,
                    "ssh" => MountType::Ssh,
                    _ => return Err(format!("unsupported mount type {value:?}")),
                };
            }
            "from" => m.from = Some(value),
            "source" | "src" => m.source = Some(value),
            "target" | "dst" | "destination" | "dest" => m.target = Some(value),
            "readonly" | "ro" => {
                m.read_only = parse_bool(&value)?;
                ro_auto = false;
            }
            "readwrite" | "rw" => {
                m.read_only = !parse_bool(&value)?;
                ro_auto = false;
            }
            "required" if matches!(m.kind, MountType::Secret | MountType::Ssh) => {
                m.required = parse_bool(&value)?;
            }
            "id" => m.id = Some(value),
            "sharing" => {
                m.sharing = Some(match value.to_lowercase().as_str() {
                    "shared" => Sharing::Shared,
                    "private" => Sharing::Private,
                    "locked" => Sharing::Locked,
                    _ => return Err(format!("unsupported sharing value {value:?}")),
                });
            }
            "mode" => {
                m.mode = Some(
                    u32::from_str_radix(&value, 8).map_err(|e| format!("mode {value:?}: {e}"))?,
                );
            }
            "uid" => m.uid = Some(value.parse().map_err(|e| format!("uid {value:?}: {e}"))?),
            "gid" => m.gid = Some(value.parse().map_err(|e| format!("gid {value:?}: {e}"))?),
            "size" if m.kind == MountType::Tmpfs => m.size = Some(ram_in_bytes(&value)?),
            "env" if m.kind == MountType::Secret => m.env = Some(value),
            _ => {
                return Err(format!(
                    "unexpected key '{key}' for mount type '{}'",
                    m.kind.as_str()
                ));
            }
        }
    }
    if ro_auto {
        m.read_only = !matches!(m.kind, MountType::Cache | MountType::Tmpfs);
    }
    if m.sharing.is_some() && m.kind != MountType::Cache {
        return Err(format!(
            "invalid cache sharing set for {} mount",
            m.kind.as_str()
        ));
    }
    if !matches!(
        m.kind,
        MountType::Secret | MountType::Ssh | MountType::Cache
    ) && (m.mode.is_some() || m.uid.is_some() || m.gid.is_some())
    {
        return Err(format!(
            "mode/uid/gid not allowed for {} mounts",
            m.kind.as_str()
        ));
    }
    match m.kind {
        MountType::Secret | MountType::Ssh => {
            if m.from.is_some() {
                return Err(format!("{} mount should not have a from", m.kind.as_str()));
            }
            if m.kind == MountType::Secret && m.source.is_some() && m.id.is_some() {
                return Err("both source and id can't be set".to_owned());
            }
        }
        MountType::Cache if m.sharing.is_none() => m.sharing = Some(Sharing::Shared),
        _ => {}
    }
    if matches!(
        m.kind,
        MountType::Bind | MountType::Cache | MountType::Tmpfs
    ) && m.target.is_none()
        && expand.is_some()
    {
        return Err("mount target is required".to_owned());
    }
    Ok(m)
}

fn parse_bool(v: &str) -> Result<bool, String> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!("invalid boolean {v:?}")),
    }
}

/// Go's `encoding/csv` for one record: fields separated by `,`, `"` quoting with `""`.
fn csv_fields(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err(format!("unterminated quote in {s:?}")),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
            match chars.next() {
                None => {
                    out.push(field);
                    return Ok(out);
                }
                Some(',') => out.push(field),
                Some(c) => return Err(format!("extraneous {c:?} after quoted field in {s:?}")),
            }
            continue;
        }
        loop {
            match chars.next() {
                None => {
                    out.push(field);
                    return Ok(out);
                }
                Some(',') => break,
                Some('"') => return Err(format!("bare \" in non-quoted field in {s:?}")),
                Some(c) => field.push(c),
            }
        }
        out.push(field);
    }
}

/// docker/go-units `RAMInBytes`: `64m`, `1g`, `512` (binary multiples).
fn ram_in_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("invalid size {s:?}"))?;
    let mult: f64 = match unit
        .to_lowercase()
        .trim_end_matches('b')
        .trim_end_matches('i')
    {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1_048_576.0,
        "g" => 1_073_741_824.0,
        "t" => 1_099_511_627_776.0,
        "p" => 1_125_899_906_842_624.0,
        _ => return Err(format!("invalid size {s:?}")),
    };
    let bytes = n * mult;
    if !(0.0..1.8e19).contains(&bytes) {
        return Err(format!("invalid size {s:?}"));
    }
    Ok(bytes as u64)
}
