//! EC2 filters: `Filter.N.Name` with `Filter.N.Value.M`. Names are ANDed, the values of
//! one name are ORed; values are case-sensitive with `*` (any run of characters), `?`
//! (zero or one character) and `\` escaping a literal `*`, `?` or `\`.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub name: String,
    pub values: Vec<String>,
}

/// Most filter values EC2 accepts in one call.
pub const MAX_FILTER_VALUES: usize = 200;

/// Longest filter value accepted, in characters. EC2 documents no limit; the longest
/// text a filter matches is a 256-character tag value, so 1024 leaves room for
/// wildcards and escapes while staying far below SQLite's 50,000-byte limit on
/// LIKE/GLOB patterns (beyond it a query fails instead of matching).
pub const MAX_FILTER_VALUE_CHARS: usize = 1024;

/// Longest filter name: `tag:` with a 128-character tag key fits.
pub const MAX_FILTER_NAME_CHARS: usize = 255;

/// Most GLOB patterns the values of one filter may expand to (each `?` doubles a
/// value's, see [`Pattern::globs`]). The store ORs them into one SQL expression, and
/// SQLite refuses expressions deeper than 1,000: a tag filter already failed at about
/// 490 patterns, so 256 keeps a margin for the other filters ANDed beside it.
pub const MAX_FILTER_GLOBS: usize = 256;

/// Refuses filters no EC2 call accepts: too many values in all, an overlong name or
/// value, or characters an answer could not echo.
pub fn check_limits(filters: &[Filter]) -> crate::error::Result<()> {
    let total: usize = filters.iter().map(|f| f.values.len()).sum();
    if total > MAX_FILTER_VALUES {
        return Err(crate::ec2_err!(
            FilterLimitExceeded,
            "The maximum number of filter values specified on a single call is {MAX_FILTER_VALUES}"
        ));
    }
    for f in filters {
        if f.name.chars().count() > MAX_FILTER_NAME_CHARS || crate::domain::text::has_control_char(&f.name) {
            return Err(crate::ec2_err!(InvalidParameterValue, "The filter '{}' is invalid", f.name));
        }
        for value in &f.values {
            check_value(&f.name, value)?;
        }
        let globs: usize = f.values.iter().map(|v| Pattern::new(v).glob_count()).sum();
        if globs > MAX_FILTER_GLOBS {
            return Err(crate::ec2_err!(
                InvalidParameterValue,
                "The values of the filter '{}' use too many '?' wildcards: they expand to {globs} patterns; at most {MAX_FILTER_GLOBS} are allowed",
                f.name
            ));
        }
    }
    Ok(())
}

fn check_value(name: &str, value: &str) -> crate::error::Result<()> {
    let length = value.chars().count();
    if length > MAX_FILTER_VALUE_CHARS {
        return Err(crate::ec2_err!(
            InvalidParameterValue,
            "A value of the filter '{name}' is {length} characters long; at most {MAX_FILTER_VALUE_CHARS} are allowed"
        ));
    }
    if let Some(c) = crate::domain::text::first_non_xml_char(value) {
        return Err(crate::ec2_err!(
            InvalidParameterValue,
            "A value of the filter '{name}' holds the character U+{:04X}, which is not allowed",
            c as u32
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Char(char),
    Any,
    ZeroOrOne,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    tokens: Vec<Token>,
}

/// Beyond this many `?`, a pattern's SQL form treats `?` as exactly one character
/// rather than expanding into 2^n alternatives.
const MAX_EXPANDED_OPTIONALS: usize = 8;

impl Pattern {
    pub fn new(value: &str) -> Pattern {
        let mut tokens = Vec::with_capacity(value.len());
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '\\' => Token::Char(chars.next().unwrap_or('\\')),
                '*' => Token::Any,
                '?' => Token::ZeroOrOne,
                c => Token::Char(c),
            });
        }
        Pattern { tokens }
    }

    /// The literal text, if the pattern has no wildcard.
    pub fn literal(&self) -> Option<String> {
        self.tokens
            .iter()
            .map(|t| match t {
                Token::Char(c) => Some(*c),
                _ => None,
            })
            .collect()
    }

    /// The literal characters before the first wildcard, when there are any.
    pub fn literal_prefix(&self) -> Option<String> {
        let prefix: String = self
            .tokens
            .iter()
            .map_while(|t| match t {
                Token::Char(c) => Some(*c),
                _ => None,
            })
            .collect();
        (!prefix.is_empty()).then_some(prefix)
    }

    pub fn matches(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        matches_from(&self.tokens, &chars)
    }

    /// Equivalent SQLite `GLOB` patterns (any of which may match). `?` may match nothing,
    /// which GLOB cannot say, so each `?` doubles the alternatives: with and without it.
    pub fn globs(&self) -> Vec<String> {
        let optionals = self.tokens.iter().filter(|t| **t == Token::ZeroOrOne).count();
        if optionals > MAX_EXPANDED_OPTIONALS {
            return vec![self.glob_with(|_| true)];
        }
        (0..1u32 << optionals).map(|mask| self.glob_with(|i| mask & (1 << i) != 0)).collect()
    }

    /// How many patterns [`Pattern::globs`] gives, without building them.
    pub fn glob_count(&self) -> usize {
        let optionals = self.tokens.iter().filter(|t| **t == Token::ZeroOrOne).count();
        if optionals > MAX_EXPANDED_OPTIONALS {
            1
        } else {
            1 << optionals
        }
    }

    fn glob_with(&self, keep_optional: impl Fn(usize) -> bool) -> String {
        let mut out = String::new();
        let mut optional_index = 0;
        for token in &self.tokens {
            match token {
                Token::Any => out.push('*'),
                Token::ZeroOrOne => {
                    if keep_optional(optional_index) {
                        out.push('?');
                    }
                    optional_index += 1;
                }
                Token::Char(c @ ('*' | '?' | '[')) => {
                    out.push('[');
                    out.push(*c);
                    out.push(']');
                }
                Token::Char(c) => out.push(*c),
            }
        }
        out
    }
}

/// Runs the pattern as a set of positions over the text, one character at a time: time
/// proportional to pattern length times text length. (Trying each way a `*` or `?` may
/// match, by backtracking, took minutes for `?` repeated 32 times.)
fn matches_from(tokens: &[Token], text: &[char]) -> bool {
    let mut at = vec![false; tokens.len() + 1];
    at[0] = true;
    skip_optional(tokens, &mut at);
    for c in text {
        let mut next = vec![false; tokens.len() + 1];
        for (i, token) in tokens.iter().enumerate().filter(|(i, _)| at[*i]) {
            match token {
                Token::Char(expected) if expected == c => next[i + 1] = true,
                Token::Char(_) => {}
                Token::Any => next[i] = true,
                Token::ZeroOrOne => next[i + 1] = true,
            }
        }
        skip_optional(tokens, &mut next);
        if !next.contains(&true) {
            return false;
        }
        at = next;
    }
    at[tokens.len()]
}

/// Adds the positions reachable by letting `*` and `?` match nothing.
fn skip_optional(tokens: &[Token], at: &mut [bool]) {
    for (i, token) in tokens.iter().enumerate() {
        if at[i] && matches!(token, Token::Any | Token::ZeroOrOne) {
            at[i + 1] = true;
        }
    }
}

/// Whether any of the values matches `text` (the OR within one filter).
pub fn any_matches(values: &[String], text: &str) -> bool {
    values.iter().any(|v| Pattern::new(v).matches(text))
}

/// For resources held in memory (regions, zones): checks the filter names against
/// `known`, then keeps the items whose fields match every filter.
pub fn filter_in_memory<T>(
    items: Vec<T>,
    filters: &[Filter],
    known: &[&str],
    field: impl Fn(&T, &str) -> Vec<String>,
) -> crate::error::Result<Vec<T>> {
    for f in filters {
        if !known.contains(&f.name.as_str()) {
            return Err(crate::ec2_err!(InvalidParameterValue, "The filter '{}' is invalid", f.name));
        }
    }
    Ok(items
        .into_iter()
        .filter(|item| filters.iter().all(|f| field(item, &f.name).iter().any(|v| any_matches(&f.values, v))))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_follow_ec2_rules() {
        assert!(Pattern::new("al2023-ami-*-x86_64").matches("al2023-ami-2023.6-kernel-6.1-x86_64"));
        assert!(Pattern::new("ab?c").matches("abc"));
        assert!(Pattern::new("ab?c").matches("abxc"));
        assert!(!Pattern::new("ab?c").matches("abxyc"));
        assert!(!Pattern::new("Foo").matches("foo"));
        assert!(Pattern::new(r"a\*b").matches("a*b"));
        assert!(!Pattern::new(r"a\*b").matches("axb"));
        assert!(Pattern::new("*").matches(""));
        assert!(Pattern::new("?").matches(""));
        assert!(!Pattern::new("").matches("a"));
        assert!(Pattern::new("a*?*b").matches("ab"));
        assert!(Pattern::new("*-*-1").matches("us-east-1"));
        assert!(!Pattern::new("*-*-1").matches("us-east-2"));
    }

    #[test]
    fn matching_takes_polynomial_time() {
        let started = std::time::Instant::now();
        let pattern = Pattern::new(&format!("{}#", "?".repeat(1000)));
        assert!(!pattern.matches(&"m".repeat(300)));
        assert!(!Pattern::new(&format!("{}#", "*a".repeat(500))).matches(&"a".repeat(300)));
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
    }

    #[test]
    fn overlong_or_too_many_filter_values_are_refused() {
        let filter = |value: String| Filter { name: "name".into(), values: vec![value] };
        assert!(check_limits(&[filter("*".repeat(MAX_FILTER_VALUE_CHARS))]).is_ok());
        let long = check_limits(&[filter("*".repeat(MAX_FILTER_VALUE_CHARS + 1))]).unwrap_err();
        assert_eq!(long.code, "InvalidParameterValue");
        assert_eq!(check_limits(&[filter("a\u{0}b".into())]).unwrap_err().code, "InvalidParameterValue");
        let many = Filter { name: "name".into(), values: vec!["x".into(); MAX_FILTER_VALUES + 1] };
        assert_eq!(check_limits(&[many]).unwrap_err().code, "FilterLimitExceeded");
        let name = Filter { name: format!("tag:{}", "k".repeat(MAX_FILTER_NAME_CHARS)), values: vec![] };
        assert_eq!(check_limits(&[name]).unwrap_err().code, "InvalidParameterValue");
    }

    #[test]
    fn optional_wildcards_expand_within_a_bound() {
        for value in ["plain", "a?", "a?b?c?d?e?f?g?h?", "a?b?c?d?e?f?g?h?i?", r"a\?b"] {
            assert_eq!(Pattern::new(value).glob_count(), Pattern::new(value).globs().len(), "{value}");
        }
        let filter = |values: &[&str]| Filter {
            name: "tag:Name".into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        };
        assert!(check_limits(&[filter(&["a?b?c?d?e?f?g?h?"])]).is_ok());
        assert!(check_limits(&[filter(&["a?b?c?d?e?f?g?h?i?j?"; 200])]).is_ok(), "past 8, '?' is not expanded");
        let err = check_limits(&[filter(&["a?b?c?d?e?f?g?h?", "x?"])]).unwrap_err();
        assert_eq!(err.code, "InvalidParameterValue");
    }

    #[test]
    fn globs_expand_optional_characters_and_escape_literals() {
        assert_eq!(Pattern::new("a?b*").globs(), ["ab*", "a?b*"]);
        assert_eq!(Pattern::new(r"x\*[y").globs(), ["x[*][[]y"]);
        assert_eq!(Pattern::new("plain").literal().as_deref(), Some("plain"));
        assert_eq!(Pattern::new("pl*").literal(), None);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        #[derive(Debug, Clone, Copy, PartialEq)]
        enum Ref {
            Lit(char),
            Star,
            Opt,
        }

        /// The module's documented rules, read independently: `\` takes the next
        /// character literally (a trailing `\` is itself), `*` any run, `?` zero or one.
        fn reference_parse(value: &str) -> Vec<Ref> {
            let chars: Vec<char> = value.chars().collect();
            let mut out = Vec::new();
            let mut i = 0;
            while i < chars.len() {
                out.push(match chars[i] {
                    '\\' if i + 1 < chars.len() => {
                        i += 1;
                        Ref::Lit(chars[i])
                    }
                    '*' => Ref::Star,
                    '?' => Ref::Opt,
                    c => Ref::Lit(c),
                });
                i += 1;
            }
            out
        }

        /// Plain backtracking (exponential, fine for the short inputs generated here).
        /// `exact_one` reads `?` as exactly one character.
        fn reference_match(p: &[Ref], t: &[char], exact_one: bool) -> bool {
            match p.split_first() {
                None => t.is_empty(),
                Some((Ref::Star, rest)) => {
                    reference_match(rest, t, exact_one) || (!t.is_empty() && reference_match(p, &t[1..], exact_one))
                }
                Some((Ref::Opt, rest)) => {
                    (!exact_one && reference_match(rest, t, exact_one))
                        || (!t.is_empty() && reference_match(rest, &t[1..], exact_one))
                }
                Some((Ref::Lit(c), rest)) => t.first() == Some(c) && reference_match(rest, &t[1..], exact_one),
            }
        }

        fn sqlite() -> rusqlite::Connection {
            rusqlite::Connection::open_in_memory().expect("in-memory SQLite")
        }

        fn sqlite_glob(db: &rusqlite::Connection, text: &str, glob: &str) -> bool {
            db.query_row("select ?1 glob ?2", (text, glob), |row| row.get(0)).expect("glob")
        }

        // Small alphabets that hold every character the rules treat specially.
        const PATTERN: &str = "[ab*?\\\\\\[\\]é]{0,10}";
        const TEXT: &str = "[ab*?\\\\\\[\\]é]{0,8}";

        proptest! {
            // 2,000 cases each; the SQLite one runs each case's GLOBs (at most 256) in memory.
            #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

            #[test]
            fn matching_agrees_with_a_reference_matcher(value in PATTERN, text in TEXT) {
                let chars: Vec<char> = text.chars().collect();
                let expected = reference_match(&reference_parse(&value), &chars, false);
                prop_assert_eq!(Pattern::new(&value).matches(&text), expected, "{:?} against {:?}", value, text);
                prop_assert_eq!(any_matches(std::slice::from_ref(&value), &text), expected);
            }

            #[test]
            fn sqlite_globs_agree_with_the_matcher(value in PATTERN, text in TEXT) {
                let pattern = Pattern::new(&value);
                let tokens = reference_parse(&value);
                let optionals = tokens.iter().filter(|t| **t == Ref::Opt).count();
                let globs = pattern.globs();
                prop_assert_eq!(globs.len(), pattern.glob_count());
                prop_assert!(globs.len() <= 1 << MAX_EXPANDED_OPTIONALS);
                let db = sqlite();
                let by_sqlite = globs.iter().any(|g| sqlite_glob(&db, &text, g));
                let chars: Vec<char> = text.chars().collect();
                // Past the expansion limit a single GLOB reads `?` as exactly one character.
                let exact_one = optionals > MAX_EXPANDED_OPTIONALS;
                prop_assert_eq!(by_sqlite, reference_match(&tokens, &chars, exact_one), "{:?} ({:?}) against {:?}", value, globs, text);
                if let Some(literal) = pattern.literal() {
                    prop_assert_eq!(pattern.matches(&text), literal == text);
                }
                if let Some(prefix) = pattern.literal_prefix() {
                    if pattern.matches(&text) {
                        prop_assert!(text.starts_with(&prefix));
                    }
                }
            }

            #[test]
            fn past_the_limit_one_glob_reads_optionals_as_one_character(
                value in prop::collection::vec("[ab]{0,1}", 9..13)
                    .prop_map(|parts| parts.iter().map(|p| format!("{p}?")).collect::<String>()),
                text in "[ab]{0,16}",
            ) {
                let globs = Pattern::new(&value).globs();
                prop_assert_eq!(globs.len(), 1);
                let chars: Vec<char> = text.chars().collect();
                let tokens = reference_parse(&value);
                prop_assert_eq!(sqlite_glob(&sqlite(), &text, &globs[0]), reference_match(&tokens, &chars, true));
                // The in-memory matcher keeps EC2's zero-or-one reading all the same.
                prop_assert_eq!(Pattern::new(&value).matches(&text), reference_match(&tokens, &chars, false));
            }

            #[test]
            fn arbitrary_patterns_never_panic(value in "\\PC{0,40}|[?*\\\\]{0,40}", text in "\\PC{0,40}") {
                let pattern = Pattern::new(&value);
                let _ = pattern.matches(&text);
                let _ = pattern.literal();
                let _ = pattern.literal_prefix();
                prop_assert_eq!(pattern.globs().len(), pattern.glob_count());
            }

            #[test]
            fn the_expansion_limit_is_kept(
                values in prop::collection::vec("[a?\\\\]{0,12}", 0..12),
                name in "[a-z:]{1,10}",
            ) {
                let total: usize = values.iter().map(|v| Pattern::new(v).glob_count()).sum();
                let filter = Filter { name, values };
                match check_limits(std::slice::from_ref(&filter)) {
                    Ok(()) => prop_assert!(total <= MAX_FILTER_GLOBS),
                    Err(e) => {
                        prop_assert!(total > MAX_FILTER_GLOBS, "refused {:?}: {}", filter, e.message);
                        prop_assert_eq!(e.code.as_str(), "InvalidParameterValue");
                        prop_assert_eq!(e.status(), 400);
                    }
                }
            }
        }
    }
}
