//! What the measurements say: `compare` (a candidate against a baseline), the
//! claims judged by `report`, and the history of published runs. Reads result
//! files; writes nothing.

pub mod claims;
pub mod compare;
pub mod history;
