//! Independent stages built concurrently (`--jobs N`).
//!
//! Before the target is built, the stages it needs (the plan has already pruned the others)
//! are built in waves: every stage whose own dependencies (`FROM stage`, `COPY --from`,
//! `RUN --mount=from=`) are done is ready, and up to `jobs` ready stages run at once, each on
//! its own thread with its own [`StageBuilder`] over the same store. Their progress events are
//! forwarded to the caller's callback on the calling thread, and their results handed to the
//! main builder, which then builds the target as usual. A stage's result does not depend on
//! when it was built, so `--jobs 1` and `--jobs N` give the same image.

use std::sync::mpsc;

use wharf_dockerfile::graph::DepTarget;

use super::{Event, StageBuilder, StageResult};
use crate::error::BuildError;
use crate::remote_cache::RemoteCache;

/// What one thread built.
type Outcome = Result<(StageResult, usize, usize), BuildError>;

impl StageBuilder<'_> {
    /// The stages stage `i` needs.
    fn stage_deps(&self, i: usize) -> Vec<usize> {
        let s = &self.plan.stages[i];
        s.deps
            .iter()
            .filter_map(|d| match d.target {
                DepTarget::Stage(n) if n != i => Some(n),
                _ => None,
            })
            .chain(s.base_stage)
            .collect()
    }

    /// Builds every stage `target` needs, up to `jobs` at a time; the target is left to the
    /// caller.
    pub(super) fn build_needed_stages(
        &mut self,
        target: usize,
        jobs: usize,
    ) -> Result<(), BuildError> {
        let mut pending: Vec<usize> = self
            .plan
            .needed
            .iter()
            .copied()
            .filter(|&i| i != target && self.results[i].is_none())
            .collect();
        while !pending.is_empty() {
            let ready: Vec<usize> = pending
                .iter()
                .copied()
                .filter(|&i| {
                    self.stage_deps(i)
                        .iter()
                        .all(|&d| self.results.get(d).is_some_and(Option::is_some))
                })
                .take(jobs.max(1))
                .collect();
            match ready.as_slice() {
                // A stage whose dependency is not buildable here: the sequential path reports it.
                [] => break,
                [one] => {
                    self.build_stage(*one)?;
                }
                _ => self.build_wave(&ready)?,
            }
            pending.retain(|i| !ready.contains(i));
        }
        Ok(())
    }

    /// Builds `stages` (all ready) on one thread each.
    fn build_wave(&mut self, stages: &[usize]) -> Result<(), BuildError> {
        let (tx, rx) = mpsc::channel::<Event>();
        let (store, opts, network, materials) =
            (self.store, self.opts, self.network, self.materials);
        let jobs: Vec<_> = stages
            .iter()
            .map(|&i| {
                (
                    i,
                    self.plan.clone(),
                    self.file_name.clone(),
                    self.context.clone(),
                    self.driver.clone(),
                    self.results.clone(),
                    tx.clone(),
                )
            })
            .collect();
        drop(tx);
        let events = &mut self.events;
        let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
            let handles: Vec<_> = jobs
                .into_iter()
                .map(|(i, plan, file_name, context, driver, results, tx)| {
                    scope.spawn(move || -> Outcome {
                        let mut send = |e: Event| {
                            // The receiver lives until every thread ended.
                            let _ = tx.send(e);
                        };
                        let mut b = StageBuilder {
                            store,
                            opts,
                            network,
                            materials,
                            plan,
                            file_name,
                            context,
                            driver,
                            isolation: None,
                            results,
                            events: &mut send,
                            executed: 0,
                            cached: 0,
                            // Each thread resolves its own bases: a name two stages share may be
                            // pulled twice, which the store tolerates (same digests).
                            puller: crate::pull::Puller::default(),
                            remote: RemoteCache::open(&opts.remote_cache, &opts.runtime)?,
                        };
                        let r = b.build_stage(i)?;
                        if let Some(remote) = &mut b.remote {
                            remote.finish()?;
                        }
                        Ok((r, b.executed, b.cached))
                    })
                })
                .collect();
            for e in rx {
                events(e);
            }
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        for (&i, outcome) in stages.iter().zip(outcomes) {
            let (r, executed, cached) = outcome?;
            self.results[i] = Some(r);
            self.executed += executed;
            self.cached += cached;
        }
        Ok(())
    }
}
