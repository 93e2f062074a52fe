//! DescribeAccountAttributes: the caller's account limits and its default VPC in the region.

use super::{Ctx, FromParams};
use crate::ec2_err;
use crate::error::Result;
use crate::store::network::vpcs;
use crate::wire::params::Params;
use crate::wire::shapes::account::write_account_attribute;
use crate::wire::xml::Xml;

/// Every attribute EC2 reports, in the order it lists them when none is asked for.
pub const ACCOUNT_ATTRIBUTES: &[&str] = &[
    "vpc-max-security-groups-per-interface",
    "max-instances",
    "supported-platforms",
    "default-vpc",
    "max-elastic-ips",
    "vpc-max-elastic-ips",
];

pub struct DescribeAccountAttributesInput {
    /// Empty means every attribute.
    pub names: Vec<String>,
}

impl FromParams for DescribeAccountAttributesInput {
    fn from_params(p: &Params) -> Result<Self> {
        let names = p.list("AttributeName")?;
        if let Some(unknown) = names.iter().find(|n| !ACCOUNT_ATTRIBUTES.contains(&n.as_str())) {
            return Err(ec2_err!(
                InvalidParameterValue,
                "Value ({unknown}) for parameter attributeName is invalid. Unknown attribute name."
            ));
        }
        Ok(DescribeAccountAttributesInput { names })
    }
}

/// The value(s) of one attribute; `default_vpc` is the caller's in its region, if any.
fn attribute_values(name: &str, default_vpc: Option<&str>) -> Vec<String> {
    let fixed = match name {
        "supported-platforms" => "VPC",
        "default-vpc" => default_vpc.unwrap_or("none"),
        "max-instances" => "20",
        "vpc-max-security-groups-per-interface" => "5",
        _ => "5", // max-elastic-ips, vpc-max-elastic-ips
    };
    vec![fixed.to_string()]
}

pub async fn describe_account_attributes(ctx: &Ctx<'_>, input: DescribeAccountAttributesInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    ctx.check_dry_run()?;
    let default_vpc = vpcs::default_vpc(&mut *ctx.app.store.read().await?, ctx.scope.account, ctx.scope.region)
        .await?
        .map(|v| v.vpc_id);
    let asked: Vec<&str> = if input.names.is_empty() {
        ACCOUNT_ATTRIBUTES.to_vec()
    } else {
        ACCOUNT_ATTRIBUTES.iter().copied().filter(|a| input.names.iter().any(|n| n == a)).collect()
    };
    let mut x = Xml::new();
    x.list("accountAttributeSet", &asked, |x, name| write_account_attribute(x, name, &attribute_values(name, default_vpc.as_deref())));
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_are_checked() {
        let p = Params::from_pairs([("AttributeName.1", "default-vpc"), ("AttributeName.2", "supported-platforms")]);
        assert_eq!(
            DescribeAccountAttributesInput::from_params(&p).unwrap().names,
            ["default-vpc", "supported-platforms"]
        );
        let p = Params::from_pairs([("AttributeName.1", "max-vcpus")]);
        let err = DescribeAccountAttributesInput::from_params(&p).err().unwrap();
        assert_eq!(err.code, "InvalidParameterValue");
    }
}
