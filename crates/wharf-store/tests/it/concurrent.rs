//! Several processes updating one store at once never lose or corrupt each other's entries.

use wharf_store::Store;

use crate::common::{assert_child_ok, commit_tiny, index_names, is_child, spawn_child, temp_store};

const ROOT_ENV: &str = "WHARF_STORE_CONC_ROOT";
const WORKER_ENV: &str = "WHARF_STORE_CONC_WORKER";
const WORKERS: usize = 4;
const PER_WORKER: usize = 15;

/// Child: commits PER_WORKER images under its own names, retags each to a shared name, and
/// untags half of what it made, racing the other workers.
fn worker() {
    let root = std::env::var(ROOT_ENV).unwrap();
    let w: usize = std::env::var(WORKER_ENV).unwrap().parse().unwrap();
    let store = Store::open(&root).unwrap();
    for i in 0..PER_WORKER {
        let name = format!("w{w}/img{i}:v1");
        commit_tiny(&store, &name);
        store.tag(&name, "shared:latest").unwrap();
        store.tag(&name, &format!("w{w}/img{i}:gone")).unwrap();
        store.untag(&format!("w{w}/img{i}:gone")).unwrap();
    }
}

#[test]
fn concurrent_processes_never_lose_index_entries() {
    if is_child() {
        worker();
        return;
    }
    let (dir, store) = temp_store();
    let root = dir.path().join("root");
    let children: Vec<_> = (0..WORKERS)
        .map(|w| {
            spawn_child(
                "concurrent::concurrent_processes_never_lose_index_entries",
                &[
                    (ROOT_ENV, root.display().to_string()),
                    (WORKER_ENV, w.to_string()),
                ],
            )
        })
        .collect();
    for c in children {
        assert_child_ok(&c.wait_with_output().unwrap());
    }
    let mut names = index_names(&root);
    names.sort();
    let mut expected: Vec<String> = (0..WORKERS)
        .flat_map(|w| (0..PER_WORKER).map(move |i| format!("localhost/w{w}/img{i}:v1")))
        .collect();
    expected.push("localhost/shared:latest".to_owned());
    expected.sort();
    assert_eq!(names, expected);
    // Every committed image is still fully present and every reference holds.
    let report = store.fsck().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(
        store.list_images().unwrap().len(),
        expected.len(),
        "no duplicate or stray entries"
    );
    assert!(crate::common::tmp_leftovers(&root).is_empty());
}
