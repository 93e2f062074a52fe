//! The accounts file (`--accounts FILE`, JSON): accounts, their access keys and secrets,
//! and their place in an organization, so that organization and OU grants can be honoured.
//!
//! ```json
//! { "organizations": [ { "id": "o-abcdefghij", "management_account": "111111111111",
//!       "units": [ { "id": "ou-ab12-cdefgh34" }, { "id": "ou-ab12-ijklmn56", "parent": "ou-ab12-cdefgh34" } ] } ],
//!   "accounts": [ { "id": "222222222222", "organization": "o-abcdefghij", "unit": "ou-ab12-ijklmn56",
//!       "access_keys": [ { "access_key_id": "AKIAEXAMPLE2", "secret_access_key": "secret2" } ] } ] }
//! ```

use serde::Deserialize;

use super::ids::is_account_id;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Directory {
    /// The account of unsigned requests and of access keys that are neither in the file
    /// nor 12-digit account ids (`--default-account`; empty: `000000000000`).
    #[serde(skip)]
    pub default_account: String,
    #[serde(default)]
    pub organizations: Vec<Organization>,
    #[serde(default)]
    pub accounts: Vec<Account>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Organization {
    pub id: String,
    pub management_account: String,
    #[serde(default)]
    pub units: Vec<Unit>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Unit {
    pub id: String,
    pub parent: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub id: String,
    pub organization: Option<String>,
    pub unit: Option<String>,
    #[serde(default)]
    pub access_keys: Vec<AccessKey>,
    /// The opt-in regions this account has enabled; absent: all of them.
    pub opt_in_regions: Option<Vec<String>>,
    /// The Marketplace product codes the account has subscribed to.
    #[serde(default)]
    pub marketplace_subscriptions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl Directory {
    pub fn parse(text: &str) -> Result<Directory, String> {
        let directory: Directory = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for account in &directory.accounts {
            if !is_account_id(&account.id) {
                return Err(format!("account id '{}' is not 12 digits", account.id));
            }
            if let Some(org) = &account.organization {
                let organization = directory.organization(org).ok_or(format!("unknown organization '{org}'"))?;
                if let Some(unit) = &account.unit {
                    if !organization.units.iter().any(|u| &u.id == unit) {
                        return Err(format!("unknown unit '{unit}' in organization '{org}'"));
                    }
                }
            }
        }
        Ok(directory)
    }

    fn organization(&self, id: &str) -> Option<&Organization> {
        self.organizations.iter().find(|o| o.id == id)
    }

    /// The account an access key belongs to, with its secret.
    pub fn key(&self, access_key_id: &str) -> Option<(&str, &str)> {
        self.accounts.iter().find_map(|a| {
            a.access_keys
                .iter()
                .find(|k| k.access_key_id == access_key_id)
                .map(|k| (a.id.as_str(), k.secret_access_key.as_str()))
        })
    }

    /// Whether `account` may use `region`: regions that need no opt-in always; opt-in
    /// regions unless the accounts file lists the account's enabled ones without it.
    pub fn region_enabled(&self, account: &str, region: &super::regions::Region) -> bool {
        if !region.opt_in {
            return true;
        }
        match self.accounts.iter().find(|a| a.id == account).and_then(|a| a.opt_in_regions.as_ref()) {
            Some(enabled) => enabled.iter().any(|r| r == region.name),
            None => true,
        }
    }

    /// `(account, grantee)` rows: the organization ARN and the ARNs of the account's OU
    /// and of every OU above it.
    /// Whether the accounts file subscribes `account` to the product `code`.
    pub fn subscribed(&self, account: &str, code: &str) -> bool {
        self.accounts.iter().any(|a| a.id == account && a.marketplace_subscriptions.iter().any(|c| c == code))
    }

    pub fn memberships(&self) -> Vec<(String, String)> {
        let mut rows = Vec::new();
        for account in &self.accounts {
            let Some(org) = account.organization.as_deref().and_then(|o| self.organization(o)) else { continue };
            let base = format!("arn:aws:organizations::{}:", org.management_account);
            rows.push((account.id.clone(), format!("{base}organization/{}", org.id)));
            let mut unit = account.unit.clone();
            while let Some(id) = unit {
                rows.push((account.id.clone(), format!("{base}ou/{}/{id}", org.id)));
                unit = org.units.iter().find(|u| u.id == id).and_then(|u| u.parent.clone());
            }
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{ "organizations": [ { "id": "o-abcdefghij", "management_account": "111111111111",
        "units": [ { "id": "ou-ab12-cdefgh34" }, { "id": "ou-ab12-ijklmn56", "parent": "ou-ab12-cdefgh34" } ] } ],
      "accounts": [ { "id": "222222222222", "organization": "o-abcdefghij", "unit": "ou-ab12-ijklmn56",
        "access_keys": [ { "access_key_id": "AKIAEXAMPLE2", "secret_access_key": "secret2" } ] } ] }"#;

    #[test]
    fn memberships_include_the_organization_and_every_enclosing_unit() {
        let d = Directory::parse(FILE).unwrap();
        assert_eq!(
            d.memberships(),
            vec![
                ("222222222222".into(), "arn:aws:organizations::111111111111:organization/o-abcdefghij".into()),
                ("222222222222".into(), "arn:aws:organizations::111111111111:ou/o-abcdefghij/ou-ab12-ijklmn56".into()),
                ("222222222222".into(), "arn:aws:organizations::111111111111:ou/o-abcdefghij/ou-ab12-cdefgh34".into()),
            ]
        );
        assert_eq!(d.key("AKIAEXAMPLE2"), Some(("222222222222", "secret2")));
        assert!(Directory::parse(r#"{"accounts":[{"id":"12"}]}"#).is_err());
    }
}
