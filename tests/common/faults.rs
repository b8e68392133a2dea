//! A loopback HTTP/1.1 proxy between cairn and moto that answers as a struggling cloud does:
//! throttling errors, 500s and 503s, slow answers and dropped connections, at set rates decided by
//! a seeded generator, so that a test can show what cairn does with them. The same proxy gives
//! moto's instant answers the shape of AWS's slow ones (an RDS instance that takes minutes to
//! become `available`) with [`FaultProxy::delaying`], to measure which operations overlap.
//!
//! A fault other than a delay is answered by the proxy itself and never reaches moto, so a
//! faulted create creates nothing: what moto holds afterwards is what cairn really made. Each
//! request goes upstream on its own connection (`Connection: close`) and its whole answer comes
//! back before the next request of the same client connection is read.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does to a request a rule picked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// Held this long, then forwarded.
    Delay(Duration),
    /// A throttling error in the request's protocol, so that the SDK knows it for one: EC2's
    /// `RequestLimitExceeded` (503), the query and REST-XML services' `Throttling` (400), the
    /// JSON services' `ThrottlingException` (400), S3's `SlowDown` (503).
    Throttle,
    /// This HTTP status (500 or 503), with the error body the service would send.
    ServerError(u16),
    /// The connection closed without an answer.
    Drop,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Fault::Delay(d) => format!("delay {d:?}"),
            Fault::Throttle => "throttle".to_string(),
            Fault::ServerError(status) => format!("HTTP {status}"),
            Fault::Drop => "drop".to_string(),
        };
        // `pad`, so that `{:<12}` lines faults up.
        f.pad(&text)
    }
}

/// Which requests get a fault, and how often.
#[derive(Clone, Debug)]
pub struct Rule {
    /// A substring of the request (head and body), compared without regard to case:
    /// `Action=CreateSubnet`, `TrentService.DescribeKey`, `GroupName=web`; `""` matches all.
    /// The SDK writes header names in lowercase (`x-amz-target: ...`).
    pub matches: &'static str,
    pub fault: Fault,
    /// The share of the matching requests that get the fault (0 to 1), decided per request.
    pub rate: f64,
    /// At most this many faults, then the rule lets requests pass.
    pub times: Option<u32>,
    /// Whether a failing fault may also hit the last attempt of an SDK call
    /// (`amz-sdk-request: attempt=3; max=3`), which the SDK does not retry: the failure then
    /// reaches cairn. Without it every failure is one the SDK's own retries get past. Delays hit
    /// every attempt.
    pub last_attempt: bool,
}

impl Rule {
    /// `fault` on a `rate` share of the requests that contain `matches`, never on an SDK call's
    /// last attempt.
    pub fn at_rate(matches: &'static str, fault: Fault, rate: f64) -> Rule {
        Rule {
            matches,
            fault,
            rate,
            times: None,
            last_attempt: false,
        }
    }

    /// `fault` on every request that contains `matches`, last attempts included: a fault no
    /// retry gets past.
    pub fn always(matches: &'static str, fault: Fault) -> Rule {
        Rule {
            matches,
            fault,
            rate: 1.0,
            times: None,
            last_attempt: true,
        }
    }

    /// At most `n` faults from this rule.
    pub fn times(self, n: u32) -> Rule {
        Rule {
            times: Some(n),
            ..self
        }
    }
}

/// What the proxy did: each fault with the request it hit, in order.
#[derive(Clone, Debug, Default)]
pub struct Injected {
    /// (a summary of the request: `ec2 CreateSubnet (attempt=1; max=3)`, the fault).
    pub faults: Vec<(String, Fault)>,
}

impl Injected {
    /// How many requests got `fault`.
    pub fn count(&self, fault: Fault) -> usize {
        self.faults.iter().filter(|(_, f)| *f == fault).count()
    }

    /// How many requests got each fault.
    pub fn counts(&self) -> BTreeMap<Fault, usize> {
        let mut counts = BTreeMap::new();
        for (_, fault) in &self.faults {
            *counts.entry(*fault).or_default() += 1;
        }
        counts
    }
}

impl fmt::Display for Injected {
    /// `12 faults: throttle=3 HTTP 500=2 ...` and then one line per fault.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counts: Vec<String> = self
            .counts()
            .iter()
            .map(|(fault, n)| format!("{fault}={n}"))
            .collect();
        write!(f, "{} faults: {}", self.faults.len(), counts.join(" "))?;
        for (request, fault) in &self.faults {
            write!(f, "\n  {fault:<12} {request}")?;
        }
        Ok(())
    }
}

pub struct FaultProxy {
    pub port: u16,
    shared: Arc<Shared>,
}

struct Shared {
    upstream: u16,
    rules: Vec<Rule>,
    dice: Mutex<Dice>,
}

/// The proxy's mutable part: one generator for all connections, so that a seed decides the
/// sequence of faults (which request gets which still depends on the order requests arrive in).
struct Dice {
    rng: XorShift,
    /// Faults so far, per rule.
    used: Vec<u32>,
    injected: Vec<(String, Fault)>,
}

impl FaultProxy {
    /// Forwards to moto on `upstream`. Each request is checked against `rules` in order; the
    /// first that matches, has faults left and wins its draw decides the request's fault.
    pub fn start(upstream: u16, rules: Vec<Rule>, seed: u64) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        let shared = Arc::new(Shared {
            upstream,
            dice: Mutex::new(Dice {
                rng: XorShift::new(seed),
                used: vec![0; rules.len()],
                injected: Vec::new(),
            }),
            rules,
        });
        let serving = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let shared = serving.clone();
                std::thread::spawn(move || {
                    let _ = serve(client, &shared);
                });
            }
        });
        FaultProxy { port, shared }
    }

    /// A proxy that only holds every request containing one of `slow`
    /// (`Action=DescribeDBInstances`, `.DescribeServices`) for `delay` before forwarding it.
    pub fn delaying(upstream: u16, slow: &[&'static str], delay: Duration) -> FaultProxy {
        let rules = slow
            .iter()
            .map(|&matches| Rule::always(matches, Fault::Delay(delay)))
            .collect();
        FaultProxy::start(upstream, rules, 0)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The faults injected so far.
    pub fn injected(&self) -> Injected {
        let dice = self.shared.dice.lock().unwrap_or_else(|p| p.into_inner());
        Injected {
            faults: dice.injected.clone(),
        }
    }
}

impl Shared {
    /// The fault for this request, if any, recorded.
    fn decide(&self, head: &str, body: &str) -> Option<Fault> {
        let seen = format!("{head}{body}").to_ascii_lowercase();
        let last = is_last_attempt(head);
        let mut dice = self.dice.lock().unwrap_or_else(|p| p.into_inner());
        for (i, rule) in self.rules.iter().enumerate() {
            if !seen.contains(&rule.matches.to_ascii_lowercase()) {
                continue;
            }
            if last && !rule.last_attempt && !matches!(rule.fault, Fault::Delay(_)) {
                continue;
            }
            if rule.times.is_some_and(|n| dice.used[i] >= n) {
                continue;
            }
            if dice.rng.next_f64() >= rule.rate {
                continue;
            }
            dice.used[i] += 1;
            dice.injected.push((summary(head, body), rule.fault));
            return Some(rule.fault);
        }
        None
    }
}

fn serve(client: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let mut writer = client.try_clone()?;
    let mut reader = BufReader::new(client);
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = Vec::new();
            if reader.read_until(b'\n', &mut line)? == 0 {
                return Ok(());
            }
            let end = line == b"\r\n";
            head.extend_from_slice(&line);
            if end {
                break;
            }
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let mut body = vec![0; content_length(&head)];
        reader.read_exact(&mut body)?;
        let body_text = String::from_utf8_lossy(&body).into_owned();
        match shared.decide(&head, &body_text) {
            Some(Fault::Delay(delay)) => std::thread::sleep(delay),
            Some(Fault::Throttle) => {
                writer.write_all(&throttle(&head, &body_text))?;
                continue;
            }
            Some(Fault::ServerError(status)) => {
                writer.write_all(&server_error(&head, &body_text, status))?;
                continue;
            }
            Some(Fault::Drop) => {
                let _ = writer.shutdown(Shutdown::Both);
                return Ok(());
            }
            None => {}
        }
        if !forward(&head, &body, shared.upstream, &mut writer)? {
            return Ok(());
        }
    }
}

/// Sends the request to moto and its answer back; false when the answer's body ends where the
/// connection does (no length, not chunked), so the client connection must close too.
fn forward(
    head: &str,
    body: &[u8],
    upstream: u16,
    writer: &mut TcpStream,
) -> std::io::Result<bool> {
    let request: String = head
        .split("\r\n")
        .filter(|l| !l.is_empty() && !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    let mut moto = TcpStream::connect(("127.0.0.1", upstream))?;
    moto.write_all(request.as_bytes())?;
    moto.write_all(b"Connection: close\r\n\r\n")?;
    moto.write_all(body)?;
    let mut response = Vec::new();
    moto.read_to_end(&mut response)?;
    writer.write_all(&response)?;
    let response_head = String::from_utf8_lossy(&response);
    let response_head = response_head
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    Ok(response_head.contains("content-length:") || response_head.contains("chunked"))
}

/// A header's value, its name compared without regard to case.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn content_length(head: &str) -> usize {
    header(head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The service the request is signed for: `ec2` in
/// `Credential=testing/20250101/us-east-1/ec2/aws4_request`.
fn service(head: &str) -> Option<&str> {
    let auth = header(head, "authorization")?;
    let credential = auth.split("Credential=").nth(1)?;
    let credential = credential.split([',', ' ']).next()?;
    credential.split('/').nth(3)
}

/// A query-protocol request's action: `CreateSubnet` in `Action=CreateSubnet&Version=...`.
fn action(body: &str) -> Option<&str> {
    body.split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
}

/// Whether the SDK will not retry this attempt: `amz-sdk-request: attempt=3; max=3`.
fn is_last_attempt(head: &str) -> bool {
    let Some(value) = header(head, "amz-sdk-request") else {
        return false;
    };
    let field = |name: &str| -> Option<u32> {
        value
            .split(';')
            .find_map(|pair| pair.trim().strip_prefix(name)?.parse().ok())
    };
    match (field("attempt="), field("max=")) {
        (Some(attempt), Some(max)) => attempt >= max,
        _ => false,
    }
}

/// `ec2 CreateSubnet (attempt=1; max=3)`, `kms TrentService.DescribeKey (...)`,
/// `s3 PUT /bucket?tagging (...)`.
fn summary(head: &str, body: &str) -> String {
    let mut request_line = head.lines().next().unwrap_or_default().split(' ');
    let (method, path) = (
        request_line.next().unwrap_or_default(),
        request_line.next().unwrap_or_default(),
    );
    let what = match (header(head, "x-amz-target"), action(body)) {
        (Some(target), _) => target.to_string(),
        (None, Some(action)) => action.to_string(),
        (None, None) => format!("{method} {path}"),
    };
    let attempt = header(head, "amz-sdk-request")
        .map(|a| format!(" ({a})"))
        .unwrap_or_default();
    format!("{} {what}{attempt}", service(head).unwrap_or("?"))
}

/// How a service spells its errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    /// EC2's own query dialect: `<Response><Errors><Error>...`.
    Ec2,
    /// The other query services (IAM, STS, SNS, RDS, ElastiCache, ELBv2, CloudWatch) and the
    /// REST-XML ones besides S3 (Route53, CloudFront): `<ErrorResponse><Error>...`.
    Xml,
    /// `X-Amz-Target` services (KMS, Logs, ECS, Secrets Manager, ...): a JSON body and
    /// `x-amzn-ErrorType`.
    Json,
    /// S3: `<Error><Code>...`.
    S3,
}

fn protocol(head: &str, body: &str) -> Protocol {
    let service = service(head);
    if header(head, "x-amz-target").is_some() {
        Protocol::Json
    } else if action(body).is_some() {
        if service == Some("ec2") {
            Protocol::Ec2
        } else {
            Protocol::Xml
        }
    } else if service.is_none_or(|s| s == "s3") {
        Protocol::S3
    } else {
        Protocol::Xml
    }
}

fn throttle(head: &str, body: &str) -> Vec<u8> {
    let protocol = protocol(head, body);
    let (status, code, message) = match protocol {
        Protocol::Ec2 => (503, "RequestLimitExceeded", "Request limit exceeded."),
        Protocol::Xml => (400, "Throttling", "Rate exceeded"),
        Protocol::Json => (400, "ThrottlingException", "Rate exceeded"),
        Protocol::S3 => (503, "SlowDown", "Please reduce your request rate."),
    };
    error_response(head, protocol, status, code, message)
}

fn server_error(head: &str, body: &str, status: u16) -> Vec<u8> {
    let protocol = protocol(head, body);
    let (code, message) = match (protocol, status) {
        (Protocol::Ec2, 503) => (
            "Unavailable",
            "The server is overloaded and can't handle the request.",
        ),
        (Protocol::Ec2, _) => ("InternalError", "An internal error has occurred."),
        (Protocol::Json, 503) => ("ServiceUnavailableException", "Service unavailable."),
        (Protocol::S3, 503) => ("ServiceUnavailable", "Service is unable to handle request."),
        (Protocol::S3, _) => (
            "InternalError",
            "We encountered an internal error. Please try again.",
        ),
        (_, 503) => ("ServiceUnavailable", "Service unavailable."),
        (_, _) => ("InternalFailure", "An internal error has occurred."),
    };
    error_response(head, protocol, status, code, message)
}

const REQUEST_ID: &str = "c0ffee00-0000-4000-8000-000000000010";

/// A whole HTTP answer: status line, headers, and (but to a HEAD request) the body.
fn error_response(
    head: &str,
    protocol: Protocol,
    status: u16,
    code: &str,
    message: &str,
) -> Vec<u8> {
    let sender = if status < 500 { "Sender" } else { "Receiver" };
    let (content_type, extra, body) = match protocol {
        Protocol::Ec2 => (
            "text/xml;charset=UTF-8".to_string(),
            String::new(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>{REQUEST_ID}</RequestID></Response>"
            ),
        ),
        Protocol::Xml => (
            "text/xml".to_string(),
            String::new(),
            format!(
                "<ErrorResponse><Error><Type>{sender}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{REQUEST_ID}</RequestId></ErrorResponse>"
            ),
        ),
        Protocol::Json => (
            header(head, "content-type")
                .filter(|t| t.starts_with("application/x-amz-json"))
                .unwrap_or("application/x-amz-json-1.1")
                .to_string(),
            format!("x-amzn-ErrorType: {code}\r\n"),
            format!("{{\"__type\":\"{code}\",\"message\":\"{message}\"}}"),
        ),
        Protocol::S3 => (
            "application/xml".to_string(),
            String::new(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{REQUEST_ID}</RequestId></Error>"
            ),
        ),
    };
    let reason = match status {
        400 => "Bad Request",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    };
    let mut response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n{extra}x-amzn-RequestId: {REQUEST_ID}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    // The answer to a HEAD request has the length of the body it leaves out.
    if !head.starts_with("HEAD ") {
        response.extend_from_slice(body.as_bytes());
    }
    response
}

/// xorshift64, seeded through splitmix64 so that nearby seeds start far apart: enough to spread
/// faults over requests, and no new dependency.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        XorShift(z.max(1))
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}
