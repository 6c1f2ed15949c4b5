//! The engine's error type: bad requests (a period that does not exist yet) apart from execution failures.

use thiserror::Error;

/// What can go wrong in the engine.
#[derive(Debug, Error)]
pub enum EngineError {
    /// The caller asked for something that cannot be answered, e.g. a period outside the assessment.
    #[error("{0}")]
    BadRequest(String),
    /// Nothing to answer from yet: no events have been processed.
    #[error("no events have been processed yet")]
    NoData,
    /// Nothing to answer from yet: every event so far is from before the assessment.
    #[error("the assessment starts in {starts}; the latest event is from {latest}")]
    NotStarted {
        /// The assessment's first month.
        starts: schemas::YearMonth,
        /// The month of the latest watermark.
        latest: schemas::YearMonth,
    },
    /// DataFusion failed to aggregate a batch.
    #[error("aggregating a micro-batch failed: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
}
