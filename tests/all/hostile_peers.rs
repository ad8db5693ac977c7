//! Peers and files that answer without end: a Consul or ServiceNow server
//! streaming an endless answer, a state document grown to a terabyte. Each
//! costs a clear error naming the bound, never the runner's memory.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use crate::support::{Sandbox, run};

/// The error document of a failed `--output json` run: (code, message).
fn error_of(out: &str) -> (String, String) {
    let v: serde_json::Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let e = &v["error"];
    (e["code"].as_str().unwrap_or_default().to_owned(), e["message"].as_str().unwrap_or_default().to_owned())
}

/// A server that answers every request `200 OK` with a JSON body that never
/// ends (no length, closed only when the client goes). Returns its address.
fn endless() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    line.clear();
                }
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Consul-Index: 7\r\nConnection: close\r\n\r\n[";
                if conn.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 << 10];
                while conn.write_all(&chunk).is_ok() {}
            });
        }
    });
    addr
}

#[test]
fn an_endless_consul_answer_is_refused_at_its_bound() {
    let addr = endless();
    let sb = Sandbox::new();
    let cfg = sb.write("c.yml", format!("version: 1\nenvironments:\n  dev: {{}}\njournal:\n  kv: consul://{addr}\n"));
    let mut c = sb.cmd();
    c.env_remove("CONSUL_HTTP_ADDR").env_remove("CONSUL_HTTP_TOKEN").arg("-c").arg(&cfg);
    c.args(["--output", "json", "journal", "status"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 1, "{out}{err}");
    let (code, message) = error_of(&out);
    assert_eq!(code, "stagegate::kv::too_large", "{message}");
    assert!(message.contains("larger than 8 MiB"), "{message}");
}

#[test]
fn an_endless_servicenow_answer_is_refused_at_its_bound() {
    let addr = endless();
    let sb = Sandbox::new();
    let cfg = sb.write(
        "c.yml",
        format!(
            "version: 1\nenvironments:\n  active: {{ branches: [\"release/*\"] }}\n  staging: {{ branches: [\"release/*\"], change: required }}\npromotions:\n  - {{ from: active, to: staging }}\nservicenow:\n  instance: http://{addr}\n"
        ),
    );
    let sg = |args: &[&str]| {
        let mut c = sb.cmd();
        c.env("SERVICENOW_USER", "u").env("SERVICENOW_PASSWORD", "p").arg("-c").arg(&cfg).args(args);
        run(c)
    };
    let (code, _, err) = sg(&["deploy", "--env", "active", "--ref", "release/v1", "--release", "26.11.21.1"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) =
        sg(&["promote", "--from", "active", "--to", "staging", "--release", "26.11.21.1", "--change", "CHG0000001"]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(format!("{out}{err}").replace(['\n', '│', ' '], "").contains("largerthan8MiB"), "{out}{err}");
}

#[test]
fn a_state_document_grown_to_a_terabyte_is_refused_at_once() {
    let sb = Sandbox::new();
    let mut c = sb.seed();
    c.args(["approve", "--forge", "local", "--env", "uat", "--as", "alice", "--run-id", "7"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 0, "{err}");
    let forge = sb.path().join(".stagegate/forge.json");
    std::fs::OpenOptions::new().append(true).open(&forge).unwrap().set_len(1 << 40).unwrap();
    let mut c = sb.seed();
    c.args(["--output", "json", "status", "--forge", "local"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 1, "{out}{err}");
    let (_, message) = error_of(&out);
    assert!(message.contains("forge.json") && message.contains("larger than 256 MiB"), "{message}");
    // Refused, not rewritten: the file is left for a person to look at.
    assert_eq!(std::fs::metadata(&forge).unwrap().len(), 1 << 40);
}
