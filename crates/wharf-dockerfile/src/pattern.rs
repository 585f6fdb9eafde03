//! Shell patterns of `${VAR#p}`, `${VAR%p}` and `${VAR/p/r}`, converted to regular
//! expressions the way BuildKit does (`convertShellPatternToRegex`): `*` and `?`
//! are wildcards, `\*`, `\?`, `\\` are literals, `\}` and `\/` drop the backslash.

use regex::Regex;

use crate::shell::ShellError;

fn to_regex(pattern: &str, greedy: bool, anchored: bool) -> Result<Regex, ShellError> {
    let invalid = |reason: String| ShellError::InvalidPattern {
        pattern: pattern.to_owned(),
        reason,
    };
    let mut out = String::with_capacity(pattern.len() + 4);
    if anchored {
        out.push('^');
    }
    let star = if greedy { ".*" } else { ".*?" };
    let mut it = pattern.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '*' => out.push_str(star),
            '?' => out.push('.'),
            '\\' => {
                if matches!(it.peek(), Some('}' | '/')) {
                    continue;
                }
                match it.next() {
                    Some(n @ ('*' | '?' | '\\')) => {
                        out.push('\\');
                        out.push(n);
                    }
                    Some(n) => return Err(invalid(format!("invalid escape '\\{n}'"))),
                    None => return Err(invalid("invalid escape at end of pattern".to_owned())),
                }
            }
            c => out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    Regex::new(&out).map_err(|e| invalid(e.to_string()))
}

/// `${VAR#p}` / `${VAR##p}`: remove the shortest (longest) matching prefix.
pub(crate) fn trim_prefix(pattern: &str, value: &str, greedy: bool) -> Result<String, ShellError> {
    let re = to_regex(pattern, greedy, true)?;
    Ok(match re.find(value) {
        Some(m) => value[m.end()..].to_owned(),
        None => value.to_owned(),
    })
}

/// Reverses a pattern, keeping each `\x` escape pair in order.
fn reverse_pattern(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut units: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' && i + 1 < chars.len() {
            units.push([chars[i], chars[i + 1]].iter().collect());
            i += 2;
        } else {
            units.push(chars[i].to_string());
            i += 1;
        }
    }
    units.into_iter().rev().collect()
}

/// `${VAR%p}` / `${VAR%%p}`: remove the shortest (longest) matching suffix, by
/// reversing both sides and trimming a prefix (regexes find leftmost matches).
pub(crate) fn trim_suffix(pattern: &str, value: &str, greedy: bool) -> Result<String, ShellError> {
    let rev: String = value.chars().rev().collect();
    let trimmed = trim_prefix(&reverse_pattern(pattern), &rev, greedy)?;
    Ok(trimmed.chars().rev().collect())
}

/// `${VAR/p/r}` / `${VAR//p/r}`: replace the first (every) leftmost match. Like Go's
/// `ReplaceAllString`, the replace-all form expands `$1`/`${name}` in `r`; the
/// single form inserts `r` literally.
pub(crate) fn replace(
    value: &str,
    pattern: &str,
    replacement: &str,
    all: bool,
) -> Result<String, ShellError> {
    let re = to_regex(pattern, true, false)?;
    if all {
        Ok(re.replace_all(value, replacement).into_owned())
    } else {
        Ok(re.replace(value, regex::NoExpand(replacement)).into_owned())
    }
}
