//! Credentials never reach output, even at trace level and when they are
//! wrong: the S3 secret key, the Consul ACL token (the GitHub token is covered
//! in `release.rs`).

use crate::support::consul::Consul;
use crate::support::journal::{Backend, Pipeline};
use crate::support::run;

const CONSUL_SENTINEL: &str = "c0nsul-SENTINEL-5e1f-never-print";

#[test]
fn journal_credentials_never_reach_output() {
    let p = Pipeline::new(Backend::Remote);
    let tokened = Consul::start(Some(CONSUL_SENTINEL));
    std::fs::write(p.path().join("j.bin"), "model journal").unwrap();
    let step = |args: &[&str], token: &str| {
        let mut c = p.cmd();
        c.env("STAGEGATE_LOG", "trace")
            .env("CONSUL_HTTP_ADDR", &tokened.addr)
            .env("CONSUL_HTTP_TOKEN", token)
            .args(args);
        let (code, out, err) = run(c);
        p.assert_no_secret(&[&out, &err]);
        for t in [&out, &err] {
            assert!(!t.contains(CONSUL_SENTINEL), "the Consul token leaked:\n{t}");
        }
        (code, err)
    };
    let (code, err) = step(&["journal", "upload", "j.bin", "--cluster", "dev-modelling"], CONSUL_SENTINEL);
    assert_eq!(code, 0, "{err}");
    assert!(err.len() > 1000, "trace logging is on, so there was plenty to leak into");
    assert_eq!(step(&["journal", "seed"], CONSUL_SENTINEL).0, 0);
    assert_eq!(step(&["journal", "status"], CONSUL_SENTINEL).0, 0);
    let wrong = format!("{CONSUL_SENTINEL}-wrong");
    let (code, err) = step(&["journal", "status"], &wrong);
    assert_ne!(code, 0, "a wrong token is refused");
    assert!(!err.contains(&wrong));
}
