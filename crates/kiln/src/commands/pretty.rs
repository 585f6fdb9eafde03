//! JSON as buildah prints it: indented by four spaces.

use serde::Serialize as _;

/// `value` pretty-printed with four-space indentation.
pub fn json(value: &serde_json::Value) -> anyhow::Result<String> {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    value.serialize(&mut ser)?;
    Ok(String::from_utf8(buf)?)
}
