//! The tag descriptions of DescribeTags: one item per (resource, key).

use crate::store::tags::TagDescription;
use crate::wire::xml::Xml;

pub fn write_tag_descriptions(x: &mut Xml, found: &[TagDescription]) {
    x.list("tagSet", found, |x, t| {
        x.text("resourceId", &t.resource_id)
            .text("resourceType", &t.resource_type)
            .text("key", &t.key)
            .text("value", &t.value);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_tag_descriptions() {
        let mut x = Xml::new();
        write_tag_descriptions(
            &mut x,
            &[TagDescription {
                resource_id: "ami-12345678".into(),
                resource_type: "image".into(),
                key: "k".into(),
                value: "v".into(),
            }],
        );
        assert_eq!(
            x.as_str(),
            "<tagSet><item><resourceId>ami-12345678</resourceId><resourceType>image</resourceType><key>k</key><value>v</value></item></tagSet>"
        );
    }

    #[test]
    fn golden_no_tag_descriptions() {
        let mut x = Xml::new();
        write_tag_descriptions(&mut x, &[]);
        assert_eq!(x.as_str(), "<tagSet/>");
    }
}
