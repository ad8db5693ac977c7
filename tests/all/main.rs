//! One integration-test binary, so the dependency tree links once.

mod approve;
mod check;
mod cli;
mod environments;
mod graph;
mod init;
mod lint;
mod plan;
mod properties;
mod release;
mod support;
