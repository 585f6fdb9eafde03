//! ONBUILD triggers: a base image's `OnBuild` list runs right after the `FROM` that names it,
//! as if written there (Docker's semantics). The triggers are consumed: the new image does not
//! inherit them, only the ONBUILD instructions of its own Dockerfile. They live in the Docker
//! image format only; the OCI format drops them with a warning at commit, as buildah does.

use wharf_dockerfile::instruction::{self, Instruction, Located};
use wharf_oci::ImageConfig;

use crate::error::BuildError;

/// Takes the base's triggers out of `image` and parses them into instructions placed at the
/// `FROM` line `from` (errors in a trigger name that line, as Docker reports them).
pub(crate) fn take_triggers(
    image: &mut ImageConfig,
    from: &Located,
) -> Result<Vec<Located>, BuildError> {
    let Some(triggers) = image.config.as_mut().and_then(|c| c.on_build.take()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(triggers.len());
    for text in triggers {
        let bad = |reason: String| BuildError::BadTrigger {
            trigger: text.clone(),
            reason,
        };
        let df = wharf_dockerfile::parse_bytes(text.as_bytes()).map_err(|e| bad(e.to_string()))?;
        let parsed = instruction::instructions(&df).map_err(|e| bad(e.to_string()))?;
        let [mut located] = <[Located; 1]>::try_from(parsed)
            .map_err(|v| bad(format!("{} instructions instead of one", v.len())))?;
        if matches!(
            located.instruction,
            Instruction::From(_) | Instruction::Onbuild(_) | Instruction::Maintainer(_)
        ) {
            return Err(bad(format!(
                "{} is not allowed as an ONBUILD trigger",
                located.keyword.to_uppercase()
            )));
        }
        located.span = from.span;
        out.push(located);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_oci::config::ContainerConfig;

    fn from_line() -> Located {
        let df = wharf_dockerfile::parse_bytes(b"\n\nFROM base\n").unwrap();
        instruction::instructions(&df).unwrap().remove(0)
    }

    fn image(triggers: &[&str]) -> ImageConfig {
        ImageConfig {
            config: Some(ContainerConfig {
                on_build: Some(triggers.iter().map(|t| (*t).to_owned()).collect()),
                ..ContainerConfig::default()
            }),
            ..ImageConfig::default()
        }
    }

    #[test]
    fn triggers_are_consumed_and_placed_at_the_from_line() {
        let mut img = image(&["RUN echo hi > /x", "COPY a /b"]);
        let from = from_line();
        let t = take_triggers(&mut img, &from).unwrap();
        assert_eq!(t.len(), 2);
        assert!(matches!(t[0].instruction, Instruction::Run(_)));
        assert!(matches!(t[1].instruction, Instruction::Copy(_)));
        assert_eq!(t[0].span.start.line, 3);
        assert_eq!(t[1].original.trim(), "COPY a /b");
        assert!(img.config.unwrap().on_build.is_none());
        assert!(take_triggers(&mut image(&[]), &from).unwrap().is_empty());
    }

    #[test]
    fn forbidden_or_broken_triggers_fail() {
        let from = from_line();
        for bad in [
            "FROM x",
            "MAINTAINER me",
            "COPY --bogus=1 a b",
            "RUN a\nRUN b",
        ] {
            let e = take_triggers(&mut image(&[bad]), &from).unwrap_err();
            assert!(matches!(e, BuildError::BadTrigger { .. }), "{bad}: {e}");
        }
    }
}
