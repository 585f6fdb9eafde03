//! `WWW-Authenticate` challenges (RFC 7235) as registries send them:
//! `Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull"` or
//! `Basic realm="x"`. Several challenges may share one header.

use std::collections::BTreeMap;

/// One authentication challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme, lower-cased: `bearer`, `basic`, ...
    pub scheme: String,
    /// Parameters with lower-cased names.
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// Parses every challenge in a header value. Malformed trailing parts are dropped, so a
/// challenge that cannot be understood simply does not appear.
pub fn parse(header: &str) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::new();
    let mut rest = header.trim();
    while !rest.is_empty() {
        rest = rest.trim_start_matches([',', ' ', '\t']);
        let tok_end = rest.find([' ', ',', '=', '\t']).unwrap_or(rest.len());
        let token = &rest[..tok_end];
        if token.is_empty() {
            break;
        }
        let after = rest[tok_end..].trim_start_matches([' ', '\t']);
        if let Some(value_part) = after.strip_prefix('=').filter(|_| !out.is_empty()) {
            // name=value of the current challenge
            let value_part = value_part.trim_start();
            let (value, remaining) = if let Some(q) = value_part.strip_prefix('"') {
                let mut value = String::new();
                let mut chars = q.char_indices();
                let mut end = q.len();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, n)) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => {
                            end = i + 1;
                            break;
                        }
                        _ => value.push(c),
                    }
                }
                (value, &q[end.min(q.len())..])
            } else {
                let end = value_part.find(',').unwrap_or(value_part.len());
                (value_part[..end].trim().to_owned(), &value_part[end..])
            };
            if let Some(last) = out.last_mut() {
                last.params.insert(token.to_ascii_lowercase(), value);
            }
            rest = remaining;
        } else {
            out.push(Challenge {
                scheme: token.to_ascii_lowercase(),
                params: BTreeMap::new(),
            });
            rest = after;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_with_quoted_commas_and_a_second_challenge() {
        let c = parse(
            r#"Bearer realm="https://auth.example/token",service="reg.example",scope="repository:a/b:pull,push", Basic realm="x y""#,
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(c[0].param("realm"), Some("https://auth.example/token"));
        assert_eq!(c[0].param("scope"), Some("repository:a/b:pull,push"));
        assert_eq!(c[0].param("service"), Some("reg.example"));
        assert_eq!(c[1].scheme, "basic");
        assert_eq!(c[1].param("realm"), Some("x y"));
        let e = parse(r#"Bearer realm="r",error="insufficient_scope",scope="a\"b""#);
        assert_eq!(e[0].param("error"), Some("insufficient_scope"));
        assert_eq!(e[0].param("scope"), Some("a\"b"));
        assert_eq!(parse("Basic")[0].scheme, "basic");
        assert!(parse("").is_empty());
        let unquoted = parse("Basic realm=plain, charset=UTF-8");
        assert_eq!(unquoted[0].param("realm"), Some("plain"));
        assert_eq!(unquoted[0].param("charset"), Some("UTF-8"));
    }
}
