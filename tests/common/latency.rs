//! A loopback HTTP/1.1 proxy between cairn and moto that holds chosen requests for a while, so
//! that a test can give moto's instant answers the shape of AWS's slow ones (an RDS instance that
//! takes minutes to become `available`) and measure what cairn does with them: which operations
//! overlap, how long an apply takes.
//!
//! Each request goes upstream on its own connection (`Connection: close`) and its whole answer
//! comes back before the next request of the same client connection is read.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

pub struct Latency {
    pub port: u16,
}

impl Latency {
    /// Forwards to moto on `upstream`; a request whose head or body contains one of `slow`
    /// (`Action=DescribeDBInstances`, `.DescribeServices`) is held for `delay` first.
    pub fn start(upstream: u16, slow: &'static [&'static str], delay: Duration) -> Latency {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let _ = serve(client, upstream, slow, delay);
                });
            }
        });
        Latency { port }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn serve(client: TcpStream, upstream: u16, slow: &[&str], delay: Duration) -> std::io::Result<()> {
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
        let head_text = String::from_utf8_lossy(&head).into_owned();
        let mut body = vec![0; content_length(&head_text)];
        reader.read_exact(&mut body)?;
        let seen = format!("{head_text}{}", String::from_utf8_lossy(&body));
        if slow.iter().any(|s| seen.contains(s)) {
            std::thread::sleep(delay);
        }
        let request: String = head_text
            .split("\r\n")
            .filter(|l| !l.is_empty() && !l.to_ascii_lowercase().starts_with("connection:"))
            .map(|l| format!("{l}\r\n"))
            .collect();
        let mut moto = TcpStream::connect(("127.0.0.1", upstream))?;
        moto.write_all(request.as_bytes())?;
        moto.write_all(b"Connection: close\r\n\r\n")?;
        moto.write_all(&body)?;
        let mut response = Vec::new();
        moto.read_to_end(&mut response)?;
        writer.write_all(&response)?;
        let response_head = String::from_utf8_lossy(&response);
        let response_head = response_head.split("\r\n\r\n").next().unwrap_or_default();
        let framed = response_head
            .to_ascii_lowercase()
            .contains("content-length:")
            || response_head.to_ascii_lowercase().contains("chunked");
        if !framed {
            // The body ends where the connection does.
            return Ok(());
        }
    }
}

fn content_length(head: &str) -> usize {
    head.split("\r\n")
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0)
}
