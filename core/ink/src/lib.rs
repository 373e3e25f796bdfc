//! Handwriting for inkseal: raw strokes as evidence, smooth ink for display, and a biometric
//! record encrypted to the institution.

pub mod quality;
pub mod record;
pub mod render;
pub mod smooth;
pub mod stroke;

pub use quality::{QualityReport, QualityRules};
pub use render::{to_pdf_path, to_png};
pub use smooth::{Segment, SmoothOptions, Smoother};
pub use stroke::{InkError, InkRecorder, Pad, Point, Stroke};
