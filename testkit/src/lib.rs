//! Test helpers shared by the core's, the CLI's and the end-to-end tests
//! (each crate's own test-support module re-exports what it uses).

pub mod printer;
