//! CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPair.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::Ctx;
use crate::domain::clock::iso;
use crate::domain::ids::{self, IdKind};
use crate::domain::key_pair::{self, KeyPair};
use crate::domain::tags::{self as tag_rules, Tag};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::{is_unique_violation, key_pairs, tags};
use crate::wire::params::Params;
use crate::wire::query::{dedup, parse_filters, parse_tag_specs};
use crate::wire::xml::Xml;

/// Stores a key pair with its tags; a name taken in the region is a duplicate.
async fn store(ctx: &Ctx<'_>, key: &KeyPair, tags: &[Tag]) -> Result<()> {
    let mut tx = ctx.app.store.write().await?;
    if let Err(err) = key_pairs::insert(&mut tx, key).await {
        return Err(if is_unique_violation(&err, "key_pair") {
            Ec2Error::key_pair_duplicate(&key.key_name)
        } else {
            err.into()
        });
    }
    tags::upsert(&mut tx, ctx.scope.account, ctx.scope.region, &key.key_pair_id, "key-pair", tags, ctx.now).await?;
    tx.commit().await?;
    Ok(())
}

fn new_key(
    ctx: &Ctx<'_>,
    name: &str,
    key_type: &str,
    public_key: String,
    fingerprint: String,
    tags: &[Tag],
) -> KeyPair {
    KeyPair {
        key_pair_id: ids::new_id(IdKind::KeyPair),
        owner_id: ctx.scope.account.to_string(),
        region: ctx.scope.region.to_string(),
        key_name: name.to_string(),
        key_type: key_type.to_string(),
        fingerprint,
        public_key,
        create_time: ctx.now,
        tags: tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect(),
    }
}

fn parse_tags_for_key(p: &Params) -> Result<Vec<Tag>> {
    tag_rules::for_type(&parse_tag_specs(p)?, &["key-pair"], "key-pair")
}

/// Read by the handler until this action has a typed input.
pub type CreateKeyPairInput = Params;

pub async fn create_key_pair(ctx: &Ctx<'_>, p: CreateKeyPairInput) -> Result<Xml> {
    let p = &p;
    let name = p.required("KeyName")?;
    key_pair::validate_name(name)?;
    let key_type = p.str("KeyType").unwrap_or("rsa");
    if !matches!(key_type, "rsa" | "ed25519") {
        return Err(Ec2Error::invalid_value("KeyType", key_type));
    }
    match p.str("KeyFormat").unwrap_or("pem") {
        "pem" => {}
        "ppk" => return Err(ec2_err!(UnsupportedOperation, "ec2lite returns private keys in PEM format only.")),
        other => return Err(Ec2Error::invalid_value("KeyFormat", other)),
    }
    let tags = parse_tags_for_key(p)?;
    if key_pairs::find(&mut *ctx.app.store.read().await?, ctx.scope.account, ctx.scope.region, Some(name), None)
        .await?
        .is_some()
    {
        return Err(Ec2Error::key_pair_duplicate(name));
    }
    ctx.check_dry_run()?;
    let key_type_owned = key_type.to_string();
    let comment = name.to_string();
    let generated = tokio::task::spawn_blocking(move || key_pair::generate(&key_type_owned, &comment))
        .await
        .map_err(|_| Ec2Error::internal())??;
    let key = new_key(ctx, name, generated.key_type, generated.public_key, generated.fingerprint, &tags);
    store(ctx, &key, &tags).await?;
    let mut x = Xml::new();
    x.text("keyName", &key.key_name)
        .text("keyFingerprint", &key.fingerprint)
        .text("keyMaterial", &generated.private_key)
        .text("keyPairId", &key.key_pair_id)
        .tag_set(&key.tags);
    Ok(x)
}

/// Read by the handler until this action has a typed input.
pub type ImportKeyPairInput = Params;

pub async fn import_key_pair(ctx: &Ctx<'_>, p: ImportKeyPairInput) -> Result<Xml> {
    let p = &p;
    let name = p.required("KeyName")?;
    key_pair::validate_name(name)?;
    let encoded = p.required("PublicKeyMaterial")?;
    // A blob member: base64 on the wire. Older clients sent the key text itself.
    let material = STANDARD.decode(encoded).unwrap_or_else(|_| encoded.as_bytes().to_vec());
    let tags = parse_tags_for_key(p)?;
    let (key_type, public_key, fingerprint) = key_pair::import(&material, name)?;
    ctx.check_dry_run()?;
    let key = new_key(ctx, name, key_type, public_key, fingerprint, &tags);
    store(ctx, &key, &tags).await?;
    let mut x = Xml::new();
    x.text("keyFingerprint", &key.fingerprint)
        .text("keyName", &key.key_name)
        .text("keyPairId", &key.key_pair_id)
        .tag_set(&key.tags);
    Ok(x)
}

/// Read by the handler until this action has a typed input.
pub type DescribeKeyPairsInput = Params;

pub async fn describe_key_pairs(ctx: &Ctx<'_>, p: DescribeKeyPairsInput) -> Result<Xml> {
    let p = &p;
    let names = dedup(p.list("KeyName")?);
    let key_ids = dedup(p.list("KeyPairId")?);
    ids::check_all(IdKind::KeyPair, &key_ids)?;
    let filters = parse_filters(p, "Filter")?;
    key_pairs::FILTERS.validate(&filters)?;
    let include_public_key = p.flag("IncludePublicKey")?;
    ctx.check_dry_run()?;
    let query = key_pairs::KeyPairQuery {
        account: ctx.scope.account,
        region: ctx.scope.region,
        names: &names,
        ids: &key_ids,
        filters: &filters,
    };
    let found = key_pairs::describe(&mut *ctx.app.store.read().await?, &query).await?;
    if filters.is_empty() {
        if let Some(missing) = names.iter().find(|n| !found.iter().any(|k| &k.key_name == *n)) {
            return Err(Ec2Error::key_pair_not_found(missing));
        }
        if let Some(missing) = key_ids.iter().find(|id| !found.iter().any(|k| &k.key_pair_id == *id)) {
            return Err(Ec2Error::key_pair_not_found(missing));
        }
    }
    let mut x = Xml::new();
    x.list("keySet", &found, |x, k| {
        x.text("keyPairId", &k.key_pair_id)
            .text("keyType", &k.key_type)
            .tag_set(&k.tags)
            .text("keyName", &k.key_name)
            .text("keyFingerprint", &k.fingerprint);
        if include_public_key {
            x.text("publicKey", &k.public_key);
        }
        x.text("createTime", &iso(k.create_time));
    });
    Ok(x)
}

/// Deleting a key pair that does not exist succeeds, as on EC2.
/// Read by the handler until this action has a typed input.
pub type DeleteKeyPairInput = Params;

pub async fn delete_key_pair(ctx: &Ctx<'_>, p: DeleteKeyPairInput) -> Result<Xml> {
    let p = &p;
    let name = p.str("KeyName");
    let id = p.str("KeyPairId");
    if name.is_none() && id.is_none() {
        return Err(Ec2Error::missing_parameter("KeyName"));
    }
    if let Some(id) = id {
        ids::check(IdKind::KeyPair, id)?;
    }
    ctx.check_dry_run()?;
    let mut tx = ctx.app.store.write().await?;
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
