//! Interoperability with skopeo: each side reads what the other wrote.

use std::process::Command;

use wharf_testkit::registry::Registry;

use crate::{BASE, base_store, client, copy, have, manifest, quick};

fn skopeo(args: &[&str]) -> String {
    let out = Command::new("skopeo").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn skopeo_reads_what_we_write_and_we_read_what_it_writes() {
    if !have("skopeo") {
        return;
    }
    let Some((tmp, store)) = base_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let c = client(tmp.path());
    let t = tmp.path().display();
    let a = reg.addr();
    let ours = format!("docker://{a}/ours/busybox:1");
    let digest = copy(&store, &c, &format!("store:{BASE}"), &ours, &quick())
        .manifest_digest
        .unwrap();

    // skopeo reads and copies what we pushed, keeping the digest.
    let info: serde_json::Value =
        serde_json::from_str(&skopeo(&["inspect", "--tls-verify=false", &ours])).unwrap();
    assert_eq!(info["Digest"], digest.to_string());
    let theirs = format!("docker://{a}/theirs/busybox:2");
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        &ours,
        &theirs,
    ]);
    // We read and copy what skopeo pushed.
    assert_eq!(manifest(&store, &c, &theirs).digest, digest);
    let r = copy(
        &store,
        &c,
        &theirs,
        &format!("oci:{t}/fromskopeo:x"),
        &quick(),
    );
    assert_eq!(r.manifest_digest.unwrap(), digest);

    // An oci-archive written by skopeo is read by us.
    let oa = format!("oci-archive:{t}/skopeo.tar:img");
    skopeo(&["copy", "--src-tls-verify=false", &ours, &oa]);
    let r = copy(
        &store,
        &c,
        &oa,
        "store:localhost/from-oci-archive",
        &quick(),
    );
    assert_eq!(r.manifest_digest.unwrap(), digest);

    // A docker-archive written by us is read by skopeo, with the same config and diff IDs.
    let da = format!("docker-archive:{t}/ours.tar:busybox:ours");
    copy(&store, &c, &format!("store:{BASE}"), &da, &quick());
    let out = format!("oci:{t}/skopeo-from-da:x");
    skopeo(&["copy", &da, &out]);
    let orig = manifest(&store, &c, &format!("store:{BASE}"));
    let back = manifest(&store, &c, &out);
    assert_eq!(
        back.image().unwrap().config().digest(),
        orig.image().unwrap().config().digest()
    );
    let info: serde_json::Value = serde_json::from_str(&skopeo(&["inspect", &da])).unwrap();
    assert_eq!(info["Labels"]["org.example"], "wharf");

    // And a docker-archive written by skopeo is read by us.
    let sda = format!("docker-archive:{t}/skopeo-da.tar:busybox:sk");
    skopeo(&["copy", "--src-tls-verify=false", &ours, &sda]);
    let r = copy(&store, &c, &sda, &format!("oci:{t}/from-sda:x"), &quick());
    let m = manifest(&store, &c, &format!("oci:{t}/from-sda:x"));
    assert_eq!(r.manifest_digest.unwrap(), m.digest);
    assert_eq!(
        m.image().unwrap().config().digest(),
        orig.image().unwrap().config().digest()
    );
}
