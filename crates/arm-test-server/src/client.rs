//! A client for tests that drive the server directly: its control endpoints (`/_test/config`,
//! `/_test/requests`, `/_test/reset`) and ARM requests made behind cairn's back (a hand edit in
//! the portal), over plain HTTP/1.1 on std's TcpStream.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

/// The tenant, client and secret the server's token endpoint accepts by default.
pub const TENANT: &str = "tenant-1";
pub const CLIENT_ID: &str = "cairn-tests";
pub const CLIENT_SECRET: &str = "s3cret-for-tests";

#[derive(Debug, Clone)]
pub struct Client {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

/// An answer: status and body text.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Client {
    pub fn new(url: &str) -> Client {
        Client {
            url: url.trim_end_matches('/').to_string(),
        }
    }

    /// Replaces the test configuration (LRO shapes, failures, faults); panics if refused.
    pub fn configure(&self, config: &Value) {
        let a = self.control("PUT", "/_test/config", Some(&config.to_string()));
        assert!(
            (200..300).contains(&a.status),
            "test config refused: {} {}",
            a.status,
            a.body
        );
    }

    /// Forgets every resource, operation and count.
    pub fn reset(&self) {
        self.control("POST", "/_test/reset", None);
    }

    /// Requests seen, keyed `PUT <type>`, `LIST <type>`, `NEXT <type>`, `POLL <type>`...
    pub fn requests(&self) -> BTreeMap<String, u64> {
        serde_json::from_str(&self.control("GET", "/_test/requests", None).body).unwrap_or_default()
    }

    pub fn forget_requests(&self) {
        self.control("DELETE", "/_test/requests", None);
    }

    /// A resource as stored, or `None`.
    pub fn get(&self, id: &str, api_version: &str) -> Option<Value> {
        let a = self.arm("GET", id, api_version, None);
        (a.status == 200)
            .then(|| serde_json::from_str(&a.body).ok())
            .flatten()
    }

    /// A PUT straight to the server; returns the status.
    pub fn put(&self, id: &str, api_version: &str, body: &Value) -> u16 {
        self.arm("PUT", id, api_version, Some(&body.to_string()))
            .status
    }

    /// A DELETE straight to the server; returns the status.
    pub fn delete(&self, id: &str, api_version: &str) -> u16 {
        self.arm("DELETE", id, api_version, None).status
    }

    /// An ARM request with a token of the client-secret flow.
    pub fn arm(&self, method: &str, id: &str, api_version: &str, body: Option<&str>) -> Answer {
        let token = self.token();
        http(
            method,
            &format!("{}{id}?api-version={api_version}", self.url),
            &[("Authorization", &format!("Bearer {token}"))],
            body,
        )
    }

    fn token(&self) -> String {
        let form = format!(
            "grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
        );
        let a = http(
            "POST",
            &format!("{}/{TENANT}/oauth2/v2.0/token", self.url),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(&form),
        );
        serde_json::from_str::<Value>(&a.body)
            .ok()
            .and_then(|v| v["access_token"].as_str().map(String::from))
            .unwrap_or_default()
    }

    fn control(&self, method: &str, path: &str, body: Option<&str>) -> Answer {
        http(method, &format!("{}{path}", self.url), &[], body)
    }
}

/// One HTTP/1.1 request to an `http://` URL, `Connection: close`. Connection failures are
/// answered as status 0 with the reason as body.
pub fn http(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> Answer {
    let failed = |why: String| Answer {
        status: 0,
        body: why,
    };
    let Some(rest) = url.strip_prefix("http://") else {
        return failed(format!("not an http URL: {url}"));
    };
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = match TcpStream::connect(host) {
        Ok(s) => s,
        Err(e) => return failed(format!("cannot connect to {host}: {e}")),
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let body = body.unwrap_or("");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty()
        && !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        request.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    if let Err(e) = stream.write_all(request.as_bytes()) {
        return failed(format!("cannot send to {host}: {e}"));
    }
    let mut raw = String::new();
    if let Err(e) = stream.read_to_string(&mut raw) {
        return failed(format!("cannot read from {host}: {e}"));
    }
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Answer {
        status,
        body: body.to_string(),
    }
}
