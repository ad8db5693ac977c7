//! One integration-test binary, so the dependency tree links once.

mod approve;
mod change;
mod check;
mod cli;
mod compare;
mod demo;
mod deployments;
mod environments;
mod freeze;
mod gate;
mod github_gate;
mod globs;
mod graph;
mod hostile;
mod init;
mod journal_consul;
mod journal_faults;
mod journal_flow;
mod journal_upload;
mod lint;
mod plan;
mod promote;
mod properties;
mod release;
mod secrets;
mod support;
