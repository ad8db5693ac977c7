//! One integration-test binary, so the dependency tree links once.

mod approve;
mod check;
mod cli;
mod compare;
mod demo;
mod freeze;
mod gate;
mod graph;
mod plan;
mod promote;
mod support;
