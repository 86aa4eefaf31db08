//! `fer-tui`: a terminal dashboard over the run directories fer trainings write.
//!
//! State ([`app`], [`state`]), rendering ([`ui`]) and input ([`input`]) are kept apart;
//! [`source`] reads a run's files as they grow, locally or streamed over ssh ([`target`]);
//! [`runs`] finds and summarizes runs.

pub mod app;
pub mod input;
pub mod runs;
pub mod series;
pub mod source;
pub mod state;
pub mod target;
pub mod ui;
