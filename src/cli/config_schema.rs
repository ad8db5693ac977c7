//! `stagegate config schema` (hidden): print the JSON Schema of the config,
//! generated from the tables the validator reads it with. The repository
//! commits its output as schema/stagegate.schema.json; a test compares them.

use crate::config::json_schema;
use crate::error::{Error, Exit};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the JSON Schema of .github/stagegate.yml
    Schema,
}

pub fn run(cmd: Command) -> Result<Exit, Error> {
    match cmd {
        Command::Schema => {
            let schema = serde_json::to_string_pretty(&json_schema::generate()).expect("serializes");
            crate::console::json(crate::console::Stream::Out, &schema);
            Ok(Exit::Success)
        }
    }
}
