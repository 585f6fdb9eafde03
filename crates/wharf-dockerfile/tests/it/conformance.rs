//! BuildKit's parser test data: dumps, negative cases, line ranges.

use wharf_dockerfile::{dump_buildkit, parse_bytes};

use crate::buildkit_data;

#[test]
fn every_positive_case_dumps_exactly_its_result() {
    let dir = buildkit_data().join("parser/testfiles");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 33);
    let mut failures = Vec::new();
    for case in &cases {
        let src = std::fs::read(case.join("Dockerfile")).unwrap();
        let want = std::fs::read_to_string(case.join("result")).unwrap();
        match parse_bytes(&src) {
            Ok(df) => {
                let got = dump_buildkit(&df);
                if got != want {
                    failures.push(format!(
                        "{}:\n--- want\n{want}--- got\n{got}",
                        case.display()
                    ));
                }
            }
            Err(e) => failures.push(format!("{}: {e}", case.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_negative_case_is_refused() {
    let dir = buildkit_data().join("parser/testfiles-negative");
    let mut n = 0;
    for case in std::fs::read_dir(&dir).unwrap() {
        let case = case.unwrap().path();
        let src = std::fs::read(case.join("Dockerfile")).unwrap();
        assert!(
            parse_bytes(&src).is_err(),
            "{} was accepted",
            case.display()
        );
        n += 1;
    }
    assert_eq!(n, 4);
}

#[test]
fn testfile_line_gives_upstream_line_ranges() {
    let src = std::fs::read(buildkit_data().join("parser/testfile-line/Dockerfile")).unwrap();
    let df = parse_bytes(&src).unwrap();
    let ranges: Vec<_> = df
        .nodes
        .iter()
        .map(|n| (n.span.start.line, n.span.end.line))
        .collect();
    assert_eq!(ranges, [(5, 5), (11, 12), (17, 31)]);
    assert_eq!((df.span.start.line, df.span.end.line), (5, 31));
}

#[test]
fn negative_case_messages_name_the_problem() {
    let err = |s: &str| wharf_dockerfile::parse(s).unwrap_err().to_string();
    assert!(err("").contains("file with no instructions"));
    assert!(err("# only\n\n# comments\n").contains("file with no instructions"));
    assert_eq!(
        err("FROM busybox\n\nENV PATH\n"),
        "3:5: ENV must have two arguments"
    );
    assert!(
        err("CMD [ \"echo\", [ \"nested json\" ] ]")
            .contains("arrays must be comprised of strings only")
    );
}

#[test]
fn word_spans_point_into_the_source() {
    let df =
        wharf_dockerfile::parse("FROM a\n  RUN --mount=type=cache,target=/x \\\n    echo  hi\n")
            .unwrap();
    let run = &df.nodes[1];
    assert_eq!(run.keyword_span.start, wharf_dockerfile::Pos::new(2, 3));
    assert_eq!(run.flags[0].span.start, wharf_dockerfile::Pos::new(2, 7));
    assert_eq!(run.args[0].value, "echo  hi");
    assert_eq!(run.args[0].span.start, wharf_dockerfile::Pos::new(3, 5));
    assert_eq!(run.span.end.line, 3);
}
