//! A `moto_server` (the AWS emulator, PyPI `moto[server]`) on a free loopback port, for the
//! tests of the AWS provider. The server is stopped when the handle drops, also when a test
//! panics. The SDK reaches it only through `AWS_ENDPOINT_URL`, set on the child `cairn`
//! processes and never in the test process's own environment.
//!
//! The tests also poke moto directly (deleting a subnet out of band, listing what is left) with
//! plain HTTP requests in AWS's query and REST protocols: moto does not check signatures, only
//! reads the service name from the Authorization header's credential scope.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const INSTALL: &str = "moto_server (the AWS emulator the AWS provider's tests run against) was not found.\n\
Install it the way CI does:\n\
    python3 -m venv ~/.cache/cairn/venv\n\
    ~/.cache/cairn/venv/bin/pip install 'moto[server]==5.2.5'\n\
or point CAIRN_MOTO_SERVER at a moto_server executable.";

/// Where moto_server is: `$CAIRN_MOTO_SERVER`, the CI venv, else `PATH`.
pub fn find_moto_server() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CAIRN_MOTO_SERVER").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    if let Some(home) = std::env::var_os("HOME") {
        let venv = PathBuf::from(home).join(".cache/cairn/venv/bin/moto_server");
        if venv.is_file() {
            return Some(venv);
        }
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("moto_server"))
        .find(|p| p.is_file())
}

pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    /// Starts a server and waits until it answers HTTP. Panics with install instructions when
    /// moto is not installed: the AWS tests never skip silently.
    pub fn start() -> Moto {
        Moto::start_with_running_tasks(2)
    }

    /// [`Moto::start`] whose ECS services report `tasks` running (a prd environment's desired
    /// count), so that waiting for them to be stable ends.
    pub fn start_with_running_tasks(tasks: u32) -> Moto {
        let exe = find_moto_server().unwrap_or_else(|| panic!("{INSTALL}"));
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // moto's own settings where it diverges from AWS (issue 5): ECS services report no
            // running task unless told how many run (the tests' services want 2 by default), ACM
            // certificates wait 60 s before ISSUED, and AWS-managed IAM policies (the ECS task
            // execution role's) exist only when loaded.
            .env("MOTO_ECS_SERVICE_RUNNING", tasks.to_string())
            .env("MOTO_ACM_VALIDATION_WAIT", "1")
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}\n{INSTALL}", exe.display()));
        let mut moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("{} exited at start ({status})", exe.display());
            }
            if moto.try_request("GET", "/moto-api/", "s3", "").is_some() {
                return moto;
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Points a `cairn` command at this server, with test credentials and nothing inherited
    /// that could reach a real account.
    pub fn configure(&self, cmd: &mut assert_cmd::Command) {
        for (name, value) in self.environment() {
            match value {
                Some(value) => cmd.env(name, value),
                None => cmd.env_remove(name),
            };
        }
    }

    /// [`Moto::configure`] for a process the test spawns itself (to read its output as it
    /// comes).
    pub fn configure_process(&self, cmd: &mut std::process::Command) {
        for (name, value) in self.environment() {
            match value {
                Some(value) => cmd.env(name, value),
                None => cmd.env_remove(name),
            };
        }
    }

    /// The variables a `cairn` process gets: set, or removed (`None`).
    fn environment(&self) -> Vec<(std::ffi::OsString, Option<String>)> {
        let mut vars: Vec<(std::ffi::OsString, Option<String>)> = [
            ("AWS_ENDPOINT_URL", Some(self.endpoint())),
            ("AWS_ACCESS_KEY_ID", Some("testing".to_string())),
            ("AWS_SECRET_ACCESS_KEY", Some("testing".to_string())),
            ("AWS_REGION", Some("us-east-1".to_string())),
            ("AWS_EC2_METADATA_DISABLED", Some("true".to_string())),
            ("AWS_SESSION_TOKEN", None),
            ("AWS_PROFILE", None),
        ]
        .into_iter()
        .map(|(k, v)| (k.into(), v))
        .collect();
        // A per-service endpoint would send that service past moto.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("AWS_ENDPOINT_URL_") {
                vars.push((name, None));
            }
        }
        vars
    }

    /// Any request moto understands, in `region`: `headers` besides the signature every call
    /// carries (moto reads the region from its credential scope). Returns the response (status
    /// line, headers and body), or `None` when moto did not answer.
    #[allow(clippy::too_many_arguments)]
    fn request(
        &self,
        region: &str,
        method: &str,
        path: &str,
        service: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .ok()?;
        let extra: String = headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}\r\n"))
            .collect();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=testing/20250101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=00\r\n\
             X-Amz-Date: 20250101T000000Z\r\n{extra}Content-Length: {len}\r\n\
             Connection: close\r\n\r\n{body}",
            port = self.port,
            len = body.len()
        );
        stream.write_all(request.as_bytes()).ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        response.starts_with("HTTP/").then_some(response)
    }

    fn try_request(&self, method: &str, path: &str, service: &str, body: &str) -> Option<String> {
        let form = [("Content-Type", "application/x-www-form-urlencoded")];
        self.request("us-east-1", method, path, service, &form, body)
    }

    /// An EC2 query-API call, such as `[("Action", "DescribeSubnets")]`; returns the response
    /// (status line, headers and XML body).
    pub fn ec2(&self, params: &[(&str, &str)]) -> String {
        self.ec2_in("us-east-1", params)
    }

    /// [`Moto::ec2`] in another region.
    pub fn ec2_in(&self, region: &str, params: &[(&str, &str)]) -> String {
        let mut body = String::from("Version=2016-11-15");
        for (k, v) in params {
            body.push_str(&format!("&{k}={v}"));
        }
        let form = [("Content-Type", "application/x-www-form-urlencoded")];
        self.request(region, "POST", "/", "ec2", &form, &body)
            .unwrap_or_else(|| panic!("moto did not answer {params:?} in {region}"))
    }

    fn raw(&self, path: &str, service: &str, headers: &[(&str, &str)], body: &str) -> String {
        self.request("us-east-1", "POST", path, service, headers, body)
            .unwrap_or_else(|| panic!("moto did not answer POST {path} ({service})"))
    }

    /// A call to a query-protocol service other than EC2 (`iam`, `sts`), such as
    /// `query("iam", "2010-05-08", &[("Action", "ListRoles")])`; values must be URL-encoded
    /// already. Returns the response (status line, headers and XML body).
    pub fn query(&self, service: &str, version: &str, params: &[(&str, &str)]) -> String {
        self.query_in("us-east-1", service, version, params)
    }

    /// [`Moto::query`] in another region.
    pub fn query_in(
        &self,
        region: &str,
        service: &str,
        version: &str,
        params: &[(&str, &str)],
    ) -> String {
        let mut body = format!("Version={version}");
        for (k, v) in params {
            body.push_str(&format!("&{k}={v}"));
        }
        let form = [("Content-Type", "application/x-www-form-urlencoded")];
        self.request(region, "POST", "/", service, &form, &body)
            .unwrap_or_else(|| panic!("moto did not answer {params:?} ({service}, {region})"))
    }

    /// A call to a JSON-protocol service (`kms`, `logs`): `target` is the `X-Amz-Target`
    /// header (`TrentService.DescribeKey`, `Logs_20140328.DescribeLogGroups`), `body` the JSON
    /// request. Returns the response (status line, headers and JSON body).
    pub fn json(&self, service: &str, target: &str, body: &str) -> String {
        self.json_in("us-east-1", service, target, body)
    }

    /// [`Moto::json`] in another region.
    pub fn json_in(&self, region: &str, service: &str, target: &str, body: &str) -> String {
        let headers = [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", target),
        ];
        self.request(region, "POST", "/", service, &headers, body)
            .unwrap_or_else(|| panic!("moto did not answer {target} in {region}"))
    }

    /// A REST-protocol call without a body to `service`, such as
    /// `rest("GET", "/my-bucket?lifecycle", "s3")`; returns the response (status line, headers
    /// and body).
    pub fn rest(&self, method: &str, path: &str, service: &str) -> String {
        self.try_request(method, path, service, "")
            .unwrap_or_else(|| panic!("moto did not answer {method} {path}"))
    }

    /// A REST-XML call to `service` (Route53), such as
    /// `rest_xml("GET", "/2013-04-01/hostedzone", "route53", "")`: unlike [`Moto::rest`] it says
    /// it carries XML, as the SDK does (moto routes a Route53 request with a form content type
    /// nowhere: 404). Returns the response (status line, headers and body).
    pub fn rest_xml(&self, method: &str, path: &str, service: &str, body: &str) -> String {
        let xml = [("Content-Type", "application/xml")];
        self.request("us-east-1", method, path, service, &xml, body)
            .unwrap_or_else(|| panic!("moto did not answer {method} {path}"))
    }

    /// S3 ListBuckets: the response with every bucket name in it.
    pub fn s3_list_buckets(&self) -> String {
        self.try_request("GET", "/", "s3", "")
            .expect("moto did not answer ListBuckets")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The values of every `<tag>...</tag>` in an XML response.
pub fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut values = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        rest = &rest[start + open.len()..];
        let Some(end) = rest.find(&close) else { break };
        values.push(rest[..end].to_string());
        rest = &rest[end..];
    }
    values
}
