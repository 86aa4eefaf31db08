//! Run directories: what every training leaves behind for people and tools to read.

pub mod events;
