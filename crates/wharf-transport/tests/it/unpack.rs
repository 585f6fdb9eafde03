//! Unpack during pull (issue 15 §1): a pull into the store leaves every layer unpacked and
//! verified, and a layer whose bytes do not match its digest leaves neither its blob nor a
//! tree behind.

use wharf_oci::Digest;
use wharf_oci::config::ImageConfig;
use wharf_store::Store;
use wharf_testkit::registry::Registry;

use crate::{BASE, base_store, client, copy, manifest, quick, try_copy};

/// The layer directories a store would use for `config`'s layers.
fn layer_dirs(store: &Store, config: &ImageConfig) -> Vec<std::path::PathBuf> {
    wharf_store::chain_id(&config.rootfs.diff_ids)
        .iter()
        .map(|c| store.layer_dir(c))
        .collect()
}

/// Entries under the store's `tmp/` and `layers/` (leftovers of a failed unpack show there).
fn names(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn pull_into_the_store_unpacks_every_layer_on_the_way() {
    let Some((tmp, store)) = base_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let c = client(tmp.path());
    let src = format!("docker://{}/unpack/busybox:1", reg.addr());
    copy(&store, &c, &format!("store:{BASE}"), &src, &quick());

    let fresh = Store::open(tmp.path().join("fresh")).unwrap();
    let report = copy(&fresh, &c, &src, "store:pulled:1", &quick());
    let m = manifest(&fresh, &c, "store:pulled:1");
    let image = m.image().unwrap();
    assert_eq!(report.copied, 1 + image.layers().len(), "{report:?}");
    let config: ImageConfig = fresh.read_json(image.config().digest()).unwrap();
    let dirs = layer_dirs(&fresh, &config);
    for d in &dirs {
        assert!(d.is_dir(), "{} was not unpacked by the pull", d.display());
    }
    assert!(
        dirs[0].join("bin/busybox").is_file(),
        "the base layer's tree lacks bin/busybox"
    );
    // What `kiln from` does next finds them ready and verified.
    let unpacked = fresh
        .unpack_layers(
            image,
            &config.rootfs.diff_ids,
            &wharf_store::default_apply_options(),
        )
        .unwrap();
    assert_eq!(unpacked.dirs, dirs);
    assert!(names(&fresh.tmp_dir()).iter().all(|n| !n.contains("layer")));
}

/// A registry serving wrong bytes for a layer (its file changed on disk, same size), flipped
/// in the middle of the compressed stream and in its last byte: the pull fails naming the
/// layer, and the store keeps no blob, no layer directory and no temporary tree.
#[test]
fn corrupt_layer_during_pull_leaves_no_blob_and_no_tree() {
    let Some((tmp, store)) = base_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let c = client(tmp.path());
    let src = format!("docker://{}/unpack/bad:1", reg.addr());
    copy(&store, &c, &format!("store:{BASE}"), &src, &quick());
    let m = manifest(&store, &c, &src);
    let layer: Digest = m.image().unwrap().layers()[0].digest().clone();
    let hex = layer.digest().to_owned();
    let data = reg
        .data_dir()
        .join("docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(&hex)
        .join("data");
    let good = std::fs::read(&data).unwrap();
    for at in [good.len() / 2, good.len() - 1] {
        let mut bytes = good.clone();
        bytes[at] ^= 0xff;
        std::fs::write(&data, &bytes).unwrap();
        let fresh = Store::open(tmp.path().join(format!("fresh-{at}"))).unwrap();
        let err = try_copy(&fresh, &c, &src, "store:pulled:1", &quick()).unwrap_err();
        let chain = anyhow_chain(&err);
        assert!(chain.contains(&hex), "byte {at}: {chain}");
        assert!(!fresh.has_blob(&layer), "byte {at}: the bad blob was kept");
        assert!(
            names(&fresh.layers_dir()).is_empty(),
            "byte {at}: layers/ holds {:?}",
            names(&fresh.layers_dir())
        );
        let left: Vec<String> = names(&fresh.tmp_dir())
            .into_iter()
            .filter(|n| n.contains("layer") || n.contains("blob"))
            .collect();
        assert!(left.is_empty(), "byte {at}: tmp/ holds {left:?}");
    }
}

/// The error and its sources, one line.
fn anyhow_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
