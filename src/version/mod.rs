//! Release versions: calver formats (calver.org tokens plus a per-day `BUILD`).
pub mod calver;
