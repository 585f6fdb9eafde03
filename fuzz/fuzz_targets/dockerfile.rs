//! Dockerfile parse + expand: any input gives a tree or a positioned error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_dockerfile::ignore::Matcher;
use wharf_dockerfile::shell::Lexer;
use wharf_dockerfile::stage::{BuildOptions, plan};
use wharf_dockerfile::{dump_buildkit, instruction, lint, parse_bytes};

fuzz_target!(|data: &[u8]| {
    match parse_bytes(data) {
        Ok(df) => {
            assert!(dump_buildkit(&df).ends_with('\n'));
            for n in &df.nodes {
                assert!(n.span.start.line >= 1 && n.span.end.line >= n.span.start.line);
            }
            let _ = lint::check(&df, &lint::Options::from_dockerfile(&df));
            match instruction::instructions(&df) {
                Ok(_) => {}
                Err(e) => assert!(e.pos.line >= 1, "unpositioned error: {e}"),
            }
            let mut opts = BuildOptions::default();
            opts.build_args.insert("A".into(), "x y".into());
            if let Ok(p) = plan(&df, &opts) {
                for &i in &p.needed {
                    let _ = p.expand(i, &[("PATH".into(), "/bin".into())]);
                }
            }
        }
        Err(e) => assert!(e.pos.line >= 1, "unpositioned error: {e}"),
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let env = |k: &str| (k.len() < 3).then(|| format!("v-{k} *.x"));
        for esc in ['\\', '`'] {
            let lex = Lexer::new(esc);
            let _ = lex.process_word(text, &env);
            let _ = lex.process_words(text, &env);
        }
        if let Ok(m) = Matcher::parse(text) {
            let _ = m.is_excluded("a/b/c.txt");
        }
    }
});
