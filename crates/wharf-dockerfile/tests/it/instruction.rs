//! The typed instruction model, one case per instruction and flag family.

use std::time::Duration;

use wharf_dockerfile::instruction::{Command, Healthcheck, Instruction, instructions};
use wharf_dockerfile::mount::{MountType, Sharing};
use wharf_dockerfile::parse;

fn typed(src: &str) -> Vec<Instruction> {
    instructions(&parse(src).unwrap())
        .unwrap()
        .into_iter()
        .map(|l| l.instruction)
        .collect()
}

fn error(src: &str) -> String {
    instructions(&parse(src).unwrap()).unwrap_err().to_string()
}

#[test]
fn from_with_platform_and_name() {
    let Instruction::From(f) = &typed("FROM --platform=$BUILDPLATFORM golang:1.22 AS Build\n")[0]
    else {
        panic!()
    };
    assert_eq!(f.image, "golang:1.22");
    assert_eq!(f.platform.as_deref(), Some("$BUILDPLATFORM"));
    assert_eq!(f.name.as_deref(), Some("build"));
    assert_eq!(f.name_as_written.as_deref(), Some("Build"));
    assert_eq!(
        error("FROM a AS\n"),
        "1:1: FROM requires either one or three arguments"
    );
    assert_eq!(
        error("FROM a AS 1x\n"),
        "1:11: invalid stage name \"1x\", must match [a-z][a-z0-9-_.]*"
    );
}

#[test]
fn run_mounts_network_security() {
    let src = "FROM a\nRUN --mount=type=cache,target=/c,sharing=locked,id=x,uid=1000,mode=0700 \\\n    --mount=type=secret,id=tok,env=TOKEN,required \\\n    --mount=type=tmpfs,target=/t,size=64m \\\n    --mount=type=ssh \\\n    --mount=target=/src,rw \\\n    --network=none --security=insecure make\n";
    let Instruction::Run(r) = &typed(src)[1] else {
        panic!()
    };
    assert_eq!(r.command, Command::Shell("make".to_owned()));
    assert_eq!(
        (r.network.as_deref(), r.security.as_deref()),
        (Some("none"), Some("insecure"))
    );
    let m = &r.mounts;
    assert_eq!(m.len(), 5);
    assert_eq!(
        (m[0].kind, m[0].sharing, m[0].uid, m[0].mode),
        (
            MountType::Cache,
            Some(Sharing::Locked),
            Some(1000),
            Some(0o700)
        )
    );
    assert_eq!(
        (
            m[1].kind,
            m[1].env.as_deref(),
            m[1].required,
            m[1].read_only
        ),
        (MountType::Secret, Some("TOKEN"), true, true)
    );
    assert_eq!(
        (m[2].kind, m[2].size, m[2].read_only),
        (MountType::Tmpfs, Some(64 << 20), false)
    );
    assert_eq!(m[3].kind, MountType::Ssh);
    assert_eq!(
        (m[4].kind, m[4].target.as_deref(), m[4].read_only),
        (MountType::Bind, Some("/src"), false)
    );
    assert!(
        error("FROM a\nRUN --mount=type=nfs,target=/x true\n").contains("unsupported mount type")
    );
    assert!(
        error("FROM a\nRUN --mount=type=bind,target=/x,size=1 true\n")
            .contains("unexpected key 'size'")
    );
    assert!(
        error("FROM a\nRUN --mount=type=bind,from=$X,target=/x true\n")
            .contains("define alias stage")
    );
    assert!(error("FROM a\nRUN --network=bridge true\n").contains("--network"));
}

#[test]
fn copy_and_add_flags() {
    let src = "FROM a\nCOPY --from=build --chown=1:2 --chmod=755 --link --exclude=*.md --exclude=x --parents a b /dst/\nADD --checksum=sha256:00 --keep-git-dir=true --unpack=false https://x/y.tgz /z\n";
    let t = typed(src);
    let Instruction::Copy(c) = &t[1] else {
        panic!()
    };
    assert_eq!(
        (c.sources.clone(), c.dest.as_str()),
        (vec!["a".to_owned(), "b".to_owned()], "/dst/")
    );
    assert_eq!(
        (c.from.as_deref(), c.chown.as_deref(), c.chmod.as_deref()),
        (Some("build"), Some("1:2"), Some("755"))
    );
    assert!(c.link && c.parents);
    assert_eq!(c.excludes, ["*.md", "x"]);
    let Instruction::Add(a) = &t[2] else { panic!() };
    assert_eq!(
        (a.checksum.as_deref(), a.keep_git_dir, a.unpack),
        (Some("sha256:00"), Some(true), Some(false))
    );
    assert_eq!(
        error("FROM a\nCOPY --user=me a b\n"),
        "2:6: unknown flag: --user"
    );
    assert_eq!(
        error("FROM a\nADD --from=x a b\n"),
        "2:5: unknown flag: --from"
    );
    assert_eq!(
        error("FROM a\nCOPY --chown=a --chown=b a b\n"),
        "2:16: duplicate flag specified: --chown"
    );
    assert_eq!(
        error("FROM a\nCOPY --from a b\n"),
        "2:6: missing a value on flag: --from"
    );
    assert_eq!(
        error("FROM a\nCOPY onlyone\n"),
        "2:1: COPY requires at least two arguments"
    );
}

#[test]
fn env_arg_label_forms() {
    let t = typed("FROM a\nENV A=1 B=\"two words\"\nENV C three words\nARG X Y=2\nLABEL k=v\n");
    let Instruction::Env(e) = &t[1] else { panic!() };
    assert_eq!(
        (e[1].key.as_str(), e[1].value.as_str(), e[1].legacy),
        ("B", "\"two words\"", false)
    );
    let Instruction::Env(e) = &t[2] else { panic!() };
    assert_eq!((e[0].value.as_str(), e[0].legacy), ("three words", true));
    let Instruction::Arg(a) = &t[3] else { panic!() };
    assert_eq!(
        (a[0].default.clone(), a[1].default.clone()),
        (None, Some("2".to_owned()))
    );
    assert!(matches!(&t[4], Instruction::Label(l) if l[0].key == "k"));
}

#[test]
fn healthcheck_options_and_none() {
    let t = typed(
        "FROM a\nHEALTHCHECK --interval=1m30s --timeout=500ms --retries=3 CMD [\"curl\", \"-f\"]\nHEALTHCHECK NONE\n",
    );
    let Instruction::Healthcheck(Healthcheck::Cmd {
        command,
        interval,
        timeout,
        retries,
        start_period,
        ..
    }) = &t[1]
    else {
        panic!()
    };
    assert_eq!(
        command,
        &Command::Exec(vec!["curl".to_owned(), "-f".to_owned()])
    );
    assert_eq!(
        (*interval, *timeout, *retries, *start_period),
        (
            Some(Duration::from_secs(90)),
            Some(Duration::from_millis(500)),
            Some(3),
            None
        )
    );
    assert_eq!(t[2], Instruction::Healthcheck(Healthcheck::None));
    assert!(error("FROM a\nHEALTHCHECK CONNECT x\n").contains("unknown type \"CONNECT\""));
    assert!(error("FROM a\nHEALTHCHECK NONE x\n").contains("takes no arguments"));
    assert!(error("FROM a\nHEALTHCHECK --interval=5 CMD x\n").contains("--interval"));
}

#[test]
fn exec_and_shell_forms_shell_onbuild_and_the_rest() {
    let t = typed(
        "FROM a\nCMD [\"a\", \"b\"]\nENTRYPOINT exec app\nSHELL [\"bash\", \"-c\"]\nONBUILD COPY --from=x a b\nEXPOSE 80/tcp 443\nVOLUME [\"/v\"]\nUSER u:g\nWORKDIR /w\nSTOPSIGNAL SIGTERM\nMAINTAINER me\n",
    );
    assert_eq!(
        t[1],
        Instruction::Cmd(Command::Exec(vec!["a".to_owned(), "b".to_owned()]))
    );
    assert_eq!(
        t[2],
        Instruction::Entrypoint(Command::Shell("exec app".to_owned()))
    );
    assert_eq!(
        t[3],
        Instruction::Shell(vec!["bash".to_owned(), "-c".to_owned()])
    );
    let Instruction::Onbuild(inner) = &t[4] else {
        panic!()
    };
    assert!(matches!(&inner.instruction, Instruction::Copy(c) if c.from.as_deref() == Some("x")));
    assert_eq!(
        t[5],
        Instruction::Expose(vec!["80/tcp".to_owned(), "443".to_owned()])
    );
    assert_eq!(t[6], Instruction::Volume(vec!["/v".to_owned()]));
    assert_eq!(t[7], Instruction::User("u:g".to_owned()));
    assert_eq!(t[8], Instruction::Workdir("/w".to_owned()));
    assert_eq!(t[9], Instruction::StopSignal("SIGTERM".to_owned()));
    assert_eq!(t[10], Instruction::Maintainer("me".to_owned()));
    assert!(error("FROM a\nSHELL bash -c\n").contains("JSON form"));
    assert!(error("FROM a\nONBUILD FROM b\n").contains("FROM isn't allowed as an ONBUILD trigger"));
}
