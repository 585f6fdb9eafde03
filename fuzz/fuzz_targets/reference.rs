//! Image references, digests and platforms from arbitrary input: a value or an error, never a
//! panic; and every accepted reference prints to a string that parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_oci::{Platform, Reference};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    for parsed in [Reference::parse(s), Reference::parse_local(s)] {
        if let Ok(r) = parsed {
            let again = Reference::parse(&r.to_string()).expect("a printed reference parses");
            assert_eq!(again, r);
            let _ = r.familiar();
        }
    }
    let _ = Reference::is_short_name(s);
    let _ = wharf_oci::digest::parse(s);
    let _ = Platform::parse(s);
});
