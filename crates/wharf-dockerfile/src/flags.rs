//! Instruction flags (`--name=value`), parsed like BuildKit's `BFlags`.

use std::collections::BTreeMap;

use crate::error::{Error, ErrorKind};
use crate::syntax::Word;

/// What a flag takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlagKind {
    /// `--link`, `--link=true|false`.
    Bool,
    /// `--from=x`, once.
    String,
    /// `--mount=...`, repeatable.
    Strings,
}

/// Parsed flags of one instruction.
#[derive(Debug, Default)]
pub(crate) struct Flags {
    values: BTreeMap<&'static str, Vec<String>>,
}

impl Flags {
    pub(crate) fn parse(words: &[Word], spec: &[(&'static str, FlagKind)]) -> Result<Self, Error> {
        let mut flags = Flags::default();
        for w in words {
            let err = |kind| Error::new(w.span.start, kind);
            let Some(arg) = w.value.strip_prefix("--") else {
                return Err(err(ErrorKind::UnknownFlag {
                    flag: w.value.clone(),
                }));
            };
            if arg.is_empty() {
                break;
            }
            let (name, value) = match arg.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (arg, None),
            };
            let Some(&(key, kind)) = spec.iter().find(|(n, _)| *n == name) else {
                return Err(err(ErrorKind::UnknownFlag {
                    flag: name.to_owned(),
                }));
            };
            let entry = flags.values.entry(key).or_default();
            if !entry.is_empty() && kind != FlagKind::Strings {
                return Err(err(ErrorKind::DuplicateFlag {
                    flag: name.to_owned(),
                }));
            }
            let missing = || {
                err(ErrorKind::FlagMissingValue {
                    flag: name.to_owned(),
                })
            };
            match kind {
                FlagKind::Bool => {
                    let v = match value.map(str::to_lowercase).as_deref() {
                        None => "true".to_owned(),
                        Some("") => return Err(missing()),
                        Some(v @ ("true" | "false")) => v.to_owned(),
                        Some(_) => {
                            return Err(err(ErrorKind::InvalidFlagValue {
                                flag: name.to_owned(),
                                value: value.unwrap_or_default().to_owned(),
                                reason: "expecting a boolean value".to_owned(),
                            }));
                        }
                    };
                    entry.push(v);
                }
                FlagKind::String | FlagKind::Strings => {
                    entry.push(value.ok_or_else(missing)?.to_owned());
                }
            }
        }
        Ok(flags)
    }

    pub(crate) fn string(&self, name: &str) -> Option<String> {
        self.values.get(name).and_then(|v| v.first().cloned())
    }

    pub(crate) fn strings(&self, name: &str) -> Vec<String> {
        self.values.get(name).cloned().unwrap_or_default()
    }

    pub(crate) fn bool(&self, name: &str) -> Option<bool> {
        self.string(name).map(|v| v == "true")
    }
}
