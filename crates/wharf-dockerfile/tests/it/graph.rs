//! Stage graph: references, pruning, errors.

use wharf_dockerfile::graph::{DepKind, DepTarget};
use wharf_dockerfile::stage::{BuildOptions, plan};

fn try_plan(
    src: &str,
    target: Option<&str>,
) -> Result<wharf_dockerfile::stage::Plan, wharf_dockerfile::Error> {
    let opts = BuildOptions {
        target: target.map(str::to_owned),
        ..BuildOptions::default()
    };
    plan(&wharf_dockerfile::parse(src).unwrap(), &opts)
}

const MULTI: &str = "\
FROM alpine AS deps
RUN echo deps
FROM golang AS build
COPY --from=deps /x /x
FROM build AS test
RUN --mount=type=bind,from=0,target=/d true
FROM scratch AS unrelated
FROM scratch
COPY --from=build /app /app
COPY --from=busybox:musl /bin/sh /sh
";

#[test]
fn dependencies_are_resolved_by_name_index_and_image() {
    let p = try_plan(MULTI, None).unwrap();
    assert_eq!(p.stages.len(), 5);
    assert_eq!(p.stages[2].base_stage, Some(1));
    let test_deps: Vec<_> = p.stages[2]
        .deps
        .iter()
        .map(|d| (d.kind, d.target.clone()))
        .collect();
    assert_eq!(
        test_deps,
        [
            (DepKind::Base, DepTarget::Stage(1)),
            (DepKind::MountFrom, DepTarget::Stage(0))
        ]
    );
    assert!(
        p.stages[4]
            .deps
            .iter()
            .any(|d| d.target == DepTarget::Image("busybox:musl".to_owned()))
    );
    assert!(p.stages[3].deps.is_empty(), "scratch is no dependency");
}

#[test]
fn target_prunes_unneeded_stages() {
    assert_eq!(try_plan(MULTI, None).unwrap().needed, [0, 1, 4]);
    let p = try_plan(MULTI, Some("Test")).unwrap();
    assert_eq!((p.target, p.needed.clone()), (2, vec![0, 1, 2]));
    assert_eq!(try_plan(MULTI, Some("deps")).unwrap().needed, [0]);
    let e = try_plan(MULTI, Some("nope")).unwrap_err();
    assert_eq!(
        e.in_file("Dockerfile").to_string(),
        "Dockerfile: target stage \"nope\" could not be found"
    );
}

#[test]
fn duplicate_stage_name_is_an_error_with_its_line() {
    let e = try_plan("FROM a AS x\nFROM b AS X\n", None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "2:1: duplicate stage name \"x\" (first defined on line 1)"
    );
}

#[test]
fn unknown_stage_index_is_an_error() {
    let e = try_plan("FROM a\nCOPY --from=3 /a /b\n", None).unwrap_err();
    assert_eq!(e.to_string(), "2:1: unknown stage \"3\"");
}

#[test]
fn cycles_are_errors() {
    let e = try_plan(
        "FROM a AS one\nCOPY --from=two /a /a\nFROM b AS two\nCOPY --from=one /b /b\n",
        None,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("circular dependency between stages: one -> two -> one"),
        "{e}"
    );
    let e = try_plan("FROM a AS me\nCOPY --from=me /a /a\n", None).unwrap_err();
    assert!(e.to_string().starts_with("2:1: circular"), "{e}");
}

#[test]
fn instructions_before_from_other_than_arg_are_refused() {
    let e = try_plan("RUN true\nFROM a\n", None).unwrap_err();
    assert_eq!(e.to_string(), "1:1: no build stage in current context");
}

#[test]
fn expansion_errors_in_pruned_stages_do_not_fail_the_build() {
    let src = "FROM a AS broken\nWORKDIR ${X:?}\nFROM b AS ok\n";
    assert!(try_plan(src, Some("ok")).is_ok());
    assert!(try_plan(src, Some("broken")).is_err());
}
