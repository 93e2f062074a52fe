//! A small streaming XML writer for EC2 response bodies.
//!
//! EC2 bodies are lists of `<item>`s and optional leaves with lowerCamel names; writing
//! them directly keeps every element name visible next to the field it carries and
//! avoids a serde wrapper type per list. Text is escaped with quick-xml, after any
//! character XML 1.0 cannot carry is replaced: whatever reaches the writer, the body
//! stays well-formed.

use std::borrow::Cow;
use std::fmt::Display;

use quick_xml::escape;

use crate::domain::text::is_xml_char;

pub const XMLNS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";

/// `text` with every character XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF)
/// replaced by U+FFFD. Input validation refuses them; this guards what was stored
/// before it did, and values echoed in error messages.
pub fn xml_safe(text: &str) -> Cow<'_, str> {
    if text.chars().all(is_xml_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().map(|c| if is_xml_char(c) { c } else { char::REPLACEMENT_CHARACTER }).collect())
}

/// Text content, made safe for XML 1.0 and escaped.
pub fn escape(text: &str) -> Cow<'_, str> {
    // Almost every value is plain: one pass over its bytes answers it as it is.
    if text.bytes().all(is_plain_byte) {
        return Cow::Borrowed(text);
    }
    match xml_safe(text) {
        Cow::Borrowed(safe) => escape::escape(safe),
        Cow::Owned(safe) => Cow::Owned(escape::escape(&safe).into_owned()),
    }
}

/// A byte that is written as it is: not markup, not a control character, and not the
/// first byte of U+FFFE or U+FFFF (0xEF; other characters it starts are checked the slow way).
fn is_plain_byte(b: u8) -> bool {
    (b >= 0x20) & (b != b'<') & (b != b'>') & (b != b'&') & (b != b'\'') & (b != b'"') & (b != 0xEF)
}

#[derive(Debug, Default)]
pub struct Xml {
    buf: String,
}

impl Xml {
    pub fn new() -> Xml {
        // Room for one described resource (an instance is about 4 KiB): growing by
        // doubling from a small buffer copies it three or four times.
        Xml { buf: String::with_capacity(4096) }
    }

    /// `<return>true</return>`, the whole answer of many actions.
    pub fn return_true() -> Xml {
        let mut x = Xml::new();
        x.bool("return", true);
        x
    }

    pub fn into_string(self) -> String {
        self.buf
    }

    pub fn as_str(&self) -> &str {
        &self.buf
    }

    pub fn open(&mut self, tag: &str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push('>');
        self
    }

    pub fn close(&mut self, tag: &str) -> &mut Self {
        self.buf.push_str("</");
        self.buf.push_str(tag);
        self.buf.push('>');
        self
    }

    pub fn empty(&mut self, tag: &str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push_str("/>");
        self
    }

    /// A text leaf, escaped.
    pub fn text(&mut self, tag: &str, value: &str) -> &mut Self {
        self.open(tag);
        self.buf.push_str(&escape(value));
        self.close(tag)
    }

    /// A number or other value whose display needs no escaping (checked all the same).
    pub fn num(&mut self, tag: &str, value: impl Display) -> &mut Self {
        use std::fmt::Write;
        self.open(tag);
        let start = self.buf.len();
        let _ = write!(self.buf, "{value}");
        if let Cow::Owned(safe) = escape(&self.buf[start..]) {
            self.buf.truncate(start);
            self.buf.push_str(&safe);
        }
        self.close(tag)
    }

    pub fn bool(&mut self, tag: &str, value: bool) -> &mut Self {
        self.text(tag, if value { "true" } else { "false" })
    }

    pub fn opt_text(&mut self, tag: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.text(tag, v);
        }
        self
    }

    pub fn opt_num(&mut self, tag: &str, value: Option<impl Display>) -> &mut Self {
        if let Some(v) = value {
            self.num(tag, v);
        }
        self
    }

    pub fn opt_bool(&mut self, tag: &str, value: Option<bool>) -> &mut Self {
        if let Some(v) = value {
            self.bool(tag, v);
        }
        self
    }

    /// `<tag><item>..</item>..</tag>`, or `<tag/>` when there are no items.
    pub fn list<T>(&mut self, tag: &str, items: &[T], mut each: impl FnMut(&mut Xml, &T)) -> &mut Self {
        if items.is_empty() {
            return self.empty(tag);
        }
        self.open(tag);
        for (n, item) in items.iter().enumerate() {
            let start = self.buf.len();
            self.open("item");
            each(self, item);
            self.close("item");
            if n == 0 {
                // The first item foretells the size of the rest: a long list grows the
                // buffer once instead of copying it at every doubling.
                self.buf.reserve((self.buf.len() - start) * (items.len() - 1));
            }
        }
        self.close(tag)
    }

    /// `<tag><value>v</value></tag>` as DescribeImageAttribute wraps scalars; `<tag/>` if unset.
    pub fn attribute_value(&mut self, tag: &str, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.open(tag).text("value", v).close(tag),
            None => self.empty(tag),
        }
    }

    /// `<tagSet>` of key/value pairs.
    pub fn tag_set(&mut self, tags: &[(String, String)]) -> &mut Self {
        self.list("tagSet", tags, |x, (k, v)| {
            x.text("key", k).text("value", v);
        })
    }
}

/// The success envelope: `<{Action}Response xmlns=..><requestId>..</requestId>{body}</..>`.
pub fn success_body(action: &str, request_id: &str, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + action.len() * 2 + 160);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<");
    out.push_str(action);
    out.push_str("Response xmlns=\"");
    out.push_str(XMLNS);
    out.push_str("\"><requestId>");
    out.push_str(request_id);
    out.push_str("</requestId>");
    out.push_str(body);
    out.push_str("</");
    out.push_str(action);
    out.push_str("Response>");
    out
}

/// The error envelope, with `RequestID` spelled as EC2 spells it in errors.
pub fn error_body(code: &str, message: &str, request_id: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{}</RequestID></Response>",
        escape(code),
        escape(message),
        escape(request_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_envelope_is_exact() {
        let mut x = Xml::new();
        x.text("imageId", "ami-12345678");
        assert_eq!(
            success_body("RegisterImage", "rid", x.as_str()),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<RegisterImageResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>rid</requestId><imageId>ami-12345678</imageId></RegisterImageResponse>"
        );
    }

    #[test]
    fn error_envelope_is_exact_and_escaped() {
        assert_eq!(
            error_body("InvalidAMIID.Malformed", "Invalid id: \"<x>\" (expecting \"ami-...\")", "rid"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>InvalidAMIID.Malformed</Code><Message>Invalid id: &quot;&lt;x&gt;&quot; (expecting &quot;ami-...&quot;)</Message></Error></Errors><RequestID>rid</RequestID></Response>"
        );
    }

    #[test]
    fn plain_text_is_answered_as_it_is_and_agrees_with_the_full_escape() {
        let full = |t: &str| escape::escape(xml_safe(t).as_ref()).into_owned();
        for text in [
            "ami-0123456789abcdef0",
            "caf\u{e9} \u{65e5}\u{672c} \u{1F600}",
            "\u{FFFD}\u{FFFC}\u{EFFF}",
            "a'b\"c",
            "<&>",
            "\t\n",
            "x\u{FFFF}",
            "sixteen plain by<es and more",
            "sixteen plain bytes and more\u{1}",
        ] {
            assert_eq!(escape(text), full(text), "{text:?}");
        }
        assert!(matches!(escape("ubuntu/images/hvm-ssd 22.04"), Cow::Borrowed(_)));
    }

    #[test]
    fn characters_xml_forbids_never_reach_the_body() {
        let mut x = Xml::new();
        x.text("keyName", "a\u{0}b\u{1B}c\u{FFFE}\td\ne")
            .num("n", "1\u{8}2")
            .tag_set(&[("k\u{7}".into(), "<\u{C}>".into())]);
        assert_eq!(
            x.as_str(),
            "<keyName>a\u{FFFD}b\u{FFFD}c\u{FFFD}\td\ne</keyName><n>1\u{FFFD}2</n><tagSet><item><key>k\u{FFFD}</key><value>&lt;\u{FFFD}&gt;</value></item></tagSet>"
        );
    }

    #[test]
    fn error_messages_echoing_control_characters_stay_well_formed() {
        assert_eq!(
            error_body("InvalidAction", "The action \u{0} is not valid for this web service.", "rid"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>InvalidAction</Code><Message>The action \u{FFFD} is not valid for this web service.</Message></Error></Errors><RequestID>rid</RequestID></Response>"
        );
    }

    #[test]
    fn lists_use_item_and_empty_lists_self_close() {
        let mut x = Xml::new();
        x.tag_set(&[("k".into(), "a&b".into())]).tag_set(&[]);
        assert_eq!(x.as_str(), "<tagSet><item><key>k</key><value>a&amp;b</value></item></tagSet><tagSet/>");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Well-formed XML 1.0 by quick-xml's reader, and only characters XML allows
        /// (which the reader does not check itself).
        fn assert_well_formed(doc: &str) {
            assert!(doc.chars().all(is_xml_char), "a character XML forbids in {doc:?}");
            let mut reader = quick_xml::Reader::from_str(doc);
            let mut depth = 0i32;
            loop {
                match reader.read_event() {
                    Ok(quick_xml::events::Event::Start(_)) => depth += 1,
                    Ok(quick_xml::events::Event::End(_)) => depth -= 1,
                    Ok(quick_xml::events::Event::Eof) => break,
                    Ok(_) => {}
                    Err(e) => panic!("{e}: {doc:?}"),
                }
            }
            assert_eq!(depth, 0, "{doc:?}");
        }

        /// Any text, weighted towards what XML treats specially.
        fn text() -> impl Strategy<Value = String> {
            prop_oneof![
                any::<String>(),
                "[<>&'\"\\]\\x00-\\x20\\u{7f}-\\u{9f}\\u{d7ff}\\u{e000}\\u{fffd}-\\u{ffff}\\u{10000}\\u{10ffff}]{0,16}",
                "(&[a-z#0-9]{0,6};?|]]>|<!\\[CDATA\\[|<\\?|-->|\\PC){0,8}",
            ]
        }

        proptest! {
            // 2,000 cases: about half a second in a debug build.
            #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

            #[test]
            fn any_text_written_parses_back(value in text(), key in text(), message in text()) {
                let mut x = Xml::new();
                x.open("r")
                    .text("t", &value)
                    .num("n", &value)
                    .attribute_value("a", Some(&value))
                    .tag_set(&[(key.clone(), value.clone())])
                    .close("r");
                let body = success_body("Describe", "rid", x.as_str());
                assert_well_formed(&body);
                assert_well_formed(&error_body("InvalidParameterValue", &message, "rid"));
                // The text reads back as sent, with forbidden characters replaced.
                let doc = x.into_string();
                let start = doc.find("<t>").unwrap() + 3;
                let end = doc.find("</t>").unwrap();
                let read = quick_xml::escape::unescape(&doc[start..end]).expect("unescapes");
                let safe = xml_safe(&value);
                prop_assert_eq!(read.as_ref(), safe.as_ref());
            }
        }
    }
}
