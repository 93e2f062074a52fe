//! CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPair.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::{Ctx, FromParams};
use crate::domain::filter::Filter;
use crate::domain::ids::{self, IdKind};
use crate::domain::key_pair::{self, KeyPair};
use crate::domain::tags::{self as tag_rules, Tag};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::{key_pairs, tags};
use crate::wire::params::Params;
use crate::wire::query::{dedup, parse_filters, parse_tag_specs};
use crate::wire::shapes::key_pair::{write_created_key_pair, write_imported_key_pair, write_key_pair};
use crate::wire::xml::Xml;

/// `KeyName`, required and valid.
fn parse_key_name(p: &Params) -> Result<String> {
    let name = p.required("KeyName")?;
    key_pair::validate_name(name)?;
    Ok(name.to_string())
}

fn parse_key_pair_tags(p: &Params) -> Result<Vec<Tag>> {
    tag_rules::for_type(&parse_tag_specs(p)?, &["key-pair"], "key-pair")
}

/// A key pair of the caller, named `name`, with `tags`.
fn new_key(
    ctx: &Ctx<'_>,
    name: String,
    key_type: &str,
    public_key: String,
    fingerprint: String,
    tags: &[Tag],
) -> KeyPair {
    KeyPair {
        key_pair_id: ids::new_id(IdKind::KeyPair),
        owner_id: ctx.scope.account.to_string(),
        region: ctx.scope.region.to_string(),
        key_name: name,
        key_type: key_type.to_string(),
        fingerprint,
        public_key,
        create_time: ctx.now,
        tags: tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect(),
    }
}

/// Stores a key pair with its tags; a name taken in the region is refused by the store.
async fn store(ctx: &Ctx<'_>, key: &KeyPair, tags: &[Tag]) -> Result<()> {
    let mut tx = ctx.app.store.write().await?;
    key_pairs::insert(&mut tx, key).await?;
    tags::upsert(&mut tx, ctx.scope.account, ctx.scope.region, &key.key_pair_id, "key-pair", tags, ctx.now).await?;
    tx.commit().await?;
    Ok(())
}

pub struct CreateKeyPairInput {
    pub key_name: String,
    /// `rsa` (the default) or `ed25519`.
    pub key_type: &'static str,
    pub tags: Vec<Tag>,
}

impl FromParams for CreateKeyPairInput {
    fn from_params(p: &Params) -> Result<Self> {
        let key_name = parse_key_name(p)?;
        let key_type = match p.str("KeyType").unwrap_or("rsa") {
            "rsa" => "rsa",
            "ed25519" => "ed25519",
            other => return Err(Ec2Error::invalid_value("KeyType", other)),
        };
        match p.str("KeyFormat").unwrap_or("pem") {
            "pem" => {}
            "ppk" => return Err(ec2_err!(UnsupportedOperation, "ec2lite returns private keys in PEM format only.")),
            other => return Err(Ec2Error::invalid_value("KeyFormat", other)),
        }
        let tags = parse_key_pair_tags(p)?;
        Ok(CreateKeyPairInput { key_name, key_type, tags })
    }
}

pub async fn create_key_pair(ctx: &Ctx<'_>, input: CreateKeyPairInput) -> Result<Xml> {
    ctx.check_dry_run()?;
    let (key_type, comment) = (input.key_type, input.key_name.clone());
    // RSA generation takes a while: off the async workers.
    let generated = tokio::task::spawn_blocking(move || key_pair::generate(key_type, &comment))
        .await
        .map_err(|_| Ec2Error::internal())??;
    let key =
        new_key(ctx, input.key_name, generated.key_type, generated.public_key, generated.fingerprint, &input.tags);
    store(ctx, &key, &input.tags).await?;
    let mut x = Xml::new();
    write_created_key_pair(&mut x, &key, &generated.private_key);
    Ok(x)
}

pub struct ImportKeyPairInput {
    pub key_name: String,
    /// The imported public key, parsed: its type, OpenSSH form and EC2 fingerprint.
    pub key_type: &'static str,
    pub public_key: String,
    pub fingerprint: String,
    pub tags: Vec<Tag>,
}

impl FromParams for ImportKeyPairInput {
    fn from_params(p: &Params) -> Result<Self> {
        let key_name = parse_key_name(p)?;
        let encoded = p.required("PublicKeyMaterial")?;
        // A blob member: base64 on the wire. Older clients sent the key text itself.
        let material = STANDARD.decode(encoded).unwrap_or_else(|_| encoded.as_bytes().to_vec());
        let tags = parse_key_pair_tags(p)?;
        let (key_type, public_key, fingerprint) = key_pair::import(&material, &key_name)?;
        Ok(ImportKeyPairInput { key_name, key_type, public_key, fingerprint, tags })
    }
}

pub async fn import_key_pair(ctx: &Ctx<'_>, input: ImportKeyPairInput) -> Result<Xml> {
    ctx.check_dry_run()?;
    let key = new_key(ctx, input.key_name, input.key_type, input.public_key, input.fingerprint, &input.tags);
    store(ctx, &key, &input.tags).await?;
    let mut x = Xml::new();
    write_imported_key_pair(&mut x, &key);
    Ok(x)
}

pub struct DescribeKeyPairsInput {
    pub key_names: Vec<String>,
    pub key_pair_ids: Vec<String>,
    pub filters: Vec<Filter>,
    pub include_public_key: bool,
}

impl FromParams for DescribeKeyPairsInput {
    fn from_params(p: &Params) -> Result<Self> {
        let key_names = dedup(p.list("KeyName")?);
        let key_pair_ids = dedup(p.list("KeyPairId")?);
        ids::check_all(IdKind::KeyPair, &key_pair_ids)?;
        let filters = parse_filters(p, "Filter")?;
        key_pairs::FILTERS.validate(&filters)?;
        let include_public_key = p.flag("IncludePublicKey")?;
        Ok(DescribeKeyPairsInput { key_names, key_pair_ids, filters, include_public_key })
    }
}

pub async fn describe_key_pairs(ctx: &Ctx<'_>, input: DescribeKeyPairsInput) -> Result<Xml> {
    ctx.check_dry_run()?;
    let query = key_pairs::KeyPairQuery {
        account: ctx.scope.account,
        region: ctx.scope.region,
        names: &input.key_names,
        ids: &input.key_pair_ids,
        filters: &input.filters,
    };
    let found = key_pairs::describe(&mut *ctx.app.store.read().await?, &query).await?;
    // A key asked for that is missing is unknown, unless filters were given.
    if input.filters.is_empty() {
        let missing_name = input.key_names.iter().find(|n| !found.iter().any(|k| &k.key_name == *n));
        let missing_id = input.key_pair_ids.iter().find(|id| !found.iter().any(|k| &k.key_pair_id == *id));
        if let Some(missing) = missing_name.or(missing_id) {
            return Err(Ec2Error::key_pair_not_found(missing));
        }
    }
    let mut x = Xml::new();
    x.list("keySet", &found, |x, k| write_key_pair(x, k, input.include_public_key));
    Ok(x)
}

/// By name or by id (at least one).
pub struct DeleteKeyPairInput {
    pub key_name: Option<String>,
    pub key_pair_id: Option<String>,
}

impl FromParams for DeleteKeyPairInput {
    fn from_params(p: &Params) -> Result<Self> {
        let key_name = p.str("KeyName").map(str::to_string);
        let key_pair_id = p.str("KeyPairId").map(str::to_string);
        if key_name.is_none() && key_pair_id.is_none() {
            return Err(Ec2Error::missing_parameter("KeyName"));
        }
        if let Some(id) = &key_pair_id {
            ids::check(IdKind::KeyPair, id)?;
        }
        Ok(DeleteKeyPairInput { key_name, key_pair_id })
    }
}

/// Deleting a key pair that does not exist succeeds, as on EC2.
pub async fn delete_key_pair(ctx: &Ctx<'_>, input: DeleteKeyPairInput) -> Result<Xml> {
    ctx.check_dry_run()?;
    let mut tx = ctx.app.store.write().await?;
    let (name, id) = (input.key_name.as_deref(), input.key_pair_id.as_deref());
    let key = key_pairs::find(&mut tx, ctx.scope.account, ctx.scope.region, name, id).await?;
    if let Some(key) = &key {
        key_pairs::delete(&mut tx, &key.key_pair_id).await?;
    }
    tx.commit().await?;
    let mut x = Xml::return_true();
    if let Some(key) = key {
        x.text("keyPairId", &key.key_pair_id);
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519_PUBLIC: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG0xrrSDckP58VZIcDW7ua1mf0tOSv5mGfYDO8KnX1Ja laptop";

    #[test]
    fn create_reads_type_format_and_tags() {
        let p = Params::from_pairs([
            ("KeyName", "deploy"),
            ("KeyType", "ed25519"),
            ("TagSpecification.1.ResourceType", "key-pair"),
            ("TagSpecification.1.Tag.1.Key", "team"),
            ("TagSpecification.1.Tag.1.Value", "os"),
        ]);
        let input = CreateKeyPairInput::from_params(&p).unwrap();
        assert_eq!((input.key_name.as_str(), input.key_type), ("deploy", "ed25519"));
        assert_eq!(input.tags, [Tag { key: "team".into(), value: "os".into() }]);
        assert_eq!(CreateKeyPairInput::from_params(&Params::from_pairs([("KeyName", "k")])).unwrap().key_type, "rsa");
    }

    #[test]
    fn create_refusals() {
        let refused = |pairs: &[(&str, &str)]| {
            CreateKeyPairInput::from_params(&Params::from_pairs(pairs.iter().copied())).err().unwrap()
        };
        assert_eq!(refused(&[]).code, "MissingParameter");
        assert_eq!(refused(&[("KeyName", "k"), ("KeyType", "dsa")]).message, "Invalid value 'dsa' for KeyType");
        assert_eq!(refused(&[("KeyName", "k"), ("KeyFormat", "ppk")]).code, "UnsupportedOperation");
        assert_eq!(refused(&[("KeyName", "k"), ("KeyFormat", "der")]).code, "InvalidParameterValue");
        assert_eq!(refused(&[("KeyName", "clé")]).code, "InvalidParameterValue");
        let wrong_type =
            [("KeyName", "k"), ("TagSpecification.1.ResourceType", "image"), ("TagSpecification.1.Tag.1.Key", "a")];
        assert_eq!(refused(&wrong_type).code, "InvalidParameterValue");
    }

    #[test]
    fn import_parses_the_key_in_either_encoding() {
        let encoded = STANDARD.encode(ED25519_PUBLIC);
        for material in [encoded.as_str(), ED25519_PUBLIC] {
            let p = Params::from_pairs([("KeyName", "laptop"), ("PublicKeyMaterial", material)]);
            let input = ImportKeyPairInput::from_params(&p).unwrap();
            assert_eq!(input.key_type, "ed25519");
            assert!(input.public_key.starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"));
        }
        let p = Params::from_pairs([("KeyName", "junk"), ("PublicKeyMaterial", "not a key")]);
        assert_eq!(ImportKeyPairInput::from_params(&p).err().unwrap().code, "InvalidKey.Format");
        let p = Params::from_pairs([("KeyName", "laptop")]);
        assert_eq!(ImportKeyPairInput::from_params(&p).err().unwrap().code, "MissingParameter");
    }

    #[test]
    fn describe_checks_ids_and_filters() {
        let p = Params::from_pairs([
            ("KeyName.1", "a"),
            ("KeyName.2", "a"),
            ("KeyPairId.1", "key-0123456789abcdef0"),
            ("Filter.1.Name", "key-type"),
            ("Filter.1.Value.1", "rsa"),
            ("IncludePublicKey", "true"),
        ]);
        let input = DescribeKeyPairsInput::from_params(&p).unwrap();
        assert_eq!(input.key_names, ["a"]);
        assert!(input.include_public_key);
        let p = Params::from_pairs([("KeyPairId.1", "kp-1")]);
        assert_eq!(DescribeKeyPairsInput::from_params(&p).err().unwrap().code, "InvalidKeyPair.Malformed");
        let p = Params::from_pairs([("Filter.1.Name", "colour"), ("Filter.1.Value.1", "red")]);
        assert_eq!(DescribeKeyPairsInput::from_params(&p).err().unwrap().code, "InvalidParameterValue");
    }

    #[test]
    fn delete_needs_a_name_or_a_well_formed_id() {
        let p = Params::from_pairs([("KeyPairId", "key-0123456789abcdef0")]);
        let input = DeleteKeyPairInput::from_params(&p).unwrap();
        assert_eq!((input.key_name, input.key_pair_id.as_deref()), (None, Some("key-0123456789abcdef0")));
        assert_eq!(DeleteKeyPairInput::from_params(&Params::default()).err().unwrap().code, "MissingParameter");
        let p = Params::from_pairs([("KeyName", "k"), ("KeyPairId", "key-x")]);
        assert_eq!(DeleteKeyPairInput::from_params(&p).err().unwrap().code, "InvalidKeyPair.Malformed");
    }
}
