//! Heredocs in each form.

use wharf_dockerfile::instruction::{Instruction, RunScript, instructions};
use wharf_dockerfile::{dump_buildkit, parse};

#[test]
fn run_heredoc_body_is_consumed_and_not_dumped() {
    let df = parse("FROM a\nRUN <<EOF\necho hi\n  echo there\nEOF\nCMD x\n").unwrap();
    assert_eq!(
        dump_buildkit(&df),
        "(from \"a\")\n(run \"<<EOF\")\n(cmd \"x\")\n"
    );
    let h = &df.nodes[1].heredocs[0];
    assert_eq!(
        (h.name.as_str(), h.content.as_str(), h.expand, h.chomp),
        ("EOF", "echo hi\n  echo there\n", true, false)
    );
    assert_eq!(
        (df.nodes[1].span.start.line, df.nodes[1].span.end.line),
        (2, 5)
    );
    assert_eq!((h.span.start.line, h.span.end.line), (3, 5));
}

#[test]
fn dash_form_strips_tabs_from_body_and_terminator() {
    let df = parse("FROM a\nRUN <<-EOT sh\n\techo a\n\t\techo b\n\tEOT\n").unwrap();
    let h = &df.nodes[1].heredocs[0];
    assert!(h.chomp);
    assert_eq!(h.content, "\techo a\n\t\techo b\n");
    assert_eq!(h.body(), "echo a\necho b\n");
}

#[test]
fn quoted_delimiters_disable_expansion() {
    let df = parse("FROM a\nCOPY <<'A' <<\"B\" <<C /dst/\na\nA\nb\nB\nc\nC\n").unwrap();
    let docs: Vec<_> = df.nodes[1]
        .heredocs
        .iter()
        .map(|h| (h.name.as_str(), h.content.as_str(), h.expand))
        .collect();
    assert_eq!(
        docs,
        [("A", "a\n", false), ("B", "b\n", false), ("C", "c\n", true)]
    );
}

#[test]
fn several_heredocs_and_fd_on_one_run() {
    let df = parse("FROM a\nRUN 3<<ONE cat /dev/fd/3 && python3 <<TWO\n1\nONE\nprint(2)\nTWO\n")
        .unwrap();
    let h = &df.nodes[1].heredocs;
    assert_eq!(h.len(), 2);
    assert_eq!((h[0].fd, h[0].name.as_str()), (3, "ONE"));
    assert_eq!(h[1].content, "print(2)\n");
    let ins = instructions(&df).unwrap();
    let Instruction::Run(r) = &ins[1].instruction else {
        panic!()
    };
    assert_eq!(r.heredocs.len(), 2);
}

#[test]
fn add_and_onbuild_take_heredocs_but_json_form_and_other_instructions_do_not() {
    let df = parse("FROM a\nADD <<EOF /x\nbody\nEOF\nONBUILD RUN <<EOF\nin\nEOF\nRUN [\"<<EOF\"]\nLABEL a=<<EOF\n").unwrap();
    let kws: Vec<_> = df.nodes.iter().map(|n| n.keyword.as_str()).collect();
    assert_eq!(kws, ["FROM", "ADD", "ONBUILD", "RUN", "LABEL"]);
    assert_eq!(df.nodes[1].heredocs[0].content, "body\n");
    assert_eq!(df.nodes[2].heredocs[0].content, "in\n");
    assert!(df.nodes[3].heredocs.is_empty() && df.nodes[4].heredocs.is_empty());
    let ins = instructions(&df).unwrap();
    let Instruction::Onbuild(inner) = &ins[2].instruction else {
        panic!()
    };
    let Instruction::Run(r) = &inner.instruction else {
        panic!()
    };
    assert_eq!(r.heredocs[0].content, "in\n");
}

#[test]
fn unterminated_heredoc_is_a_positioned_error() {
    let e = parse("FROM a\nRUN <<EOF\necho\n").unwrap_err();
    assert_eq!(e.to_string(), "2:1: unterminated heredoc \"EOF\"");
}

fn script(src: &str) -> RunScript {
    let df = parse(src).unwrap();
    let ins = instructions(&df).unwrap();
    let Instruction::Run(r) = &ins[1].instruction else {
        panic!()
    };
    r.script()
}

#[test]
fn run_scripts_follow_buildkit() {
    assert_eq!(
        script("FROM a\nRUN <<-EOF\n\techo hi\n\tEOF\n"),
        RunScript::Shell("echo hi\n".to_owned())
    );
    assert_eq!(
        script("FROM a\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n"),
        RunScript::File {
            name: "EOF".to_owned(),
            content: "#!/usr/bin/env python3\nprint(1)\n".to_owned()
        }
    );
    assert_eq!(
        script("FROM a\nRUN cat <<A > /x && cat <<B\n1\nA\n2\nB\n"),
        RunScript::Shell("cat <<A > /x && cat <<B\n1\nA\n2\nB".to_owned())
    );
    assert_eq!(
        script("FROM a\nRUN echo plain\n"),
        RunScript::Command(wharf_dockerfile::instruction::Command::Shell(
            "echo plain".to_owned()
        ))
    );
}

/// Dockerfile 1.14 (moby/buildkit#5817): blanks between `<<` and the name, as BuildKit's own
/// parser tests have them.
#[test]
fn blanks_after_the_operator_are_allowed() {
    let df = parse("FROM a\nRUN <<  EOF\nx\nEOF\nRUN <<\tEOT  > foo\ny\nEOT\nRUN << -E\nz\n-E\n")
        .unwrap();
    let names: Vec<_> = df.nodes[1..]
        .iter()
        .map(|n| (n.heredocs[0].name.as_str(), n.heredocs[0].chomp))
        .collect();
    assert_eq!(names, [("EOF", false), ("EOT", false), ("-E", false)]);
    assert_eq!(df.nodes[1].heredocs[0].content, "x\n");
}
