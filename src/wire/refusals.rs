//! Requests the HTTP parser refuses before any route sees them (control bytes in a
//! header, `Transfer-Encoding: identity`, a space in the target, a URI or headers over
//! its limits). hyper answers those itself, with a status and no body, and offers no
//! hook to change that; so the connection recognises that bodiless answer as it is
//! written and gives it the body a client of the route expects: EC2 XML, EBS REST-JSON
//! or ec2lite's own `{"error","message"}`.

/// The protocol a connection's requests speak, told from the last request line read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Protocol {
    #[default]
    Ec2Query,
    EbsJson,
    Admin,
}

/// The protocol of a request whose first bytes are `bytes`, when they begin a request
/// line (`METHOD /path`); `None` for anything else (the middle of a body).
pub fn sniff(bytes: &[u8]) -> Option<Protocol> {
    let space = bytes.iter().take(16).position(|&b| b == b' ')?;
    if space == 0 || !bytes[..space].iter().all(u8::is_ascii_uppercase) {
        return None;
    }
    let target = &bytes[space + 1..];
    if !target.starts_with(b"/") {
        return None;
    }
    Some(if target.starts_with(b"/snapshots") {
        Protocol::EbsJson
    } else if target.starts_with(b"/_ec2lite") {
        Protocol::Admin
    } else {
        Protocol::Ec2Query
    })
}

/// Longest head that can be hyper's refusal.
pub const REFUSAL_HEAD_MAX: usize = 256;

/// hyper's own refusal: a complete 4xx/5xx head that closes the connection and says it
/// has no body. ec2lite's handlers never answer an error without a body, so a head like
/// this can only be hyper's.
fn is_bodiless_refusal(head: &[u8]) -> Option<u16> {
    // Cheap refusal of everything else: this runs on every write of the connection.
    if head.len() > REFUSAL_HEAD_MAX || !(head.starts_with(b"HTTP/1.1 4") || head.starts_with(b"HTTP/1.1 5")) {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let status: u16 = text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    let refusal = (400..600).contains(&status)
        && text.ends_with("\r\n\r\n")
        && text.contains("\r\nconnection: close\r\n")
        && text.contains("\r\ncontent-length: 0\r\n");
    refusal.then_some(status)
}

/// The same answer with a body in `protocol`, or `None` when `head` is not a refusal.
pub fn with_body(head: &[u8], protocol: Protocol, request_id: &str) -> Option<Vec<u8>> {
    let status = is_bodiless_refusal(head)?;
    let text = std::str::from_utf8(head).ok()?;
    let status_line = text.split("\r\n").next()?;
    let date = text.split("\r\n").find(|line| line.starts_with("date: "));
    let message = match status {
        414 => "The request URI is longer than this endpoint accepts.",
        431 => "The request headers are larger than this endpoint accepts.",
        505 => "The HTTP version of the request is not supported: send HTTP/1.1.",
        _ => "The request is not valid HTTP/1.1: check its request line and headers.",
    };
    let (content_type, extra, body) = match protocol {
        Protocol::Ec2Query => {
            ("text/xml;charset=UTF-8", String::new(), super::xml::error_body("InvalidRequest", message, request_id))
        }
        Protocol::EbsJson => {
            let kind = "ValidationException";
            let body = serde_json::json!({ "__type": kind, "Message": message }).to_string();
            ("application/json", format!("x-amzn-errortype: {kind}\r\nx-amzn-requestid: {request_id}\r\n"), body)
        }
        Protocol::Admin => {
            let body = serde_json::json!({ "error": "BadRequest", "message": message }).to_string();
            ("application/json", String::new(), body)
        }
    };
    let mut answer = format!(
        "{status_line}\r\nconnection: close\r\ncontent-type: {content_type}\r\n{extra}content-length: {}\r\n",
        body.len()
    );
    if let Some(date) = date {
        answer.push_str(date);
        answer.push_str("\r\n");
    }
    answer.push_str("\r\n");
    answer.push_str(&body);
    Some(answer.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYPER_431: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Sat, 05 Dec 2026 01:55:38 GMT\r\n\r\n";

    #[test]
    fn request_lines_tell_the_protocol() {
        assert_eq!(sniff(b"PUT /snapshots/snap-1/blocks/0 HTTP/1.1\r\n"), Some(Protocol::EbsJson));
        assert_eq!(sniff(b"POST /_ec2lite/reset HTTP/1.1\r\n"), Some(Protocol::Admin));
        assert_eq!(sniff(b"POST / HTTP/1.1\r\n"), Some(Protocol::Ec2Query));
        assert_eq!(sniff(b"Action=DescribeImages&Version=2016-11-15"), None);
        assert_eq!(sniff(b"\x00\x01 /"), None);
    }

    #[test]
    fn a_hyper_refusal_gets_an_ec2_xml_body() {
        let answer = String::from_utf8(with_body(HYPER_431, Protocol::Ec2Query, "rid").unwrap()).unwrap();
        let body = crate::wire::xml::error_body(
            "InvalidRequest",
            "The request headers are larger than this endpoint accepts.",
            "rid",
        );
        assert_eq!(
            answer,
            format!(
                "HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-type: text/xml;charset=UTF-8\r\ncontent-length: {}\r\ndate: Sat, 05 Dec 2026 01:55:38 GMT\r\n\r\n{body}",
                body.len()
            )
        );
    }

    #[test]
    fn a_hyper_refusal_on_an_ebs_route_gets_rest_json() {
        let head = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        let answer = String::from_utf8(with_body(head, Protocol::EbsJson, "rid").unwrap()).unwrap();
        let body = r#"{"Message":"The request is not valid HTTP/1.1: check its request line and headers.","__type":"ValidationException"}"#;
        assert_eq!(
            answer,
            format!(
                "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: application/json\r\nx-amzn-errortype: ValidationException\r\nx-amzn-requestid: rid\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
        );
    }

    #[test]
    fn answers_with_a_body_or_a_success_are_left_alone() {
        let ok = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(with_body(ok, Protocol::Ec2Query, "rid"), None);
        let bodied = b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/xml\r\ncontent-length: 120\r\n\r\n";
        assert_eq!(with_body(bodied, Protocol::Ec2Query, "rid"), None);
    }
}
