//! BuildKit's shell-expansion tables, and our own cases for the pattern operators.

use std::collections::HashMap;

use wharf_dockerfile::shell::Lexer;

use crate::buildkit_data;

fn lookup(env: &HashMap<String, String>) -> impl Fn(&str) -> Option<String> + '_ {
    move |k| env.get(k).cloned()
}

#[test]
fn env_var_test_linux_lines() {
    let text = std::fs::read_to_string(buildkit_data().join("shell/envVarTest")).unwrap();
    let env: HashMap<String, String> = [
        ("PWD", "/home"),
        ("SHELL", "bash"),
        ("KOREAN", "한국어"),
        ("NULL", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let lex = Lexer::new('\\');
    let (mut ran, mut failures) = (0, Vec::new());
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        assert_eq!(f.len(), 3, "bad line {line:?}");
        if f[0] == "W" {
            continue;
        }
        ran += 1;
        let got = lex.process_word(f[1], &lookup(&env));
        match (f[2], &got) {
            ("error", Err(_)) => {}
            (want, Ok(got)) if want != "error" && want == got => {}
            (want, got) => failures.push(format!("{:?}: want {want:?}, got {got:?}", f[1])),
        }
    }
    assert_eq!(ran, 228);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn words_test_all_lines() {
    let text = std::fs::read_to_string(buildkit_data().join("shell/wordsTest")).unwrap();
    let mut env: HashMap<String, String> = HashMap::new();
    let lex = Lexer::new('\\');
    let (mut ran, mut failures) = (0, Vec::new());
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some(e) = line.strip_prefix("ENV ") {
            let (k, v) = e.trim_start().split_once('=').unwrap();
            env.insert(k.to_owned(), v.to_owned());
            continue;
        }
        let (input, want) = line.split_once('|').unwrap();
        let want: Vec<&str> = want.trim_start_matches(' ').split(',').collect();
        ran += 1;
        let got = lex.process_words(input.trim(), &lookup(&env));
        match (&got, want.as_slice()) {
            (Err(_), ["error"]) => {}
            (Ok(got), want) if got == want => {}
            (got, want) => failures.push(format!("{input:?}: want {want:?}, got {got:?}")),
        }
    }
    assert_eq!(ran, 24);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn expand(word: &str) -> Result<String, String> {
    let env: HashMap<String, String> = [
        ("F", "foo.tar.gz"),
        ("P", "/usr/local/bin"),
        ("E", ""),
        ("S", "a-b-a-b"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    Lexer::new('\\')
        .process_word(word, &lookup(&env))
        .map_err(|e| e.to_string())
}

#[test]
fn prefix_and_suffix_removal() {
    assert_eq!(expand("${F#*.}").unwrap(), "tar.gz");
    assert_eq!(expand("${F##*.}").unwrap(), "gz");
    assert_eq!(expand("${F%.*}").unwrap(), "foo.tar");
    assert_eq!(expand("${F%%.*}").unwrap(), "foo");
    assert_eq!(expand("${P#/usr}").unwrap(), "/local/bin");
    assert_eq!(expand("${P%/bin}").unwrap(), "/usr/local");
    assert_eq!(expand("${P%nomatch}").unwrap(), "/usr/local/bin");
    assert_eq!(expand("${F#f?o}").unwrap(), ".tar.gz");
    assert_eq!(expand(r"${F%\*}").unwrap(), "foo.tar.gz");
    assert_eq!(expand("${UNSET#x}").unwrap(), "");
    assert!(expand("${F:#x}").is_err(), ":# is not a modifier");
}

#[test]
fn replacement() {
    assert_eq!(expand("${S/a/x}").unwrap(), "x-b-a-b");
    assert_eq!(expand("${S//a/x}").unwrap(), "x-b-x-b");
    assert_eq!(expand("${S//-/}").unwrap(), "abab");
    assert_eq!(expand("${S/b*/z}").unwrap(), "a-z");
    assert_eq!(expand("${P//\\//:}").unwrap(), ":usr:local:bin");
    assert_eq!(expand("${UNSET/a/b}").unwrap(), "");
    assert!(expand("${S/a").is_err());
    assert!(expand("${S/a/b").is_err());
}

#[test]
fn required_variables() {
    assert_eq!(expand("${F:?}").unwrap(), "foo.tar.gz");
    assert_eq!(expand("${E?}").unwrap(), "");
    assert_eq!(expand("${E:?must be set}").unwrap_err(), "E: must be set");
    assert_eq!(
        expand("${UNSET?}").unwrap_err(),
        "UNSET: is not allowed to be unset"
    );
    assert_eq!(
        expand("${E:?}").unwrap_err(),
        "E: is not allowed to be empty"
    );
}

#[test]
fn backtick_escape_token() {
    let lex = Lexer::new('`');
    let env = |_: &str| None;
    assert_eq!(lex.process_word(r"C:\dir`$x", &env).unwrap(), r"C:\dir$x");
    assert_eq!(lex.process_words("a` b c", &env).unwrap(), ["a b", "c"]);
}

#[test]
fn replace_all_expands_group_references_like_go() {
    // The replacement keeps its escapes (BuildKit lexes it raw); Go's ReplaceAllString
    // then expands `$0`, while the single replacement is inserted literally.
    assert_eq!(expand(r"${S//a/<\$0>}").unwrap(), r"<\a>-b-<\a>-b");
    assert_eq!(expand(r"${S/a/<\$0>}").unwrap(), r"<\$0>-b-a-b");
}
