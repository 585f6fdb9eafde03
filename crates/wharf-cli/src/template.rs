//! A small subset of Go's `text/template`, enough for the `--format` flags of skopeo, podman and
//! buildah: `{{.Field}}`, nested `{{.A.B}}`, `{{json .}}` / `{{json .Field}}`, `{{index .Map "key"}}`,
//! and the escapes `\t` and `\n` in the template text. Unknown fields render as `<no value>`, as Go does.

use serde_json::Value;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    #[error("template: unclosed action starting at byte {0}")]
    Unclosed(usize),
    #[error(
        "template: unsupported action {0:?} (supported: .Field, json .Field, index .Field \"key\")"
    )]
    Unsupported(String),
}

/// Renders `template` against `data`.
pub fn render(template: &str, data: &Value) -> Result<String, TemplateError> {
    let template = template.replace("\\t", "\t").replace("\\n", "\n");
    let mut out = String::new();
    let mut rest = template.as_str();
    let mut offset = 0;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or(TemplateError::Unclosed(offset + start))?;
        let action = after[..end]
            .trim()
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        out.push_str(&eval(action, data)?);
        let consumed = start + 2 + end + 2;
        offset += consumed;
        rest = &rest[consumed..];
    }
    out.push_str(rest);
    Ok(out)
}

fn lookup<'a>(path: &str, data: &'a Value) -> Option<&'a Value> {
    if path == "." {
        return Some(data);
    }
    let path = path.strip_prefix('.')?;
    path.split('.').try_fold(data, |v, key| v.get(key))
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<no value>".to_owned(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(plain).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(m) => format!(
            "map[{}]",
            m.iter()
                .map(|(k, v)| format!("{k}:{}", plain(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        other => other.to_string(),
    }
}

fn eval(action: &str, data: &Value) -> Result<String, TemplateError> {
    let words: Vec<&str> = action.split_whitespace().collect();
    match words.as_slice() {
        [path] if path.starts_with('.') => {
            Ok(lookup(path, data).map_or_else(|| "<no value>".to_owned(), plain))
        }
        ["json", path] if path.starts_with('.') => {
            Ok(lookup(path, data).map_or_else(|| "null".to_owned(), Value::to_string))
        }
        ["index", path, key] if path.starts_with('.') => {
            let key = key.trim_matches('"');
            Ok(lookup(path, data)
                .and_then(|v| v.get(key))
                .map_or_else(|| "<no value>".to_owned(), plain))
        }
        _ => Err(TemplateError::Unsupported(action.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_json_and_index() {
        let d = json!({"Name": "x", "Labels": {"a": "b"}, "Layers": ["l1", "l2"], "N": 3});
        assert_eq!(render("{{.Name}}\\t{{.N}}", &d).unwrap(), "x\t3");
        assert_eq!(render("{{json .Labels}}", &d).unwrap(), r#"{"a":"b"}"#);
        assert_eq!(render("{{index .Labels \"a\"}}", &d).unwrap(), "b");
        assert_eq!(render("{{.Layers}}", &d).unwrap(), "[l1 l2]");
        assert_eq!(render("{{.Missing}}", &d).unwrap(), "<no value>");
        assert_eq!(render("{{ .Labels.a }}", &d).unwrap(), "b");
        assert!(matches!(
            render("{{.Name", &d),
            Err(TemplateError::Unclosed(0))
        ));
        assert!(matches!(
            render("{{range .Layers}}", &d),
            Err(TemplateError::Unsupported(_))
        ));
    }
}
