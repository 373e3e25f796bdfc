//! Face liveness and ID-card capture hooks, quality checks and the evidence manifest.
