//! Each lint rule, and the check directive.

use wharf_dockerfile::lint::{Finding, Options, check};
use wharf_dockerfile::parse;

fn findings(src: &str) -> Vec<Finding> {
    let df = parse(src).unwrap();
    check(&df, &Options::from_dockerfile(&df))
}

fn rules(src: &str) -> Vec<(&'static str, usize)> {
    findings(src)
        .into_iter()
        .map(|f| (f.rule, f.line))
        .collect()
}

#[test]
fn json_args_recommended() {
    assert_eq!(
        rules("FROM a\nCMD echo hi\nENTRYPOINT [\"x\"]\n"),
        [("JSONArgsRecommended", 2)]
    );
    assert_eq!(
        rules("FROM a\nSHELL [\"bash\", \"-c\"]\nENTRYPOINT run.sh\n"),
        []
    );
}

#[test]
fn legacy_key_value_format() {
    let f = findings("FROM a\nENV A 1\nENV B=2\nLABEL x y z\n");
    assert_eq!(
        f.iter().map(|f| (f.rule, f.line)).collect::<Vec<_>>(),
        [("LegacyKeyValueFormat", 2), ("LegacyKeyValueFormat", 4)]
    );
    assert_eq!(f[0].fix, "write ENV A=1");
    assert_eq!(f[1].fix, "write LABEL x=\"y z\"");
}

#[test]
fn stage_name_casing_and_as_casing() {
    assert_eq!(rules("FROM a AS Build\n"), [("StageNameCasing", 1)]);
    assert_eq!(rules("FROM a as b\n"), [("FromAsCasing", 1)]);
    assert_eq!(rules("from a as b\n"), []);
}

#[test]
fn from_platform_constant() {
    assert_eq!(
        rules("FROM --platform=linux/amd64 a\n"),
        [("FromPlatformFlagConstDisallowed", 1)]
    );
    assert_eq!(rules("FROM --platform=linux/amd64 a AS build-amd64\n"), []);
    assert_eq!(rules("FROM --platform=$BUILDPLATFORM a\n"), []);
}

#[test]
fn undefined_arg_in_from() {
    let f = findings("ARG A\nFROM img:$A-$B\n");
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].rule, f[0].line, f[0].message.as_str()),
        ("UndefinedArgInFrom", 2, "FROM argument 'B' is not declared")
    );
    assert_eq!(rules("FROM --platform=$TARGETPLATFORM img\n"), []);
}

#[test]
fn maintainer_deprecated() {
    assert_eq!(
        rules("FROM a\nMAINTAINER me\n"),
        [("MaintainerDeprecated", 2)]
    );
}

#[test]
fn duplicate_and_reserved_stage_names() {
    assert_eq!(
        rules("FROM a AS x\nFROM b AS x\n"),
        [("DuplicateStageName", 2)]
    );
    assert_eq!(rules("FROM a AS scratch\n"), [("ReservedStageName", 1)]);
}

#[test]
fn workdir_relative_path() {
    assert_eq!(rules("FROM a\nWORKDIR app\n"), [("WorkdirRelativePath", 2)]);
    assert_eq!(
        rules("FROM a AS b\nWORKDIR /srv\nWORKDIR app\nFROM b\nWORKDIR more\n"),
        []
    );
}

#[test]
fn copy_absolute_source() {
    assert_eq!(
        rules("FROM a\nCOPY /etc/passwd /x\nCOPY --from=b /etc/passwd /y\n"),
        [("CopyAbsoluteSource", 2)]
    );
}

#[test]
fn consistent_instruction_casing() {
    let f = findings("FROM a\nRUN x\nrun y\nWorkdir /z\n");
    let got: Vec<_> = f.iter().map(|f| (f.rule, f.line)).collect();
    assert_eq!(
        got,
        [
            ("ConsistentInstructionCasing", 3),
            ("ConsistentInstructionCasing", 4)
        ]
    );
    assert_eq!(
        f[0].message,
        "Command 'run' should match the case of the command majority (uppercase)"
    );
}

#[test]
fn multiple_instructions_empty_continuation_and_secrets() {
    assert_eq!(
        rules("FROM a\nCMD [\"a\"]\nCMD [\"b\"]\n"),
        [("MultipleInstructionsDisallowed", 3)]
    );
    assert_eq!(
        rules("FROM a\nRUN a \\\n\n b\n"),
        [("NoEmptyContinuation", 2)]
    );
    assert_eq!(
        rules("FROM a\nARG GITHUB_TOKEN\nENV MONKEY=1\n"),
        [("SecretsUsedInArgOrEnv", 2)]
    );
}

#[test]
fn check_directive_skips_and_errors() {
    let src = "# check=skip=JSONArgsRecommended,MaintainerDeprecated;error=true\nFROM a\nMAINTAINER me\nCMD x\nENV A b\n";
    let df = parse(src).unwrap();
    let o = Options::from_dockerfile(&df);
    assert!(o.error);
    assert_eq!(
        check(&df, &o)
            .into_iter()
            .map(|f| f.rule)
            .collect::<Vec<_>>(),
        ["LegacyKeyValueFormat"]
    );
    let df = parse("# check=skip=all\nFROM a\nMAINTAINER me\n").unwrap();
    assert!(check(&df, &Options::from_dockerfile(&df)).is_empty());
}
