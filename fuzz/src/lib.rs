//! Fuzz harnesses for tcmu-mmc. Each `fuzz_targets/<name>.rs` is a one-line libFuzzer entry
//! point calling `<module>::run`; the logic and the invariants live here so they read as plain
//! Rust.
//!
//! * [`mmc`]: the SCSI/MMC dispatch (`Drive::execute`) fed a sequence of arbitrary commands on
//!   every media state, with a shadow of what was written and simulated restarts;
//! * [`ring`]: the TCMU ring parser over an arbitrary (hostile kernel) mailbox and ring, which
//!   may also change under the handler between fetch and completion;
//! * [`config`]: the `dev_config` string parser;
//! * [`state`]: the disc state file parser, and the model running on whatever it accepts;
//! * [`effects`]: commands through `Device` onto real files with store failures, crashes
//!   and restarts injected.
pub mod config;
pub mod effects;
pub mod input;
pub mod mmc;
pub mod ring;
pub mod state;
