//! The EC2 Query parameters of one request, and typed access to them.
//!
//! Keys follow the EC2 query serialization: scalars (`Name=x`), flattened lists
//! (`ImageId.1=..`), lists of structures (`Filter.1.Name`, `Filter.1.Value.1`) and
//! nested structures (`BlockDeviceMapping.1.Ebs.SnapshotId`). The Rust SDK sends a
//! bare `Prefix=` for an empty list, which reads as an empty list here.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::ec2_err;
use crate::error::{Ec2Error, Result};

/// Most entries a single list may carry; beyond it a request is refused rather than
/// turned into an unbounded SQL statement.
pub const MAX_LIST_LEN: usize = 1000;

/// Longest parameter value accepted, in bytes. EC2's largest inputs fit: base64
/// `UserData` (16 KB before encoding) and `UefiData` (at most 64,000 characters).
/// Anything longer is refused instead of being stored or matched.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// EC2's limits on the free texts many actions share, in characters, by how the
/// parameter's name ends (`Description` also covers `GroupDescription`,
/// `VersionDescription`, `DiskContainer.1.Description`...). `ClientToken`: the model's
/// largest (128); `UserData`: 16 KB once decoded, so 21,848 base64 characters.
const TEXT_LIMITS: [(&str, usize); 3] = [("Description", 255), ("ClientToken", 128), ("UserData", 21_848)];

#[derive(Debug, Default, Clone)]
pub struct Params {
    map: BTreeMap<String, String>,
}

impl Params {
    /// Parses form-encoded pairs; the query string is read first so a body value wins.
    pub fn parse(query: &[u8], body: &[u8]) -> Params {
        let mut map = BTreeMap::new();
        for source in [query, body] {
            for (key, value) in form_urlencoded::parse(source) {
                map.insert(key.into_owned(), value.into_owned());
            }
        }
        Params { map }
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Params {
        Params { map: pairs.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }
    }

    /// A digest of the request's parameters but `ignored` ones and the protocol's own
    /// (`Action`, `Version`, `X-Amz-*`), for telling an idempotent retry (same client
    /// token, same request) from a different request.
    pub fn fingerprint(&self, ignored: &[&str]) -> String {
        let parts: Vec<&str> = self
            .map
            .iter()
            .filter(|(k, _)| {
                !ignored.contains(&k.as_str())
                    && !matches!(k.as_str(), "Action" | "Version")
                    && !k.starts_with("X-Amz-")
            })
            .flat_map(|(k, v)| [k.as_str(), v.as_str()])
            .collect();
        format!("{:016x}", crate::domain::ids::fnv1a(0, &parts))
    }

    /// These parameters with `defaults` added under every key they do not set (a
    /// launch template's data under a RunInstances request).
    pub fn with_defaults(&self, defaults: impl IntoIterator<Item = (String, String)>) -> Params {
        let mut map = self.map.clone();
        for (key, value) in defaults {
            map.entry(key).or_insert(value);
        }
        Params { map }
    }

    /// Refuses what no EC2 parameter accepts: a value over [`MAX_VALUE_BYTES`] or over
    /// its [`TEXT_LIMITS`], or a name or value holding a character XML 1.0 cannot carry
    /// (the answer that echoes or later lists it would not parse). Run after the
    /// action's own parsing, so that fields with their own refusal (key names, tags,
    /// ids) answer with it.
    pub fn check_values(&self) -> Result<()> {
        use crate::domain::text::first_non_xml_char;
        for (key, value) in &self.map {
            if first_non_xml_char(key).is_some() {
                return Err(ec2_err!(InvalidParameter, "The parameter {key} is not recognized"));
            }
            if value.len() > MAX_VALUE_BYTES {
                return Err(ec2_err!(
                    InvalidParameterValue,
                    "Value for parameter {key} is invalid: it is {} bytes long; at most {MAX_VALUE_BYTES} are allowed.",
                    value.len()
                ));
            }
            if let Some(c) = first_non_xml_char(value) {
                return Err(ec2_err!(
                    InvalidParameterValue,
                    "Value for parameter {key} is invalid: the character U+{:04X} is not allowed.",
                    c as u32
                ));
            }
            check_text_limit(key, value)?;
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// A scalar as sent, including an empty string.
    pub fn raw(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    /// A scalar that is present and non-empty (an empty value counts as not set, as
    /// SDKs send unset members of some structures as `Key=`).
    pub fn str(&self, key: &str) -> Option<&str> {
        self.raw(key).filter(|v| !v.is_empty())
    }

    pub fn required(&self, key: &str) -> Result<&str> {
        self.str(key).ok_or_else(|| Ec2Error::missing_parameter(key))
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        match self.str(key) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(ec2_err!(
                InvalidParameterValue,
                "Value ({v}) for parameter {key} is invalid. Expected: 'true' or 'false'."
            )),
        }
    }

    pub fn flag(&self, key: &str) -> Result<bool> {
        Ok(self.bool(key)?.unwrap_or(false))
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>> {
        match self.str(key) {
            None => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
                ec2_err!(InvalidParameterValue, "Value ({v}) for parameter {key} is invalid. Expected an integer.")
            }),
        }
    }

    /// The sorted, distinct indices N of keys `prefix.N` and `prefix.N.*`.
    pub fn indices(&self, prefix: &str) -> Result<Vec<u32>> {
        let mut indices = Vec::new();
        self.each_member(prefix, |index, _, _| indices.push(index))?;
        distinct(prefix, indices)
    }

    /// A flattened list of strings: `prefix.1`, `prefix.2`, ... (empty values skipped).
    pub fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let mut items = Vec::new();
        let mut indices = Vec::new();
        self.each_member(prefix, |index, rest, value| {
            indices.push(index);
            // `prefix.N` itself, written as N is (`prefix.01` names no item).
            if rest.len() == index_width(index) && !value.is_empty() {
                items.push((index, value));
            }
        })?;
        distinct(prefix, indices)?;
        // Keys sort as text (`.10` before `.2`); the list is in index order.
        items.sort_unstable_by_key(|(index, _)| *index);
        Ok(items.into_iter().map(|(_, value)| value.to_string()).collect())
    }

    /// Calls `visit(N, rest, value)` for every key `prefix.<rest>`, N being the number
    /// that `rest` starts with; a key whose N is not a number is refused. One pass over
    /// the keys' sorted range, one allocation: this runs for every list of every request.
    fn each_member<'s>(&'s self, prefix: &str, mut visit: impl FnMut(u32, &'s str, &'s str)) -> Result<()> {
        let start = format!("{prefix}.");
        for (key, value) in self.map.range::<str, _>((Bound::Included(start.as_str()), Bound::Unbounded)) {
            let Some(rest) = key.strip_prefix(start.as_str()) else { break };
            let index_text = rest.split('.').next().unwrap_or_default();
            let index = index_text
                .parse::<u32>()
                .map_err(|_| ec2_err!(InvalidParameter, "The parameter {key} is not recognized"))?;
            visit(index, rest, value);
        }
        Ok(())
    }

    /// Whether any key of this list or structure was sent (`Prefix=` included).
    pub fn has(&self, prefix: &str) -> bool {
        let dotted = format!("{prefix}.");
        self.map.contains_key(prefix)
            || self
                .map
                .range::<str, _>((Bound::Included(dotted.as_str()), Bound::Unbounded))
                .next()
                .is_some_and(|(k, _)| k.starts_with(&dotted))
    }

    /// A view of the members of structure `prefix` (`prefix.Member`).
    pub fn nested(&self, prefix: impl Into<String>) -> Nested<'_> {
        Nested { params: self, prefix: prefix.into() }
    }

    /// The structures of a list: `prefix.1.*`, `prefix.2.*`, ...
    pub fn structs(&self, prefix: &str) -> Result<Vec<Nested<'_>>> {
        Ok(self.indices(prefix)?.into_iter().map(|i| self.nested(format!("{prefix}.{i}"))).collect())
    }
}

/// `indices` sorted and without repeats, if there are not more than a list may hold.
fn distinct(prefix: &str, mut indices: Vec<u32>) -> Result<Vec<u32>> {
    indices.sort_unstable();
    indices.dedup();
    if indices.len() > MAX_LIST_LEN {
        return Err(ec2_err!(
            InvalidParameterValue,
            "The list {prefix} has {} entries; at most {MAX_LIST_LEN} are allowed",
            indices.len()
        ));
    }
    Ok(indices)
}

/// How many digits `index` is written with.
fn index_width(index: u32) -> usize {
    index.checked_ilog10().unwrap_or(0) as usize + 1
}

fn check_text_limit(key: &str, value: &str) -> Result<()> {
    let member = key.rsplit('.').next().unwrap_or(key);
    let Some((_, max)) = TEXT_LIMITS.iter().find(|(suffix, _)| member.ends_with(suffix)) else { return Ok(()) };
    let length = value.chars().count();
    if length > *max {
        return Err(ec2_err!(
            InvalidParameterValue,
            "Value for parameter {key} is invalid: it is {length} characters long; at most {max} are allowed."
        ));
    }
    Ok(())
}

/// The members of one structure inside the parameters.
#[derive(Clone)]
pub struct Nested<'a> {
    params: &'a Params,
    prefix: String,
}

impl<'a> Nested<'a> {
    fn key(&self, member: &str) -> String {
        format!("{}.{member}", self.prefix)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn raw(&self, member: &str) -> Option<&'a str> {
        self.params.raw(&self.key(member))
    }

    pub fn str(&self, member: &str) -> Option<&'a str> {
        self.params.str(&self.key(member))
    }

    pub fn bool(&self, member: &str) -> Result<Option<bool>> {
        self.params.bool(&self.key(member))
    }

    pub fn int(&self, member: &str) -> Result<Option<i64>> {
        self.params.int(&self.key(member))
    }

    pub fn list(&self, member: &str) -> Result<Vec<String>> {
        self.params.list(&self.key(member))
    }

    pub fn has(&self, member: &str) -> bool {
        self.params.has(&self.key(member))
    }

    pub fn nested(&self, member: &str) -> Nested<'a> {
        self.params.nested(self.key(member))
    }

    pub fn structs(&self, member: &str) -> Result<Vec<Nested<'a>>> {
        self.params.structs(&self.key(member))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_ordered_by_numeric_index() {
        let p = Params::parse(b"", b"ImageId.10=ami-c&ImageId.2=ami-b&ImageId.1=ami-a");
        assert_eq!(p.list("ImageId").unwrap(), ["ami-a", "ami-b", "ami-c"]);
    }

    #[test]
    fn list_items_are_the_keys_named_by_their_index_alone() {
        // `ImageId.01` and `ImageId.3.Extra` are members of the list's key range but no
        // item of it; empty values are skipped; `ImageIds.1` is another parameter.
        let p =
            Params::parse(b"", b"ImageId.01=ami-x&ImageId.3.Extra=ami-y&ImageId.2=&ImageId.4=ami-d&ImageIds.1=ami-z");
        assert_eq!(p.list("ImageId").unwrap(), ["ami-d"]);
        assert_eq!(p.indices("ImageId").unwrap(), [1, 2, 3, 4]);
    }

    #[test]
    fn lists_longer_than_the_limit_are_refused() {
        let body: Vec<String> = (1..=MAX_LIST_LEN + 1).map(|i| format!("ImageId.{i}=ami-{i:08x}")).collect();
        let p = Params::parse(b"", body.join("&").as_bytes());
        assert_eq!(p.list("ImageId").unwrap_err().code, "InvalidParameterValue");
        let body: Vec<String> = (1..=MAX_LIST_LEN).map(|i| format!("ImageId.{i}=ami-{i:08x}")).collect();
        let p = Params::parse(b"", body.join("&").as_bytes());
        assert_eq!(p.list("ImageId").unwrap().len(), MAX_LIST_LEN);
    }

    #[test]
    fn empty_list_form_reads_as_empty() {
        let p = Params::parse(b"", b"Action=DescribeImages&ImageId=");
        assert!(p.list("ImageId").unwrap().is_empty());
        assert!(p.has("ImageId"));
    }

    #[test]
    fn nested_filters_and_plus_and_percent_spaces() {
        let p = Params::parse(
            b"",
            b"Filter.1.Name=name&Filter.1.Value.1=my+ami%2A&Filter.1.Value.2=a%20b&Filter.2.Name=state",
        );
        let filters = p.structs("Filter").unwrap();
        assert_eq!(filters.len(), 2);
        assert_eq!(filters[0].str("Name"), Some("name"));
        assert_eq!(filters[0].list("Value").unwrap(), ["my ami*", "a b"]);
        assert!(filters[1].list("Value").unwrap().is_empty());
    }

    #[test]
    fn body_wins_over_query_string() {
        let p = Params::parse(b"Action=A&Name=q", b"Name=b");
        assert_eq!(p.str("Action"), Some("A"));
        assert_eq!(p.str("Name"), Some("b"));
    }

    #[test]
    fn non_numeric_index_is_refused() {
        let p = Params::parse(b"", b"ImageId.x=ami-12345678");
        assert_eq!(p.list("ImageId").unwrap_err().code, "InvalidParameter");
    }

    #[test]
    fn overlong_values_and_non_xml_characters_are_refused() {
        assert!(Params::parse(b"", b"Name=a%09b%0Ac").check_values().is_ok());
        let err = Params::parse(b"", b"KeyName=a%00b").check_values().unwrap_err();
        assert_eq!(
            (err.code.as_str(), err.message.as_str()),
            ("InvalidParameterValue", "Value for parameter KeyName is invalid: the character U+0000 is not allowed.")
        );
        assert_eq!(Params::parse(b"", b"A%01=b").check_values().unwrap_err().code, "InvalidParameter");
        let long = format!("ImageLocation={}", "A".repeat(MAX_VALUE_BYTES + 1));
        assert_eq!(Params::parse(b"", long.as_bytes()).check_values().unwrap_err().code, "InvalidParameterValue");
    }

    #[test]
    fn shared_free_texts_keep_to_ec2_limits() {
        let within = format!(
            "GroupDescription={}&ClientToken={}&UserData={}",
            "d".repeat(255),
            "t".repeat(128),
            "A".repeat(21_848)
        );
        assert!(Params::parse(b"", within.as_bytes()).check_values().is_ok());
        for over in [
            format!("DiskContainer.1.Description={}", "d".repeat(256)),
            format!("ClientToken={}", "t".repeat(129)),
            format!("LaunchTemplateData.UserData={}", "A".repeat(21_849)),
        ] {
            let err = Params::parse(b"", over.as_bytes()).check_values().unwrap_err();
            assert_eq!(err.code, "InvalidParameterValue", "{}", &over[..30]);
        }
    }

    #[test]
    fn bad_boolean_is_invalid_parameter_value() {
        let p = Params::parse(b"", b"DryRun=yes");
        assert_eq!(p.bool("DryRun").unwrap_err().code, "InvalidParameterValue");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A validation error: an EC2 code answered with a 4xx, never `InternalError`.
        fn assert_client_error(err: &Ec2Error) {
            assert!((400..500).contains(&err.status()), "{:?} answers {}", err.code, err.status());
            assert_ne!(err.code, crate::error::Code::InternalError);
        }

        /// Every typed read of every key the parser produced, under the prefixes a
        /// handler would use: each is a value or a client error.
        fn exercise(p: &Params) {
            if let Err(e) = p.check_values() {
                assert_client_error(&e);
            }
            let keys: Vec<String> = p.map.keys().cloned().collect();
            for key in &keys {
                let mut prefixes = vec![key.clone()];
                let mut rest = key.as_str();
                while let Some((head, _)) = rest.rsplit_once('.') {
                    prefixes.push(head.to_string());
                    rest = head;
                }
                for prefix in &prefixes {
                    let _ = p.has(prefix);
                    if let Err(e) = p.bool(prefix) {
                        assert_client_error(&e);
                    }
                    if let Err(e) = p.int(prefix) {
                        assert_client_error(&e);
                    }
                    match p.list(prefix) {
                        Ok(list) => assert!(list.len() <= MAX_LIST_LEN),
                        Err(e) => assert_client_error(&e),
                    }
                    match p.structs(prefix) {
                        Ok(structs) => {
                            for s in structs {
                                let _ = s.str("Name");
                                if let Err(e) = s.list("Value") {
                                    assert_client_error(&e);
                                }
                            }
                        }
                        Err(e) => assert_client_error(&e),
                    }
                }
            }
        }

        /// Keys built from the pieces EC2 keys are made of, so that lists and nested
        /// structures (not only random noise) are produced.
        fn key() -> impl Strategy<Value = String> {
            let part = prop_oneof![
                Just("Filter".to_string()),
                Just("Value".to_string()),
                Just("Name".to_string()),
                Just("ImageId".to_string()),
                Just("Description".to_string()),
                Just("ClientToken".to_string()),
                Just("UserData".to_string()),
                Just("DryRun".to_string()),
                Just("MaxCount".to_string()),
                "[0-9]{1,11}",
                "-?[0-9]{1,3}",
                "\\PC{0,4}",
                "[\\x00-\\x1f\\u{fffe}\\u{ffff}.%+&=]{0,3}",
            ];
            prop::collection::vec(part, 1..5).prop_map(|parts| parts.join("."))
        }

        proptest! {
            // 2,000 cases: about 0.4 s in a debug build.
            #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

            #[test]
            fn arbitrary_bytes_never_panic(query in prop::collection::vec(any::<u8>(), 0..256),
                                           body in prop::collection::vec(any::<u8>(), 0..512)) {
                let p = Params::parse(&query, &body);
                exercise(&p);
            }
        }

        proptest! {
            // 500 cases: each reads every list and structure its up to 24 keys name (about 2 s).
            #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

            #[test]
            fn arbitrary_pairs_round_trip_and_never_panic(
                pairs in prop::collection::vec((key(), "\\PC{0,8}|[\\x00-\\x1f\\u{fffe}]{0,3}|[-0-9]{0,4}|(?i:true|false)"), 0..24)
            ) {
                let body: String = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                    .finish();
                let p = Params::parse(b"", body.as_bytes());
                // The last value sent under a key is the one read.
                for (k, _) in &pairs {
                    let last = pairs.iter().rev().find(|(k2, _)| k2 == k).map(|(_, v)| v.as_str());
                    prop_assert_eq!(p.raw(k), last);
                }
                exercise(&p);
            }
        }

        proptest! {
            // 40 cases: each builds a list of about 1,000 entries.
            #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

            #[test]
            fn many_list_entries_are_refused_with_an_ec2_error(n in 995usize..1010) {
                let body: String = (1..=n).map(|i| format!("ImageId.{i}=ami-{i:08x}")).collect::<Vec<_>>().join("&");
                let p = Params::parse(b"", body.as_bytes());
                match p.list("ImageId") {
                    Ok(list) => prop_assert!(n <= MAX_LIST_LEN && list.len() == n),
                    Err(e) => {
                        prop_assert!(n > MAX_LIST_LEN);
                        prop_assert_eq!(e.code.as_str(), "InvalidParameterValue");
                    }
                }
            }
        }
    }
}
