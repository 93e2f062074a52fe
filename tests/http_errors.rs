//! Every answer that reaches the application is a well-formed error in the protocol of
//! its route: EC2 XML for `/`, REST-JSON (`x-amzn-ErrorType`, `__type`, `Message`) for
//! the EBS direct APIs under `/snapshots`, JSON for ec2lite's own `/_ec2lite/*`.
//! Requests hyper refuses before routing (control bytes in a header, a space in the
//! target, URI or headers over its limits) get the same, with hyper's status.

use std::io::{Read, Write};
use std::net::TcpStream;

use ec2lite_test_support::{http, HttpResponse, Server};

fn server() -> Server {
    Server::start(env!("CARGO_BIN_EXE_ec2lite").as_ref(), &["--no-catalog"])
}

/// Sends `request` as is and returns the raw answer.
fn raw(s: &Server, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(s.address()).expect("connect");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

fn status_and_body(answer: &str) -> (u16, &str) {
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, answer.split_once("\r\n\r\n").map_or("", |(_, body)| body))
}

fn assert_ebs_json(r: &HttpResponse, status: u16) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"), "{}", r.body);
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body));
    assert_eq!(r.header("x-amzn-ErrorType"), body["__type"].as_str(), "{}", r.body);
    assert!(body["Message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.body);
}

#[test]
fn ebs_paths_answer_in_json_for_unknown_routes_methods_and_paths() {
    let s = server();
    assert_ebs_json(&http(s.address(), "DELETE", "/snapshots", &[], b""), 405);
    assert_ebs_json(&http(s.address(), "GET", "/snapshots/snap-0123456789abcdef0/nothing", &[], b""), 404);
    assert_ebs_json(&http(s.address(), "POST", "/snapshots/a/b/c/d", &[], b"Action=DescribeRegions"), 404);
    assert_ebs_json(&http(s.address(), "GET", "/snapshots/%FF/blocks", &[], b""), 400);
    let big = vec![0u8; 3 * 1024 * 1024];
    assert_ebs_json(&http(s.address(), "PUT", "/snapshots/snap-0123456789abcdef0/blocks/0", &[], &big), 400);
}

#[test]
fn broken_chunk_sizes_are_bad_requests_in_the_route_protocol() {
    let s = server();
    for size in ["zz", "-5"] {
        let query = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\nAction=DescribeRegions\r\n0\r\n\r\n"
        );
        let answer = raw(&s, query.as_bytes());
        let (status, body) = status_and_body(&answer);
        assert_eq!(status, 400, "{answer}");
        assert!(body.contains("<Code>InvalidRequest</Code>"), "{answer}");

        let ebs = format!(
            "PUT /snapshots/snap-0123456789abcdef0/blocks/0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\nabc\r\n0\r\n\r\n"
        );
        let answer = raw(&s, ebs.as_bytes());
        let (status, body) = status_and_body(&answer);
        assert_eq!(status, 400, "{answer}");
        assert!(answer.to_ascii_lowercase().contains("x-amzn-errortype: validationexception"), "{answer}");
        assert!(body.contains("\"__type\":\"ValidationException\""), "{answer}");
    }
    // A body over the limit is still 413, in EC2's XML.
    let big = vec![b'a'; 3 * 1024 * 1024];
    let r = http(s.address(), "POST", "/", &[], &big);
    assert_eq!((r.status, r.element("Code")), (413, Some("RequestEntityTooLarge")), "{}", r.body);
}

#[test]
fn ec2lite_endpoints_answer_in_json() {
    let s = server();
    for (method, path, status) in [
        ("GET", "/_ec2lite/reset", 405),
        ("GET", "/_ec2lite/nothing", 404),
        ("POST", "/moto-api/other", 404),
        ("POST", "/_ec2lite/fail/%FF", 400),
    ] {
        let r = http(s.address(), method, path, &[], b"");
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body));
        assert!(body["error"].is_string() && body["message"].is_string(), "{}", r.body);
    }
    // Anything else is an EC2 Query request, wherever it is sent.
    let r = http(s.address(), "PUT", "/any/path", &[], b"");
    assert_eq!((r.status, r.element("Code")), (400, Some("MissingAction")), "{}", r.body);
}

#[test]
fn a_client_still_sending_an_oversized_body_reads_the_refusal() {
    let s = server();
    for (method, path) in [("PUT", "/snapshots/snap-0123456789abcdef0/blocks/0"), ("POST", "/")] {
        let mut stream = TcpStream::connect(s.address()).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let body = vec![b'a'; 3 * 1024 * 1024];
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        // Refused at the limit but read to its end, so the whole body goes out...
        stream.write_all(&body).expect("the server reads the body it refuses");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        // ...and the answer is the refusal, in the route's protocol.
        let (status, body) = status_and_body(&answer);
        if method == "PUT" {
            assert_eq!(status, 400, "{answer}");
            assert!(body.contains("\"__type\":\"ValidationException\""), "{answer}");
        } else {
            assert_eq!(status, 413, "{answer}");
            assert!(body.contains("<Code>RequestEntityTooLarge</Code>"), "{answer}");
        }
    }
}

/// The answer's body, checked against its `content-length`.
fn framed_body(answer: &str) -> (u16, String, &str) {
    let (status, body) = status_and_body(answer);
    let head = answer.split_once("\r\n\r\n").map_or("", |(head, _)| head).to_ascii_lowercase();
    let length: usize = head
        .split("\r\n")
        .find_map(|line| line.strip_prefix("content-length: "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no content-length: {answer}"));
    assert_eq!(length, body.len(), "{answer}");
    (status, head, body)
}

#[test]
fn requests_the_http_parser_refuses_get_a_body_in_the_route_protocol() {
    let s = server();
    let long_target = format!("GET /?{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
    let huge_header = format!("POST / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "b".repeat(500_000));
    let ec2_cases: [(&[u8], u16); 4] = [
        (b"POST / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\nContent-Length: 0\r\n\r\n", 400),
        (b"POST /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (long_target.as_bytes(), 414),
        (huge_header.as_bytes(), 431),
    ];
    for (request, expected) in ec2_cases {
        let answer = raw(&s, request);
        let (status, head, body) = framed_body(&answer);
        assert_eq!(status, expected, "{answer}");
        assert!(head.contains("content-type: text/xml"), "{answer}");
        assert!(body.starts_with("<?xml") && body.contains("<Code>InvalidRequest</Code>"), "{answer}");
        assert!(body.contains("<RequestID>"), "{answer}");
    }

    let ebs = raw(&s, b"PUT /snapshots/snap-1/blocks/0 HTTP/1.1\r\nHost: x\r\nX-A: \x7f\x01\r\n\r\n");
    let (status, head, body) = framed_body(&ebs);
    assert_eq!(status, 400, "{ebs}");
    assert!(head.contains("x-amzn-errortype: validationexception"), "{ebs}");
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {ebs}"));
    assert_eq!(json["__type"], "ValidationException", "{ebs}");

    let admin = raw(&s, b"POST /_ec2lite/reset HTTP/1.1\r\nHost: x\r\nX-A: \x01\r\n\r\n");
    let (status, _, body) = framed_body(&admin);
    assert_eq!(status, 400, "{admin}");
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {admin}"));
    assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()), "{admin}");
}
