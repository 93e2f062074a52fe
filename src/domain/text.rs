//! The characters a stored text may hold. Every answer is XML 1.0, which cannot carry
//! most C0 control characters (nor U+FFFE / U+FFFF) even escaped: a value holding one
//! is refused on input, and the XML writer replaces any that still reach it.

/// Whether XML 1.0 can carry `c` (its `Char` production; Rust chars are never
/// surrogates).
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The first character of `value` that XML 1.0 cannot carry.
pub fn first_non_xml_char(value: &str) -> Option<char> {
    if value.bytes().all(|b| b >= 0x20 && b != 0xEF) {
        // No control character, and no 0xEF, the first byte of U+FFFE and U+FFFF: every
        // character is one XML carries (checked byte-wise, as almost every value is).
        return None;
    }
    value.chars().find(|c| !is_xml_char(*c))
}

/// Whether `value` holds a control character (C0, DEL or C1), which no name or key
/// may hold, tabs and newlines included.
pub fn has_control_char(value: &str) -> bool {
    value.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_chars_follow_the_xml_1_0_production() {
        for c in ['\t', '\n', '\r', ' ', 'é', '\u{D7FF}', '\u{E000}', '\u{FFFD}', '\u{10FFFF}'] {
            assert!(is_xml_char(c), "{c:?}");
        }
        for c in ['\0', '\u{1}', '\u{B}', '\u{C}', '\u{1F}', '\u{FFFE}', '\u{FFFF}'] {
            assert!(!is_xml_char(c), "{c:?}");
        }
        assert_eq!(first_non_xml_char("a\u{0}b"), Some('\0'));
        assert_eq!(first_non_xml_char("tab\tok"), None);
    }

    #[test]
    fn names_hold_no_control_character() {
        assert!(has_control_char("a\tb"));
        assert!(has_control_char("a\u{7F}"));
        assert!(has_control_char("a\u{85}"));
        assert!(!has_control_char("plain name"));
    }
}
