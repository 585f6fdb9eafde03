//! `sync` against a real registry: a repository's tags, a YAML list filtered by regex, a
//! directory tree both ways, and a dry run that writes nothing.

use std::sync::Arc;

use wharf_registry::{ClientOptions, RegistryClient};
use wharf_testkit::registry::Registry;
use wharf_transport::sync::{plan, sync};
use wharf_transport::{CopyOptions, ManifestFormat, SyncDest, SyncOptions, SyncSource};

use crate::{BASE, base_store, client, copy, manifest, quick, rt};

fn opts() -> SyncOptions {
    SyncOptions {
        copy: quick(),
        ..SyncOptions::default()
    }
}

fn run_sync(
    from: SyncSource,
    src: &str,
    to: SyncDest,
    dst: &str,
    c: &ClientOptions,
    o: &SyncOptions,
) -> Vec<String> {
    rt().block_on(async {
        let p = plan(from, src, to, dst, c, o).await.unwrap();
        // The destination is the plain test registry whatever the source options say.
        let dc = ClientOptions {
            tls_verify: Some(false),
            ..c.clone()
        };
        let r = sync(&p, &dc, o, &|_| {}).await.unwrap();
        assert!(r.failed.is_empty());
        p.images
            .iter()
            .map(|i| format!("{} -> {}", i.source, i.destination))
            .collect()
    })
}

fn tags(c: &ClientOptions, addr: &str, repo: &str) -> Vec<String> {
    rt().block_on(async {
        let mut t = RegistryClient::new(addr, c)
            .unwrap()
            .list_tags(repo, None)
            .await
            .unwrap();
        t.sort();
        t
    })
}

#[test]
fn sync_repositories_yaml_and_directories() {
    let Some((tmp, store)) = base_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let c = client(tmp.path());
    let a = reg.addr();
    let t = tmp.path().display();
    // Two tags holding two different manifests (OCI and Docker v2s2).
    copy(
        &store,
        &c,
        &format!("store:{BASE}"),
        &format!("docker://{a}/src/lib/busybox:1"),
        &quick(),
    );
    let v2s2 = CopyOptions {
        format: Some(ManifestFormat::Docker),
        ..quick()
    };
    copy(
        &store,
        &c,
        &format!("store:{BASE}"),
        &format!("docker://{a}/src/lib/busybox:2"),
        &v2s2,
    );
    let d1 = manifest(&store, &c, &format!("docker://{a}/src/lib/busybox:1")).digest;
    let d2 = manifest(&store, &c, &format!("docker://{a}/src/lib/busybox:2")).digest;
    assert_ne!(d1, d2);

    // A repository without tag: every tag, named by the repository's last component.
    let done = run_sync(
        SyncSource::Docker,
        &format!("{a}/src/lib/busybox"),
        SyncDest::Docker,
        &format!("{a}/mirror/"),
        &c,
        &opts(),
    );
    assert_eq!(done.len(), 2, "{done:?}");
    assert_eq!(tags(&c, a, "mirror/busybox"), ["1", "2"]);
    assert_eq!(
        manifest(&store, &c, &format!("docker://{a}/mirror/busybox:1")).digest,
        d1
    );
    assert_eq!(
        manifest(&store, &c, &format!("docker://{a}/mirror/busybox:2")).digest,
        d2
    );

    // One tagged image only, with a suffix.
    let o = SyncOptions {
        append_suffix: "-m".into(),
        ..opts()
    };
    run_sync(
        SyncSource::Docker,
        &format!("{a}/src/lib/busybox:2"),
        SyncDest::Docker,
        &format!("{a}/one"),
        &c,
        &o,
    );
    assert_eq!(tags(&c, a, "one/busybox"), ["2-m"]);

    // YAML with a tag regex; its tls-verify: false is what lets the plain registry be used.
    let yaml = tmp.path().join("sync.yml");
    std::fs::write(
        &yaml,
        format!("{a}:\n  tls-verify: false\n  images-by-tag-regex:\n    src/lib/busybox: ^1$\n  images:\n    src/lib/busybox: [\"2\"]\n"),
    )
    .unwrap();
    let strict = ClientOptions {
        tls_verify: None,
        ..c.clone()
    };
    let done = run_sync(
        SyncSource::Yaml,
        yaml.to_str().unwrap(),
        SyncDest::Docker,
        &format!("{a}/yaml"),
        &strict,
        &opts(),
    );
    assert_eq!(done.len(), 2, "{done:?}");
    assert_eq!(tags(&c, a, "yaml/busybox"), ["1", "2"]);
    std::fs::write(
        &yaml,
        format!("{a}:\n  tls-verify: false\n  images-by-tag-regex:\n    src/lib/busybox: ^1$\n"),
    )
    .unwrap();
    run_sync(
        SyncSource::Yaml,
        yaml.to_str().unwrap(),
        SyncDest::Docker,
        &format!("{a}/regex"),
        &strict,
        &opts(),
    );
    assert_eq!(tags(&c, a, "regex/busybox"), ["1"]);

    // Registry to directories (scoped keeps the full path), and back.
    let dirs = tmp.path().join("usb");
    run_sync(
        SyncSource::Docker,
        &format!("{a}/src/lib/busybox"),
        SyncDest::Dir,
        dirs.to_str().unwrap(),
        &c,
        &opts(),
    );
    for tag in ["1", "2"] {
        assert!(dirs.join(format!("busybox:{tag}/manifest.json")).is_file());
    }
    assert_eq!(
        manifest(&store, &c, &format!("dir:{t}/usb/busybox:2")).digest,
        d2
    );
    let scoped = SyncOptions {
        scoped: true,
        ..opts()
    };
    run_sync(
        SyncSource::Docker,
        &format!("{a}/src/lib/busybox:1"),
        SyncDest::Dir,
        &format!("{t}/scoped"),
        &c,
        &scoped,
    );
    assert!(
        tmp.path()
            .join(format!("scoped/{a}/src/lib/busybox:1/manifest.json"))
            .is_file()
    );
    // A directory that exists is refused, as skopeo does.
    let e = rt()
        .block_on(plan(
            SyncSource::Docker,
            &format!("{a}/src/lib/busybox"),
            SyncDest::Dir,
            dirs.to_str().unwrap(),
            &c,
            &opts(),
        ))
        .unwrap_err();
    assert!(e.to_string().contains("refusing to overwrite"), "{e}");
    run_sync(
        SyncSource::Dir,
        dirs.to_str().unwrap(),
        SyncDest::Docker,
        &format!("{a}/back"),
        &c,
        &opts(),
    );
    assert_eq!(tags(&c, a, "back/busybox"), ["1", "2"]);
    assert_eq!(
        manifest(&store, &c, &format!("docker://{a}/back/busybox:1")).digest,
        d1
    );
    // A directory that is itself one image syncs under its own name.
    run_sync(
        SyncSource::Dir,
        &format!("{t}/usb/busybox:2"),
        SyncDest::Docker,
        &format!("{a}/single"),
        &c,
        &opts(),
    );
    assert_eq!(tags(&c, a, "single/busybox"), ["2"]);
}

#[test]
fn sync_dry_run_writes_nothing() {
    let Some((tmp, store)) = base_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let c = client(tmp.path());
    let a = reg.addr();
    copy(
        &store,
        &c,
        &format!("store:{BASE}"),
        &format!("docker://{a}/src/busybox:1"),
        &quick(),
    );
    let dry = SyncOptions {
        dry_run: true,
        ..opts()
    };
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (p, r) = rt().block_on(async {
        let s = seen.clone();
        let on = move |e: &wharf_transport::SyncEvent<'_>| {
            if let wharf_transport::SyncEvent::Copying { to, dry_run, .. } = e {
                s.lock().unwrap().push((to.to_string(), *dry_run));
            }
        };
        let dir = tmp.path().join("out");
        let p = plan(
            SyncSource::Docker,
            &format!("{a}/src/busybox"),
            SyncDest::Dir,
            dir.to_str().unwrap(),
            &c,
            &dry,
        )
        .await
        .unwrap();
        let r = sync(&p, &c, &dry, &on).await.unwrap();
        let p2 = plan(
            SyncSource::Docker,
            &format!("{a}/src/busybox"),
            SyncDest::Docker,
            &format!("{a}/dst"),
            &c,
            &dry,
        )
        .await
        .unwrap();
        sync(&p2, &c, &dry, &|_| {}).await.unwrap();
        (p, r)
    });
    assert_eq!(p.images.len(), 1);
    assert!(r.synced.is_empty());
    assert_eq!(
        *seen.lock().unwrap(),
        [(format!("dir:{}/out/busybox:1", tmp.path().display()), true)]
    );
    assert!(
        !tmp.path().join("out").exists(),
        "a dry run created the destination"
    );
    let e = rt().block_on(async {
        RegistryClient::new(a, &c)
            .unwrap()
            .list_tags("dst/busybox", None)
            .await
    });
    assert!(
        e.is_err_and(|e| e.is_not_found()),
        "a dry run pushed to the registry"
    );
}

#[test]
fn sync_keep_going_reports_failures_and_goes_on() {
    let Some((tmp, store)) = base_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let c = client(tmp.path());
    let a = reg.addr();
    copy(
        &store,
        &c,
        &format!("store:{BASE}"),
        &format!("docker://{a}/src/busybox:1"),
        &quick(),
    );
    let yaml = tmp.path().join("sync.yml");
    std::fs::write(
        &yaml,
        format!("{a}:\n  images:\n    src/busybox: [nope, \"1\"]\n"),
    )
    .unwrap();
    let y = yaml.to_str().unwrap();
    let dst = format!("{a}/kept");
    let stop = rt()
        .block_on(async {
            let p = plan(SyncSource::Yaml, y, SyncDest::Docker, &dst, &c, &opts()).await?;
            sync(&p, &c, &opts(), &|_| {}).await
        })
        .unwrap_err();
    assert!(stop.to_string().contains("src/busybox:nope"), "{stop}");
    let on = SyncOptions {
        keep_going: true,
        ..opts()
    };
    let r = rt().block_on(async {
        let p = plan(SyncSource::Yaml, y, SyncDest::Docker, &dst, &c, &on)
            .await
            .unwrap();
        sync(&p, &c, &on, &|_| {}).await.unwrap()
    });
    assert_eq!(r.failed.len(), 1);
    assert!(
        r.failed[0].0.to_string().ends_with("src/busybox:nope"),
        "{:?}",
        r.failed
    );
    assert!(
        r.failed[0].1.to_string().contains("not found"),
        "{}",
        r.failed[0].1
    );
    assert_eq!(r.synced.len(), 1);
    assert_eq!(tags(&c, a, "kept/busybox"), ["1"]);
}

/// Repositories of a YAML file that cannot be listed (unknown repository, bad regex, a
/// registry that does not answer): without `keep_going` the first one ends the plan with an
/// error naming it; with it, each is reported and the others are synced.
#[test]
fn sync_yaml_keep_going_past_repositories_that_cannot_be_listed() {
    let Some((tmp, store)) = base_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let Some(dst) = Registry::start_plain() else {
        return;
    };
    let c = client(tmp.path());
    let (a, b) = (reg.addr(), dst.addr());
    copy(
        &store,
        &c,
        &format!("store:{BASE}"),
        &format!("docker://{a}/up/busybox:1"),
        &quick(),
    );
    // A port nothing listens on: bound, then closed.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let yaml = tmp.path().join("sync.yml");
    std::fs::write(
        &yaml,
        format!(
            "{a}:\n  tls-verify: false\n  images:\n    nope/missing: []\n    up/busybox: []\n  \
             images-by-tag-regex:\n    up/busybox: '(unclosed'\n\
             {dead}:\n  tls-verify: false\n  images:\n    gone/away: []\n"
        ),
    )
    .unwrap();
    let src = yaml.to_str().unwrap();
    let dc = ClientOptions {
        tls_verify: Some(false),
        ..c.clone()
    };

    let strict = opts();
    let err = rt()
        .block_on(plan(
            SyncSource::Yaml,
            src,
            SyncDest::Docker,
            b,
            &c,
            &strict,
        ))
        .unwrap_err();
    let msg = format!("{err} / {:?}", std::error::Error::source(&err));
    assert!(msg.contains(&format!("{a}/nope/missing")), "{msg}");

    let going = SyncOptions {
        keep_going: true,
        ..opts()
    };
    let p = rt()
        .block_on(plan(SyncSource::Yaml, src, SyncDest::Docker, b, &c, &going))
        .unwrap();
    let failed: Vec<String> = p.failed.iter().map(ToString::to_string).collect();
    assert_eq!(
        failed,
        [
            format!("listing the images of {a}/nope/missing"),
            format!("listing the images of {a}/up/busybox"),
            format!("listing the images of {dead}/gone/away"),
        ]
    );
    let causes: Vec<String> = p
        .failed
        .iter()
        .map(|e| std::error::Error::source(e).unwrap().to_string())
        .collect();
    assert!(causes[1].contains("(unclosed"), "{causes:?}");
    assert_eq!(p.images.len(), 1);
    let r = rt().block_on(sync(&p, &dc, &going, &|_| {})).unwrap();
    assert!(r.failed.is_empty());
    assert_eq!(r.synced.len(), 1);
    assert_eq!(tags(&dc, b, "busybox"), ["1"]);
}
