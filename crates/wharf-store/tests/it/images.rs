//! Names: committing, resolving like podman, tagging, untagging and removing.

use wharf_oci::media_type::{OCI_INDEX, OCI_MANIFEST};
use wharf_store::StoreError;

use crate::common::{build_image, commit_tiny, index_names, temp_store};

#[test]
fn names_resolve_like_podman() {
    let (_dir, store) = temp_store();
    let (_, local) = commit_tiny(&store, "busybox");
    let (_, hub) = commit_tiny(&store, "docker.io/library/busybox:latest");
    let (_, quay) = commit_tiny(&store, "quay.io/team/tool:1.0");
    let mut names = index_names(store.root());
    names.sort();
    assert_eq!(
        names,
        [
            "docker.io/library/busybox:latest",
            "localhost/busybox:latest",
            "quay.io/team/tool:1.0"
        ]
    );
    // Short names: localhost first, then Docker Hub, then a matching repository anywhere.
    assert_eq!(store.resolve("busybox").unwrap().digest(), &local);
    assert_eq!(store.resolve("docker.io/busybox").unwrap().digest(), &hub);
    assert_eq!(store.resolve("tool:1.0").unwrap().digest(), &quay);
    assert_eq!(store.resolve("team/tool:1.0").unwrap().digest(), &quay);
    assert!(matches!(
        store.resolve("tool"),
        Err(StoreError::ImageNotFound { .. })
    ));
    // Image ID (config digest) prefix, as `kiln images` shows it, and manifest digests.
    let rec = store.resolve("quay.io/team/tool:1.0").unwrap();
    let id = store.image_id(&rec).unwrap();
    assert_eq!(store.resolve(&id.digest()[..12]).unwrap().digest(), &quay);
    assert_eq!(store.resolve(id.as_ref()).unwrap().digest(), &quay);
    assert_eq!(store.resolve(quay.as_ref()).unwrap().digest(), &quay);
}

#[test]
fn ambiguous_short_names_are_refused_with_the_candidates() {
    let (_dir, store) = temp_store();
    commit_tiny(&store, "quay.io/a/app:1");
    commit_tiny(&store, "ghcr.io/b/app:1");
    match store.resolve("app:1") {
        Err(StoreError::Ambiguous { candidates, .. }) => {
            assert_eq!(candidates, ["ghcr.io/b/app:1", "quay.io/a/app:1"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn tag_untag_and_remove() {
    let (_dir, store) = temp_store();
    let (_, a) = commit_tiny(&store, "app:1");
    store.tag("app:1", "app:latest").unwrap();
    store.tag("app:1", "registry.example:5000/x/app:2").unwrap();
    assert_eq!(store.image_names(&a).unwrap().len(), 3);

    // Moving a name: the old image keeps an unnamed entry, like podman's <none>.
    let (_, b) = commit_tiny(&store, "other");
    store.tag("other", "app:1").unwrap();
    store.tag("other", "app:latest").unwrap();
    assert_eq!(store.resolve("app:1").unwrap().digest(), &b);
    assert_eq!(
        store.image_names(&a).unwrap(),
        ["registry.example:5000/x/app:2"]
    );
    assert_eq!(
        store.untag("registry.example:5000/x/app:2").unwrap().len(),
        1
    );
    let dangling: Vec<_> = store
        .list_images()
        .unwrap()
        .into_iter()
        .filter(|r| r.digest() == &a)
        .collect();
    assert_eq!(dangling.len(), 1);
    assert_eq!(dangling[0].name, None);
    assert_eq!(store.prune_dangling().unwrap(), std::slice::from_ref(&a));

    assert!(matches!(
        store.tag("other", "Bad:Name"),
        Err(StoreError::InvalidName { .. })
    ));

    // Removing by one of several names removes only that name; by ID, all of them.
    assert_eq!(store.remove_image("app:1").unwrap(), ["localhost/app:1"]);
    assert_eq!(store.resolve("other").unwrap().digest(), &b);
    let mut removed = store.remove_image(&b.digest()[..10]).unwrap();
    removed.sort();
    assert_eq!(removed, ["localhost/app:latest", "localhost/other:latest"]);
    assert!(store.list_images().unwrap().is_empty());
    assert!(matches!(
        store.tag("nothing", "x"),
        Err(StoreError::ImageNotFound { .. })
    ));
}

#[test]
fn commit_refuses_a_manifest_whose_blobs_are_missing() {
    let (_dir, store) = temp_store();
    let img = build_image(&store, "x");
    std::fs::remove_file(store.blob_path(&img.layer)).unwrap();
    let err = store
        .commit_image(&img.manifest, OCI_MANIFEST, &["app".into()])
        .unwrap_err();
    match &err {
        StoreError::MissingBlob { digest, role, .. } => {
            assert_eq!(digest, &img.layer);
            assert_eq!(role, "layer 0");
        }
        other => panic!("{other:?}"),
    }
    assert!(store.list_images().unwrap().is_empty());
    // A declared media type that contradicts the document is refused too.
    assert!(matches!(
        store.commit_image(&img.manifest, OCI_INDEX, &[]),
        Err(StoreError::MediaTypeMismatch { .. })
    ));
    assert!(matches!(
        store.commit_image(&img.manifest, "text/plain", &[]),
        Err(StoreError::UnsupportedMediaType { .. })
    ));
    assert!(matches!(
        store.commit_image(b"{}", OCI_MANIFEST, &["UPPER".into()]),
        Err(StoreError::InvalidName { .. })
    ));
}

#[test]
fn an_index_is_committed_only_with_its_children() {
    let (_dir, store) = temp_store();
    let img = build_image(&store, "arm");
    let child = store.put_blob_bytes(OCI_MANIFEST, &img.manifest).unwrap();
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{
            "mediaType": OCI_MANIFEST, "digest": child.digest().to_string(), "size": child.size(),
            "platform": {"architecture": "arm64", "os": "linux"}
        }]
    }))
    .unwrap();
    let d = store
        .commit_image(&index, OCI_INDEX, &["multi:1".into()])
        .unwrap();
    assert_eq!(store.resolve("multi:1").unwrap().digest(), d.digest());
    // The ID of an index is its own digest.
    let rec = store.resolve("multi:1").unwrap();
    assert_eq!(&store.image_id(&rec).unwrap(), d.digest());

    std::fs::remove_file(store.blob_path(&img.layer)).unwrap();
    let err = store
        .commit_image(&index, OCI_INDEX, &["multi:2".into()])
        .unwrap_err();
    assert!(matches!(err, StoreError::MissingBlob { .. }), "{err:?}");
}

#[test]
fn image_users_are_the_containers_that_mount_its_top_layer() {
    let (_dir, store) = temp_store();
    let (img, _) = commit_tiny(&store, "app");
    let (other, _) = commit_tiny(&store, "other");
    assert!(store.image_users("app").unwrap().is_empty());
    // One container mounts app's layer chain, one mounts the other image.
    let chain = wharf_store::chain_id(std::slice::from_ref(&img.diff_id));
    store.record_container_layers("c2", &chain).unwrap();
    let chain_other = wharf_store::chain_id(std::slice::from_ref(&other.diff_id));
    store.record_container_layers("c1", &chain_other).unwrap();
    assert_eq!(store.image_users("app").unwrap(), ["c2"]);
    assert_eq!(store.image_users("localhost/other:latest").unwrap(), ["c1"]);
    // By ID too; a second name only untags, so nobody is in the way of removing that name.
    let id = store.image_id(&store.resolve("app").unwrap()).unwrap();
    assert_eq!(store.image_users(&id.digest()[..12]).unwrap(), ["c2"]);
    store.tag("app", "app2").unwrap();
    assert!(store.image_users("app2").unwrap().is_empty());
    assert_eq!(store.image_users(id.as_ref()).unwrap(), ["c2"]);
    // The container is gone: nothing uses the image.
    std::fs::remove_dir_all(store.container_dir("c2").unwrap()).unwrap();
    assert!(store.image_users(id.as_ref()).unwrap().is_empty());
}
