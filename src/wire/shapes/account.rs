//! The `AccountAttribute` shape (DescribeAccountAttributes).

use crate::wire::xml::Xml;

pub fn write_account_attribute(x: &mut Xml, name: &str, values: &[String]) {
    x.text("attributeName", name).list("attributeValueSet", values, |x, v| {
        x.text("attributeValue", v);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_account_attribute() {
        let mut x = Xml::new();
        x.list("accountAttributeSet", &["default-vpc"], |x, name| {
            write_account_attribute(x, name, &["vpc-0123456789abcdef0".to_string()])
        });
        assert_eq!(
            x.as_str(),
            "<accountAttributeSet><item><attributeName>default-vpc</attributeName>\
             <attributeValueSet><item><attributeValue>vpc-0123456789abcdef0</attributeValue></item></attributeValueSet></item></accountAttributeSet>"
        );
    }
}
