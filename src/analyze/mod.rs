//! The analyze stage: all mutable state. Receives entries (and rule matches),
//! aggregates by rule, service, revision and time, and finds regressions and whys.

mod counts;
mod failing;
mod finish;
mod outcome;
mod regress;
mod retry;
mod sampled;
mod sink;
pub mod templates;
mod whys;

pub use counts::{is_error, Counts, Newest, RevisionCounts};
pub use failing::{FailedWith, HealthChecks, MostlyFailing, MIN_REJECTED, MOSTLY_FAILING};
pub use finish::{default_bucket, finish};
pub use outcome::*;
pub use regress::{revision_seq, RateFigures, Regression, SharedOnset};
pub use retry::Retried;
pub use sink::{Analysis, Deploy, Place, Sample};
pub use whys::{explain, shared_places};
