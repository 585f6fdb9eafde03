//! Signatures made by the real cosign (containers/image's fixtures, see fixtures/README.md)
//! verify with Wharf's code, and only for the manifest and key they belong to.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use wharf_sign::sigstore::{PublicKey, Signature};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

#[test]
fn a_cosign_signature_verifies_for_its_manifest_and_key_only() {
    let sig = Signature::from_containers_file(&fixture("valid-signature-1")).unwrap();
    let key = PublicKey::from_pem(&fixture("cosign.pub"), "cosign.pub").unwrap();
    let manifest = wharf_oci::digest::sha256(&fixture("valid-manifest.json"));
    let payload = sig.verify(&key, &manifest).unwrap();
    assert_eq!(
        payload.critical.identity.docker_reference,
        "192.168.64.2:5000/cosign-signed-single-sample"
    );
    // Another manifest, another key: refused.
    let modified = wharf_oci::digest::sha256(&fixture("modified-manifest.json"));
    let err = sig.verify(&key, &modified).unwrap_err().to_string();
    assert!(err.contains("not sha256:"), "{err}");
    let other = PublicKey::from_pem(&fixture("cosign2.pub"), "cosign2.pub").unwrap();
    let err = sig.verify(&other, &manifest).unwrap_err().to_string();
    assert!(err.contains("does not verify"), "{err}");
    // One flipped bit of the payload: refused.
    let mut tampered = sig.clone();
    tampered.payload[10] ^= 1;
    assert!(tampered.verify(&key, &manifest).is_err());
}
