//! Rekor signed entry timestamps (SETs), verified offline as containers/image does
//! (`signature/internal/rekor_set.go`): cosign stores the transparency log's answer in the
//! `dev.sigstore.cosign/bundle` annotation, `{"SignedEntryTimestamp": base64 ECDSA signature,
//! "Payload": {"body", "integratedTime", "logIndex", "logID"}}`. The SET is Rekor's ECDSA
//! signature over the RFC 8785 canonical JSON of `Payload`; `body` is the logged
//! `hashedrekord` entry, which must name this signature, the SHA-256 of this payload and this
//! key or certificate. No network: the log's inclusion is proven by its key, not by asking it.

use serde::Deserialize;
use sha2::Digest as _;

use crate::sigstore::{PublicKey, decode_b64};

/// The annotation holding the Rekor bundle.
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// The only `hashedrekord` version containers/image and cosign accept.
const HASHEDREKORD_VERSION: &str = "0.0.1";
/// Bundles larger than this are refused (a real one is a few KiB).
const MAX_BUNDLE: usize = 1 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Bundle {
    #[serde(rename = "SignedEntryTimestamp")]
    set: String,
    #[serde(rename = "Payload")]
    payload: serde_json::Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetPayload {
    body: String,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logIndex")]
    _log_index: i64,
    #[serde(rename = "logID")]
    _log_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HashedRekord {
    api_version: String,
    kind: String,
    spec: HashedRekordSpec,
}

#[derive(Deserialize)]
struct HashedRekordSpec {
    data: Option<RekordData>,
    signature: Option<RekordSignature>,
}

#[derive(Deserialize)]
struct RekordData {
    hash: Option<RekordHash>,
}

#[derive(Deserialize)]
struct RekordHash {
    algorithm: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RekordSignature {
    content: String,
    public_key: Option<RekordKey>,
}

#[derive(Deserialize)]
struct RekordKey {
    content: String,
}

/// RFC 8785 (JCS) canonical JSON of `v`: object keys sorted by UTF-16 code units, no
/// whitespace, strings escaped as ECMAScript's `JSON.stringify` does (which serde_json's
/// string escaping matches). Numbers must be integers (all a Rekor payload has); others are
/// refused rather than risk a formatting that differs from ECMAScript's.
pub fn canonical_json(v: &serde_json::Value, out: &mut String) -> Result<(), String> {
    use serde_json::Value;
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else {
                return Err(format!("the number {n} is not an integer"));
            }
        }
        Value::String(s) => {
            out.push_str(&serde_json::to_string(s).map_err(|e| e.to_string())?);
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(x, out)?;
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<(&String, Vec<u16>)> =
                m.keys().map(|k| (k, k.encode_utf16().collect())).collect();
            keys.sort_by(|a, b| a.1.cmp(&b.1));
            out.push('{');
            for (i, (k, _)) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).map_err(|e| e.to_string())?);
                out.push(':');
                canonical_json(&m[k.as_str()], out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// What a verified SET says about the signature: when the log recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Integrated {
    /// Seconds since the Unix epoch.
    pub time: u64,
}

/// Verifies the Rekor bundle `bundle` against the log keys `rekor_keys` (any one may have
/// signed it), and that its entry logs exactly this signature: `signature` (raw bytes), the
/// SHA-256 of `payload`, and `key_or_cert_der` (the DER of the PEM block the entry's
/// `publicKey` holds: the signing certificate, or the public key's SubjectPublicKeyInfo).
/// Returns the integrated time. Errors say which check failed.
pub fn verify(
    rekor_keys: &[PublicKey],
    bundle: &str,
    key_or_cert_der: &[u8],
    signature: &[u8],
    payload: &[u8],
) -> Result<Integrated, String> {
    if bundle.len() > MAX_BUNDLE {
        return Err(format!(
            "the Rekor bundle is larger than {MAX_BUNDLE} bytes"
        ));
    }
    let b: Bundle = serde_json::from_str(bundle)
        .map_err(|e| format!("the Rekor bundle ({BUNDLE_ANNOTATION}) is invalid: {e}"))?;
    let set = decode_b64(&b.set).map_err(|e| format!("the Rekor SET is not base64: {e}"))?;
    let mut canonical = String::new();
    canonical_json(&b.payload, &mut canonical)
        .map_err(|e| format!("the Rekor SET payload cannot be canonicalized: {e}"))?;
    if !rekor_keys
        .iter()
        .any(|k| k.verify_raw(canonical.as_bytes(), &set))
    {
        return Err(
            "the Rekor SET is not signed by the policy's Rekor public key (rekorPublicKey*)".into(),
        );
    }
    // Only the verified, canonical bytes are parsed further.
    let p: SetPayload = serde_json::from_str(&canonical)
        .map_err(|e| format!("the Rekor SET payload is invalid: {e}"))?;
    let time = u64::try_from(p.integrated_time).map_err(|_| {
        format!(
            "the Rekor integrated time {} is negative",
            p.integrated_time
        )
    })?;
    let body =
        decode_b64(&p.body).map_err(|e| format!("the Rekor entry body is not base64: {e}"))?;
    let entry: HashedRekord = serde_json::from_slice(&body)
        .map_err(|e| format!("the Rekor entry is not a hashedrekord entry: {e}"))?;
    if entry.kind != "hashedrekord" || entry.api_version != HASHEDREKORD_VERSION {
        return Err(format!(
            "the Rekor entry is a {} {} entry; only hashedrekord {HASHEDREKORD_VERSION} is supported",
            entry.kind, entry.api_version
        ));
    }
    let sig = entry
        .spec
        .signature
        .ok_or("the Rekor entry has no signature")?;
    let logged_key = sig
        .public_key
        .ok_or("the Rekor entry has no signature.publicKey")?;
    let logged_pem = decode_b64(&logged_key.content)
        .map_err(|e| format!("the Rekor entry's public key is not base64: {e}"))?;
    let logged = pem::parse(&logged_pem)
        .map_err(|e| format!("the Rekor entry's public key is not PEM: {e}"))?;
    if logged.contents() != key_or_cert_der {
        return Err("the Rekor entry logs another key or certificate than this signature's".into());
    }
    let logged_sig = decode_b64(&sig.content)
        .map_err(|e| format!("the Rekor entry's signature is not base64: {e}"))?;
    if logged_sig != signature {
        return Err("the Rekor entry logs another signature than this one".into());
    }
    let hash = entry
        .spec
        .data
        .and_then(|d| d.hash)
        .ok_or("the Rekor entry has no data.hash")?;
    if hash.algorithm != "sha256" {
        return Err(format!(
            "the Rekor entry hashes with {:?}; only sha256 is supported (as cosign)",
            hash.algorithm
        ));
    }
    let want = hex::encode(sha2::Sha256::digest(payload));
    if !hash.value.eq_ignore_ascii_case(&want) {
        return Err(format!(
            "the Rekor entry logs payload sha256:{}, not this signature's payload sha256:{want}",
            hash.value
        ));
    }
    Ok(Integrated { time })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{ "logIndex": 1, "body": "a\u0001\"é", "integratedTime": 1700000000,
                 "logID": "x", "nested": {"b": [1, true, null], "a": -2} }"#,
        )
        .expect("json");
        let mut out = String::new();
        canonical_json(&v, &mut out).expect("canonical");
        assert_eq!(
            out,
            "{\"body\":\"a\\u0001\\\"é\",\"integratedTime\":1700000000,\"logID\":\"x\",\"logIndex\":1,\"nested\":{\"a\":-2,\"b\":[1,true,null]}}"
        );
        let float: serde_json::Value = serde_json::from_str("{\"a\":1.5}").expect("json");
        assert!(canonical_json(&float, &mut String::new()).is_err());
    }
}
