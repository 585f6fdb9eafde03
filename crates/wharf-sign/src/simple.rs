//! Simple signing (`signedBy`): an OpenPGP-signed JSON payload of type
//! `atomic container signature`, stored in lookaside storage.

use wharf_oci::Digest;

use crate::error::{Result, SignError};
use crate::sigstore::Payload;

/// The payload's `critical.type`.
pub const PAYLOAD_TYPE: &str = "atomic container signature";

/// GPG public keys a `signedBy` requirement trusts.
#[derive(Debug, Clone)]
pub struct GpgKeys {
    /// The key material as read (armored or binary), one entry per file or `keyData`.
    pub material: Vec<Vec<u8>>,
}

/// Verifies an OpenPGP-signed simple-signing blob with `keys`; returns its payload when the
/// signature is good and names `digest`.
pub fn verify(keys: &GpgKeys, blob: &[u8], digest: &Digest) -> Result<Payload> {
    let _ = (keys, blob, digest);
    Err(SignError::Unsupported {
        what: "verifying OpenPGP (signedBy) signatures is not implemented yet".into(),
    })
}
