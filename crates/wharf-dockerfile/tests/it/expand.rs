//! ARG/ENV scoping and expansion per stage.

use std::collections::BTreeMap;

use wharf_dockerfile::instruction::{ArgDecl, Instruction};
use wharf_dockerfile::mount::MountType;
use wharf_dockerfile::platform::Platform;
use wharf_dockerfile::stage::{BuildOptions, ExpandedStage, Plan, plan};

fn opts(args: &[(&str, &str)]) -> BuildOptions {
    BuildOptions {
        build_args: args
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        target_platform: Platform::parse("linux/arm64/v8"),
        build_platform: Platform::parse("linux/amd64"),
        target: None,
    }
}

fn planned(src: &str, args: &[(&str, &str)]) -> Plan {
    plan(&wharf_dockerfile::parse(src).unwrap(), &opts(args)).unwrap()
}

fn workdirs(e: &ExpandedStage) -> Vec<String> {
    e.instructions
        .iter()
        .filter_map(|x| match &x.located.instruction {
            Instruction::Workdir(w) => Some(w.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn global_args_reach_from_but_not_stages_unless_redeclared() {
    let src =
        "ARG TAG=3.20\nARG DIR=/srv\nFROM alpine:$TAG\nWORKDIR /a$DIR\nARG DIR\nWORKDIR /b$DIR\n";
    let p = planned(src, &[]);
    assert_eq!(p.stages[0].base, "alpine:3.20");
    assert_eq!(workdirs(&p.expand(0, &[]).unwrap()), ["/a", "/b/srv"]);
}

#[test]
fn build_args_override_defaults_everywhere() {
    let src = "ARG TAG=3.20\nFROM alpine:$TAG\nARG MODE=debug\nWORKDIR /$MODE\n";
    let p = planned(src, &[("TAG", "edge"), ("MODE", "release")]);
    assert_eq!(p.stages[0].base, "alpine:edge");
    assert_eq!(workdirs(&p.expand(0, &[]).unwrap()), ["/release"]);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn env_overrides_arg_of_the_same_name() {
    let src = "FROM scratch\nARG V=arg\nENV V=env\nWORKDIR /$V\nARG V=again\nWORKDIR /$V\n";
    let e = planned(src, &[]).expand(0, &[]).unwrap();
    assert_eq!(workdirs(&e), ["/env", "/env"]);
    // RUN sees ARG values only where ENV does not set the name.
    assert!(
        e.instructions[0]
            .run_env
            .contains(&("V".to_owned(), "arg".to_owned()))
    );
    assert!(
        e.instructions[1..]
            .iter()
            .all(|x| !x.run_env.iter().any(|(k, _)| k == "V"))
    );
}

#[test]
fn env_pairs_expand_with_the_environment_before_the_instruction() {
    let src = "FROM scratch\nENV A=old\nENV A=new B=$A\nWORKDIR /$B\n";
    let e = planned(src, &[]).expand(0, &[]).unwrap();
    assert_eq!(workdirs(&e), ["/old"]);
    assert!(e.env.contains(&("B".to_owned(), "old".to_owned())));
}

#[test]
fn args_do_not_leak_between_sibling_stages_but_are_inherited_from_a_base_stage() {
    let src = "FROM scratch AS a\nARG X=1\nENV E=e\nFROM scratch AS b\nWORKDIR /$X$E\nFROM a AS c\nWORKDIR /$X$E\n";
    let p = planned(src, &[]);
    assert_eq!(workdirs(&p.expand(1, &[]).unwrap()), ["/"]);
    assert_eq!(workdirs(&p.expand(2, &[]).unwrap()), ["/1e"]);
}

#[test]
fn image_env_is_visible_to_expansion() {
    let p = planned("FROM golang\nWORKDIR $GOPATH/src\n", &[]);
    let e = p
        .expand(0, &[("GOPATH".to_owned(), "/go".to_owned())])
        .unwrap();
    assert_eq!(workdirs(&e), ["/go/src"]);
}

#[test]
fn predefined_platform_args() {
    let src = "FROM --platform=$BUILDPLATFORM golang AS build\nARG TARGETARCH TARGETVARIANT\nWORKDIR /$TARGETARCH/$TARGETVARIANT/$BUILDARCH\n";
    let p = planned(src, &[]);
    assert_eq!(p.stages[0].platform.as_deref(), Some("linux/amd64"));
    let e = p.expand(0, &[]).unwrap();
    assert_eq!(workdirs(&e), ["/arm64/v8/"]);
    let Instruction::Arg(decls) = &e.instructions[0].located.instruction else {
        panic!()
    };
    assert_eq!(
        decls[0],
        ArgDecl {
            name: "TARGETARCH".to_owned(),
            default: Some("arm64".to_owned())
        }
    );
}

#[test]
fn unconsumed_build_args_warn_but_proxies_do_not() {
    let p = planned(
        "FROM scratch\nARG USED\n",
        &[("USED", "1"), ("UNUSED", "2"), ("HTTP_PROXY", "http://p")],
    );
    assert_eq!(p.warnings.len(), 1);
    assert!(p.warnings[0].message.contains("UNUSED"));
    let e = p.expand(0, &[]).unwrap();
    assert!(
        e.instructions[0]
            .run_env
            .contains(&("HTTP_PROXY".to_owned(), "http://p".to_owned()))
    );
    assert!(
        e.instructions[0]
            .run_env
            .contains(&("USED".to_owned(), "1".to_owned()))
    );
}

#[test]
fn copy_flags_sources_and_unquoted_heredocs_expand() {
    let src = "FROM scratch\nARG U=app V=1\nCOPY --chown=$U:$U --from=img:$V src/$V /dst/\nCOPY <<EOF <<'RAW' /etc/\nv=$V \"q\"\nEOF\nv=$V\nRAW\n";
    let e = planned(src, &[]).expand(0, &[]).unwrap();
    let Instruction::Copy(c) = &e.instructions[1].located.instruction else {
        panic!()
    };
    assert_eq!(c.chown.as_deref(), Some("app:app"));
    assert_eq!(c.from.as_deref(), Some("img:1"));
    assert_eq!(c.sources, ["src/1"]);
    let Instruction::Copy(c) = &e.instructions[2].located.instruction else {
        panic!()
    };
    assert_eq!(c.heredocs[0].content, "v=1 \"q\"\n");
    assert_eq!(c.heredocs[1].content, "v=$V\n");
}

#[test]
fn run_is_not_expanded_but_its_mounts_are() {
    let src =
        "FROM scratch\nARG ID=c1\nRUN --mount=type=cache,id=$ID,target=/root/.cache echo $ID\n";
    let e = planned(src, &[]).expand(0, &[]).unwrap();
    let Instruction::Run(r) = &e.instructions[1].located.instruction else {
        panic!()
    };
    assert_eq!(r.mounts[0].kind, MountType::Cache);
    assert_eq!(r.mounts[0].id.as_deref(), Some("c1"));
    assert!(!r.mounts[0].read_only);
    assert_eq!(
        r.command,
        wharf_dockerfile::instruction::Command::Shell("echo $ID".to_owned())
    );
}

#[test]
fn expansion_errors_are_positioned() {
    let df = wharf_dockerfile::parse("FROM scratch\n\nWORKDIR ${NOPE:?must be set}\n").unwrap();
    let p = plan(&df, &BuildOptions::default()).unwrap_err();
    assert_eq!(
        p.in_file("Dockerfile").to_string(),
        "Dockerfile:3:1: failed to process \"${NOPE:?must be set}\": NOPE: must be set"
    );
    let df = wharf_dockerfile::parse("ARG E\nFROM $E\n").unwrap();
    assert!(
        plan(&df, &BuildOptions::default())
            .unwrap_err()
            .to_string()
            .contains("should not be blank")
    );
}

#[test]
fn unknown_instruction_suggests_the_closest() {
    let df = wharf_dockerfile::parse("FROM scratch\n\n    RUNN echo\n").unwrap();
    let e = wharf_dockerfile::instruction::instructions(&df).unwrap_err();
    assert_eq!(
        e.in_file("Dockerfile").to_string(),
        "Dockerfile:3:5: unknown instruction \"RUNN\" (did you mean RUN?)"
    );
}
