//! Test support: a plain HTTP/1.1 client over std's TcpStream (so that header names are seen
//! exactly as the server sends them), an ARM wrapper that adds the bearer token and api-version,
//! and access to the official example files.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;

use arm_test_server::catalog::{ResourceType, find_type};
use arm_test_server::{Options, Server};
use serde_json::Value;

pub const SUB: &str = "00000000-0000-0000-0000-00000000cafe";

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    /// Header names in the casing the server sent.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The name of a header exactly as sent (to check `location` vs `Location`).
    pub fn header_name(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(n, _)| n.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?} (status {})", self.body, self.status))
    }

    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// One HTTP/1.1 request to an absolute `http://` URL, `Connection: close`.
pub fn http(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> Resp {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut stream = TcpStream::connect(host).unwrap();
    let body = body.unwrap_or("");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.to_string(), v.trim().to_string()))
        .collect();
    Resp {
        status,
        headers,
        body: body.to_string(),
    }
}

/// A server and the calls tests make to it.
pub struct Arm {
    pub server: Server,
}

impl Arm {
    pub fn start() -> Arm {
        Arm {
            server: Server::start(Options::default()),
        }
    }

    pub fn url(&self) -> &str {
        self.server.url()
    }

    /// An ARM call on `path` (no query) with the type's api-version and a bearer token.
    pub fn call(&self, method: &str, path: &str, api_version: &str, body: Option<&Value>) -> Resp {
        let url = format!("{}{path}?api-version={api_version}", self.url());
        self.call_url(method, &url, body)
    }

    /// An ARM call on an absolute URL (a nextLink, an operation URL).
    pub fn call_url(&self, method: &str, url: &str, body: Option<&Value>) -> Resp {
        let body = body.map(|b| b.to_string());
        let mut headers = vec![("Authorization", "Bearer test-token")];
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        http(method, url, &headers, body.as_deref())
    }

    pub fn put(&self, ty: &str, path: &str, body: &Value) -> Resp {
        self.call("PUT", path, api(ty), Some(body))
    }

    pub fn get(&self, ty: &str, path: &str) -> Resp {
        self.call("GET", path, api(ty), None)
    }

    pub fn patch(&self, ty: &str, path: &str, body: &Value) -> Resp {
        self.call("PATCH", path, api(ty), Some(body))
    }

    pub fn delete(&self, ty: &str, path: &str) -> Resp {
        self.call("DELETE", path, api(ty), None)
    }

    /// `PUT /_test/config`, asserting it is accepted.
    pub fn config(&self, config: Value) {
        let r = http(
            "PUT",
            &format!("{}/_test/config", self.url()),
            &[],
            Some(&config.to_string()),
        );
        assert_eq!(r.status, 204, "config refused: {}", r.body);
    }

    pub fn counts(&self) -> Value {
        http("GET", &format!("{}/_test/requests", self.url()), &[], None).json()
    }

    pub fn resource_group(&self, name: &str) -> String {
        let path = rg_path(name);
        let r = self.put(
            "Microsoft.Resources/resourceGroups",
            &path,
            &serde_json::json!({"location": "eastus"}),
        );
        assert!(r.status == 201 || r.status == 200, "{}", r.body);
        path
    }
}

pub fn ty(arm_type: &str) -> &'static ResourceType {
    find_type(arm_type).unwrap_or_else(|| panic!("{arm_type} not in the table"))
}

pub fn api(arm_type: &str) -> &'static str {
    ty(arm_type).api_version
}

pub fn rg_path(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{name}")
}

/// The examples directory, found as the server finds it.
pub fn examples_dir() -> PathBuf {
    arm_test_server::catalog::find_examples_dir(None).unwrap()
}

/// One example file, parsed.
pub fn example(rel: &str) -> Value {
    let path = examples_dir().join(rel);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The request body of an example file.
pub fn example_body(rel: &str) -> Value {
    arm_test_server::catalog::example_request_body(&example(rel))
        .cloned()
        .unwrap_or_else(|| panic!("{rel} has no request body"))
}
