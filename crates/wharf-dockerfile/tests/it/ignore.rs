//! Ignore-file patterns and the context walker.

use std::fs;

use wharf_dockerfile::ignore::{Matcher, clean, find_ignore_file, read_patterns, walk};

#[test]
fn patterns_are_read_and_cleaned_like_docker() {
    let text = "\u{feff}# comment\n  /abs/path/  \n\n!  ./keep//me\n dir/../other\n#not a pattern\n   # also not a comment? it is a pattern\n";
    assert_eq!(
        read_patterns(text),
        [
            "abs/path",
            "!keep/me",
            "other",
            "# also not a comment? it is a pattern"
        ]
    );
    assert_eq!(clean("a/./b/../../c/"), "c");
    assert_eq!(clean("../a"), "../a");
    assert_eq!(clean("/.."), "/");
}

#[test]
fn wildcards() {
    let m = Matcher::parse("*.md\n**/*.tmp\ndocs/**\nb?n\n[a-c]x\nlit\\*\n").unwrap();
    assert!(m.is_excluded("README.md"));
    assert!(!m.is_excluded("sub/README.md"), "* does not cross /");
    assert!(m.is_excluded("x.tmp") && m.is_excluded("a/b/c/x.tmp"));
    assert!(m.is_excluded("docs/a/b"));
    assert!(m.is_excluded("bin") && !m.is_excluded("bn") && !m.is_excluded("b/n"));
    assert!(m.is_excluded("bx") && !m.is_excluded("dx"));
    assert!(m.is_excluded("lit*") && !m.is_excluded("little"));
}

#[test]
fn parent_directory_match_excludes_children() {
    let m = Matcher::parse("node_modules\n/build/\n").unwrap();
    assert!(m.is_excluded("node_modules/x/y.js"));
    assert!(m.is_excluded("build/out.o"));
    assert!(
        !m.is_excluded("src/build/out.o"),
        "leading / anchors nothing extra: patterns are relative"
    );
}

#[test]
fn exceptions_last_match_wins() {
    let m = Matcher::parse("*.txt\n!important.txt\nimportant.txt\n!very/\n").unwrap();
    assert!(m.is_excluded("a.txt"));
    assert!(
        m.is_excluded("important.txt"),
        "re-excluded by the later line"
    );
    let m = Matcher::parse("*\n!keep\n").unwrap();
    assert!(!m.is_excluded("keep") && m.is_excluded("other"));
    assert!(Matcher::parse("!\n").is_err());
}

#[test]
fn walker_keeps_reincluded_children_of_excluded_dirs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for f in [
        "secret/key.pem",
        "secret/public.txt",
        "src/main.rs",
        "src/gen/x.tmp",
        "notes.log",
        "Dockerfile",
    ] {
        let p = root.join(f);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, f).unwrap();
    }
    fs::write(
        root.join(".dockerignore"),
        "secret/\n!secret/public.txt\n**/*.tmp\n*.log\n",
    )
    .unwrap();
    let ignore = find_ignore_file(root, Some(&root.join("Dockerfile"))).unwrap();
    assert_eq!(ignore, root.join(".dockerignore"));
    let m = Matcher::read(&ignore).unwrap();
    let files: Vec<String> = walk(root, &m)
        .map(|e| e.unwrap())
        .filter(|e| e.metadata.is_file())
        .map(|e| e.rel_path)
        .collect();
    assert_eq!(
        files,
        [
            ".dockerignore",
            "Dockerfile",
            "secret/public.txt",
            "src/main.rs"
        ]
    );
}

#[test]
fn ignore_file_precedence() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    assert_eq!(find_ignore_file(root, None), None);
    fs::write(root.join(".dockerignore"), "a").unwrap();
    assert_eq!(
        find_ignore_file(root, None),
        Some(root.join(".dockerignore"))
    );
    fs::write(root.join(".containerignore"), "b").unwrap();
    assert_eq!(
        find_ignore_file(root, None),
        Some(root.join(".containerignore"))
    );
    fs::create_dir(root.join("docker")).unwrap();
    let df = root.join("docker/app.Dockerfile");
    fs::write(root.join("docker/app.Dockerfile.dockerignore"), "c").unwrap();
    assert_eq!(
        find_ignore_file(root, Some(&df)),
        Some(root.join("docker/app.Dockerfile.dockerignore"))
    );
}
