//! Config loading on arbitrary bytes: parse, validate, and render every
//! diagnostic as a source snippet. None of it may panic, hang or overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let loaded = stagegate::config::parse_bytes("fuzz.yml", data);
    for d in &loaded.diagnostics {
        let _ = format!("{:?}", d.to_report(&loaded.source.name, &loaded.source.text));
    }
    if let Some(cfg) = &loaded.config {
        let policy = stagegate::policy::Policy::new(cfg);
        let _ = policy.graph.find_cycle();
        let _ = stagegate::policy::environments::desired(cfg);
    }
});
