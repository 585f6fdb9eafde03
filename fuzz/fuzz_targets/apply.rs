//! Arbitrary bytes applied as a layer tar: apply_layer must return (Ok or Err) without
//! panicking, and must never create anything outside the root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_archive::{ApplyOptions, apply_layer};

fuzz_target!(|data: &[u8]| {
    // One scratch directory per fuzzing process, emptied before every input.
    let base = std::env::temp_dir().join(format!("wharf-fuzz-apply-{}", std::process::id()));
    if std::fs::remove_dir_all(&base).is_err() && base.exists() {
        // A read-only directory from the previous input: make it removable.
        let _ = std::process::Command::new("chmod")
            .args(["-R", "u+rwx"])
            .arg(&base)
            .status();
        let _ = std::fs::remove_dir_all(&base);
    }
    let root = base.join("root");
    let outside = base.join("outside");
    if std::fs::create_dir_all(&root).is_err() || std::fs::create_dir(&outside).is_err() {
        return;
    }
    let opts = ApplyOptions {
        same_owner: false,
        ..ApplyOptions::default()
    };
    let _ = apply_layer(data, &root, &opts);
    let escaped = std::fs::read_dir(&outside).map_or(0, Iterator::count);
    assert_eq!(escaped, 0, "an entry was written outside the root");
    let top = std::fs::read_dir(&base).map_or(0, Iterator::count);
    assert_eq!(top, 2, "an entry was written next to the root");
});
