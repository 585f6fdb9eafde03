//! SLSA v1 provenance in BuildKit's shape (`predicateType: https://slsa.dev/provenance/v1`).
//!
//! What it never holds: `--secret` values (only the ids the build was given), and build
//! arguments whose names look like secrets (BuildKit's `SecretsUsedInArgOrEnv` rule:
//! `*_TOKEN`, `*_PASSWORD`, ...): those are left out and their names listed under
//! `redactedArgs`. `mode=max` adds the Dockerfile source and its steps as written, where
//! build arguments appear by name only.

use base64::Engine as _;
use serde_json::{Value, json};
use wharf_oci::Platform;

use super::{Invocation, ProvenanceMode, rfc3339};
use crate::{BuildOptions, Built};

/// BuildKit's build type: the parameters below follow its schema, so tools that read
/// BuildKit's provenance read this one; `runDetails.builder.id` names kiln.
pub const BUILD_TYPE: &str = "https://mobyproject.org/buildkit@v1";

/// The provenance predicate of `built`. `reproducible`: the times are fixed, so the
/// invocation id is derived from the inputs instead of drawn at random.
pub(crate) fn predicate(
    opts: &BuildOptions,
    built: &Built,
    mode: ProvenanceMode,
    platform: &Platform,
    invocation: &Invocation,
    reproducible: bool,
) -> Value {
    let (file_name, dockerfile) = &built.dockerfile;
    let dockerfile_digest = wharf_oci::digest::sha256(dockerfile);
    let mut args = serde_json::Map::new();
    let mut redacted = Vec::new();
    for (k, v) in &opts.build_args {
        if wharf_dockerfile::lint::looks_secret(k) {
            redacted.push(k.clone());
        } else {
            args.insert(format!("build-arg:{k}"), v.clone().into());
        }
    }
    if let Some(t) = &opts.target {
        args.insert("target".to_owned(), t.clone().into());
    }
    if let Some(p) = &opts.platform {
        args.insert("platform".to_owned(), p.to_string().into());
    }
    let mut request = json!({
        "frontend": "dockerfile.v0",
        "args": args,
        "locals": [{"name": "context"}, {"name": "dockerfile"}],
    });
    if !redacted.is_empty() {
        request["redactedArgs"] = redacted.into();
    }
    if !opts.run.secrets.is_empty() {
        request["secrets"] = opts
            .run
            .secrets
            .iter()
            .map(|s| json!({"id": s.id}))
            .collect::<Vec<_>>()
            .into();
    }
    if !opts.run.ssh.is_empty() {
        request["ssh"] = opts
            .run
            .ssh
            .iter()
            .map(|s| json!({"id": s.id}))
            .collect::<Vec<_>>()
            .into();
    }
    let dependencies: Vec<Value> = built
        .materials
        .iter()
        .map(|m| {
            json!({
                "uri": m.uri,
                "digest": {m.digest.algorithm().as_ref(): m.digest.digest()},
            })
        })
        .collect();
    let invocation_id = if reproducible {
        let seed = format!(
            "{}\n{}\n{}",
            built.manifest,
            dockerfile_digest,
            serde_json::to_string(&request).unwrap_or_default()
        );
        wharf_oci::digest::sha256(seed.as_bytes()).digest()[..32].to_owned()
    } else {
        let seed = format!(
            "{}\n{}\n{:?}",
            built.manifest,
            std::process::id(),
            std::time::SystemTime::now()
        );
        wharf_oci::digest::sha256(seed.as_bytes()).digest()[..32].to_owned()
    };
    let mut internal = json!({
        "builderPlatform": Platform::host().to_string(),
        "platform": platform.to_string(),
    });
    let mut metadata = json!({
        "invocationId": invocation_id,
        "startedOn": rfc3339(invocation.started),
        "finishedOn": rfc3339(invocation.finished),
        "buildkit_completeness": {"request": true, "resolvedDependencies": true},
        "buildkit_reproducible": reproducible,
        "buildkit_hermetic": false,
    });
    if mode == ProvenanceMode::Max {
        internal["buildConfig"] = json!({"steps": steps(dockerfile)});
        metadata["buildkit_metadata"] = json!({
            "source": {
                "infos": [{
                    "filename": file_name,
                    "language": "Dockerfile",
                    "data": base64::engine::general_purpose::STANDARD.encode(dockerfile),
                    "digest": {"sha256": dockerfile_digest.digest()},
                }],
            },
        });
    }
    json!({
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": {
                "configSource": {
                    "path": file_name,
                    "digest": {"sha256": dockerfile_digest.digest()},
                },
                "request": request,
            },
            "internalParameters": internal,
            "resolvedDependencies": dependencies,
        },
        "runDetails": {
            "builder": {
                "id": format!("{}/kiln@{}", env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_VERSION")),
            },
            "metadata": metadata,
        },
    })
}

/// The Dockerfile's instructions as written (continuations joined), with their stage and line.
fn steps(dockerfile: &[u8]) -> Vec<Value> {
    let Ok(df) = wharf_dockerfile::parse_bytes(dockerfile) else {
        return Vec::new();
    };
    let mut stage: i64 = -1;
    df.nodes
        .iter()
        .map(|n| {
            if n.keyword_upper() == "FROM" {
                stage += 1;
            }
            json!({
                "stage": stage.max(0),
                "line": n.span.start.line,
                "instruction": n.original,
            })
        })
        .collect()
}
