//! One integration-test binary, so the dependency tree links once.

mod approve;
mod check;
mod cli;
mod graph;
mod journal_consul;
mod journal_flow;
mod journal_upload;
mod plan;
mod support;
