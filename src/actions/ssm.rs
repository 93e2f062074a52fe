//! SSM Parameter Store: GetParameter, GetParameters, GetParametersByPath,
//! GetParameterHistory, PutParameter, DeleteParameter(s), DescribeParameters (the
//! `resolve:ssm:` lookup RunInstances makes is `access::resolve_ssm_image`). Inputs arrive typed from `wire::ssm`;
//! outputs are the JSON shapes of the SSM model.
//!
//! Own parameters are `String` or `StringList` (no KMS, so no `SecureString`);
//! labels, tags and policies are not kept.

use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::Ctx;
use crate::access::{self, launchable_image, Scope};
use crate::domain::ssm::{
    self, check_own_name, check_path, is_public, parse_reference, under_path, ParameterVersion, Result, SsmError,
};
use crate::store::{ssm as store, Conn};

// Reading ------------------------------------------------------------------------------

fn epoch_seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// The `Parameter` shape.
fn parameter_json(p: &ParameterVersion, region: &str, selector: Option<String>) -> Value {
    let mut v = json!({
        "Name": p.name,
        "Type": p.kind,
        "Value": p.value,
        "Version": p.version,
        "LastModifiedDate": epoch_seconds(p.modified_ms),
        "ARN": p.arn(region),
        "DataType": p.data_type,
    });
    if let Some(selector) = selector {
        v["Selector"] = selector.into();
    }
    v
}

/// The `ParameterHistory` and `ParameterMetadata` members both shapes share.
fn metadata_json(p: &ParameterVersion) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("Name".into(), p.name.clone().into());
    m.insert("Type".into(), p.kind.clone().into());
    m.insert("LastModifiedDate".into(), epoch_seconds(p.modified_ms).into());
    if let Some(owner) = &p.owner {
        m.insert("LastModifiedUser".into(), format!("arn:aws:iam::{owner}:root").into());
    }
    if let Some(d) = &p.description {
        m.insert("Description".into(), d.clone().into());
    }
    if let Some(a) = &p.allowed_pattern {
        m.insert("AllowedPattern".into(), a.clone().into());
    }
    m.insert("Version".into(), p.version.into());
    m.insert("Tier".into(), p.tier.clone().into());
    m.insert("Policies".into(), json!([]));
    m.insert("DataType".into(), p.data_type.clone().into());
    m
}

fn history_json(p: &ParameterVersion) -> Value {
    let mut m = metadata_json(p);
    m.insert("Value".into(), p.value.clone().into());
    m.insert("Labels".into(), json!([]));
    Value::Object(m)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParameterInput {
    pub name: String,
    #[serde(default)]
    pub with_decryption: Option<bool>,
}

pub async fn get_parameter(ctx: &Ctx<'_>, input: GetParameterInput) -> Result<Value> {
    let reference = parse_reference(&input.name)?;
    let mut conn = ctx.app.store.read().await?;
    let history = access::parameter_history(ctx.app, ctx.scope, &mut conn, reference.name).await?;
    let p = ssm::select(&history, &reference)?;
    Ok(json!({ "Parameter": parameter_json(p, ctx.scope.region, reference.selector_text()) }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParametersInput {
    pub names: Vec<String>,
    #[serde(default)]
    pub with_decryption: Option<bool>,
}

fn check_names_count(names: &[String]) -> Result<()> {
    if names.is_empty() || names.len() > 10 {
        return Err(SsmError::validation(format!(
            "1 validation error detected: Value '[{}]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1",
            names.join(", ")
        )));
    }
    Ok(())
}

/// Names that do not resolve (unknown, or an unknown version) are listed in
/// `InvalidParameters` instead of failing the call.
pub async fn get_parameters(ctx: &Ctx<'_>, input: GetParametersInput) -> Result<Value> {
    check_names_count(&input.names)?;
    let mut conn = ctx.app.store.read().await?;
    let (mut found, mut invalid) = (Vec::new(), Vec::new());
    let mut seen = std::collections::HashSet::new();
    for text in &input.names {
        if !seen.insert(text.as_str()) {
            continue;
        }
        let selected = match parse_reference(text) {
            Ok(reference) => {
                let history = access::parameter_history(ctx.app, ctx.scope, &mut conn, reference.name).await?;
                ssm::select(&history, &reference)
                    .ok()
                    .map(|p| parameter_json(p, ctx.scope.region, reference.selector_text()))
            }
            Err(_) => None,
        };
        match selected {
            Some(p) => found.push(p),
            None => invalid.push(text.clone()),
        }
    }
    Ok(json!({ "Parameters": found, "InvalidParameters": invalid }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ParameterFilter {
    pub key: String,
    pub option: Option<String>,
    #[serde(default)]
    pub values: Vec<String>,
}

/// The filters a listing applies: which keys it accepts and how each matches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Listing {
    ByPath,
    Describe,
}

fn check_filters(filters: &[ParameterFilter], listing: Listing) -> Result<()> {
    let mut keys = std::collections::HashSet::new();
    for f in filters {
        let valid_keys = match listing {
            Listing::ByPath => "[Type, KeyId]",
            Listing::Describe => "[Path, Name, Type, KeyId, Tier]",
        };
        let known = match listing {
            Listing::ByPath => ["Type", "KeyId", "Label", "DataType"].contains(&f.key.as_str()),
            Listing::Describe => ["Path", "Name", "Type", "KeyId", "Tier", "DataType"].contains(&f.key.as_str()),
        } || f.key.starts_with("tag:");
        if !known {
            return Err(SsmError::new(
                "InvalidFilterKey",
                format!("The following filter key is not valid: {}. Valid filter keys include: {valid_keys}.", f.key),
            ));
        }
        if !keys.insert(f.key.as_str()) {
            return Err(SsmError::new(
                "InvalidFilterKey",
                format!("The following filter is duplicated in the request: {}. A request can contain only one occurrence of a specific filter.", f.key),
            ));
        }
        check_filter_option(f)?;
    }
    Ok(())
}

fn check_filter_option(f: &ParameterFilter) -> Result<()> {
    let option = f.option.as_deref().unwrap_or(if f.key == "Path" { "OneLevel" } else { "Equals" });
    let allowed: &[&str] = match f.key.as_str() {
        "Path" => &["Recursive", "OneLevel"],
        "Name" => &["Equals", "BeginsWith", "Contains"],
        _ => &["Equals", "BeginsWith"],
    };
    if !allowed.contains(&option) {
        return Err(SsmError::new(
            "InvalidFilterOption",
            format!(
                "The following filter option is not valid: {option}. Valid options include: [{}].",
                allowed.join(", ")
            ),
        ));
    }
    if f.key == "Type" {
        if let Some(bad) = f.values.iter().find(|v| !["String", "StringList", "SecureString"].contains(&v.as_str())) {
            return Err(SsmError::new(
                "InvalidFilterValue",
                format!("The following filter value is not valid: {bad}. Valid values include: [String, StringList, SecureString]."),
            ));
        }
    }
    Ok(())
}

fn filter_matches(f: &ParameterFilter, p: &ParameterVersion) -> bool {
    let option = f.option.as_deref().unwrap_or("Equals");
    let field = match f.key.as_str() {
        "Name" => p.name.as_str(),
        "Type" => p.kind.as_str(),
        "DataType" => p.data_type.as_str(),
        "Tier" => p.tier.as_str(),
        "Path" => {
            let recursive = option == "Recursive";
            return f.values.iter().any(|v| under_path(v, &p.name, recursive));
        }
        // No parameter here has a KMS key, a label or a tag.
        _ => return false,
    };
    f.values.iter().any(|v| match option {
        "BeginsWith" => field.starts_with(v.as_str()),
        "Contains" => field.contains(v.as_str()),
        _ => field == v,
    })
}

fn check_max_results(value: Option<i64>, max: i64, default: i64) -> Result<i64> {
    match value {
        None => Ok(default),
        Some(n) if n > max => Err(SsmError::validation(format!(
            "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to {max}"
        ))),
        Some(n) if n < 1 => Err(SsmError::validation(format!(
            "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"
        ))),
        Some(n) => Ok(n),
    }
}

/// Page tokens are the opaque form of where the next page starts.
fn encode_token(position: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(position)
}

fn decode_token(token: Option<&str>) -> Result<Option<String>> {
    let Some(token) = token else { return Ok(None) };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map(Some)
        .ok_or_else(|| SsmError::new("InvalidNextToken", "The nextToken is not valid"))
}

/// One page of `candidates` (in name order) after the token's name.
fn page_by_name(
    candidates: Vec<ParameterVersion>,
    after: Option<&str>,
    limit: i64,
) -> (Vec<ParameterVersion>, Option<String>) {
    let mut rest: Vec<ParameterVersion> =
        candidates.into_iter().filter(|p| after.is_none_or(|a| p.name.as_str() > a)).collect();
    let more = rest.len() as i64 > limit;
    rest.truncate(limit as usize);
    let token = if more { rest.last().map(|p| encode_token(&p.name)) } else { None };
    (rest, token)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParametersByPathInput {
    pub path: String,
    #[serde(default)]
    pub recursive: Option<bool>,
    #[serde(default)]
    pub parameter_filters: Vec<ParameterFilter>,
    #[serde(default)]
    pub with_decryption: Option<bool>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

pub async fn get_parameters_by_path(ctx: &Ctx<'_>, input: GetParametersByPathInput) -> Result<Value> {
    check_path(&input.path)?;
    check_filters(&input.parameter_filters, Listing::ByPath)?;
    let limit = check_max_results(input.max_results, 10, 10)?;
    let after = decode_token(input.next_token.as_deref())?;
    let recursive = input.recursive.unwrap_or(false);
    let path = input.path.trim_end_matches('/');
    let mut conn = ctx.app.store.read().await?;
    let candidates: Vec<ParameterVersion> = if is_public(&format!("{path}/")) {
        let public = access::public_parameters(ctx.app, ctx.scope, &mut conn).await?;
        public.into_values().filter_map(|mut versions| versions.pop()).collect()
    } else {
        let prefix = format!("{path}/");
        store::latest_under(&mut conn, ctx.scope.account, ctx.scope.region, &prefix, "", -1).await?
    };
    let matching = candidates
        .into_iter()
        .filter(|p| under_path(path, &p.name, recursive))
        .filter(|p| input.parameter_filters.iter().all(|f| filter_matches(f, p)))
        .collect();
    let (page, next) = page_by_name(matching, after.as_deref(), limit);
    let parameters: Vec<Value> = page.iter().map(|p| parameter_json(p, ctx.scope.region, None)).collect();
    Ok(with_token(json!({ "Parameters": parameters }), next))
}

fn with_token(mut v: Value, token: Option<String>) -> Value {
    if let Some(token) = token {
        v["NextToken"] = token.into();
    }
    v
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParameterHistoryInput {
    pub name: String,
    #[serde(default)]
    pub with_decryption: Option<bool>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

pub async fn get_parameter_history(ctx: &Ctx<'_>, input: GetParameterHistoryInput) -> Result<Value> {
    let limit = check_max_results(input.max_results, 50, 50)?;
    let start: usize = match decode_token(input.next_token.as_deref())? {
        Some(position) => {
            position.parse().map_err(|_| SsmError::new("InvalidNextToken", "The nextToken is not valid"))?
        }
        None => 0,
    };
    let reference = parse_reference(&input.name)?;
    let mut conn = ctx.app.store.read().await?;
    let history = access::parameter_history(ctx.app, ctx.scope, &mut conn, reference.name).await?;
    if history.is_empty() {
        return Err(SsmError::new("ParameterNotFound", format!("Parameter {} not found.", input.name)));
    }
    let end = (start + limit as usize).min(history.len());
    let page: Vec<Value> = history.get(start..end).unwrap_or_default().iter().map(history_json).collect();
    let next = (end < history.len()).then(|| encode_token(&end.to_string()));
    Ok(with_token(json!({ "Parameters": page }), next))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeParametersInput {
    #[serde(default)]
    pub filters: Vec<ParameterFilter>,
    #[serde(default)]
    pub parameter_filters: Vec<ParameterFilter>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

/// The caller's own parameters (public ones are not described), in name order.
pub async fn describe_parameters(ctx: &Ctx<'_>, input: DescribeParametersInput) -> Result<Value> {
    if !input.filters.is_empty() && !input.parameter_filters.is_empty() {
        return Err(SsmError::validation("You can use either Filters or ParameterFilters in a single request."));
    }
    // The older `Filters` (Name, Type, KeyId) match as `BeginsWith` on names, `Equals` otherwise.
    let filters: Vec<ParameterFilter> = if input.filters.is_empty() {
        input.parameter_filters
    } else {
        input
            .filters
            .into_iter()
            .map(|f| ParameterFilter {
                option: Some(if f.key == "Name" { "BeginsWith" } else { "Equals" }.into()),
                ..f
            })
            .collect()
    };
    check_filters(&filters, Listing::Describe)?;
    if let Some(path) = filters.iter().find(|f| f.key == "Path").and_then(|f| f.values.first()) {
        check_path(path)?;
    }
    let limit = check_max_results(input.max_results, 50, 50)?;
    let after = decode_token(input.next_token.as_deref())?;
    let mut conn = ctx.app.store.read().await?;
    let all = store::latest_under(&mut conn, ctx.scope.account, ctx.scope.region, "", "", -1).await?;
    let matching = all.into_iter().filter(|p| filters.iter().all(|f| filter_matches(f, p))).collect();
    let (page, next) = page_by_name(matching, after.as_deref(), limit);
    let region = ctx.scope.region;
    let parameters: Vec<Value> = page
        .iter()
        .map(|p| {
            let mut m = metadata_json(p);
            m.insert("ARN".into(), p.arn(region).into());
            Value::Object(m)
        })
        .collect();
    Ok(with_token(json!({ "Parameters": parameters }), next))
}

// Writing ------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutParameterInput {
    pub name: String,
    pub value: String,
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub overwrite: Option<bool>,
    pub allowed_pattern: Option<String>,
    #[serde(default)]
    pub tags: Vec<Value>,
    pub tier: Option<String>,
    pub data_type: Option<String>,
    pub key_id: Option<String>,
}

/// The type a new version has: the request's, or the previous version's.
fn version_type(input: &PutParameterInput, previous: Option<&ParameterVersion>) -> Result<String> {
    let kind = match (&input.kind, previous) {
        (Some(kind), _) => kind.clone(),
        (None, Some(p)) => p.kind.clone(),
        (None, None) => return Err(SsmError::validation("A parameter type is required when you create a parameter.")),
    };
    match kind.as_str() {
        "String" | "StringList" => Ok(kind),
        "SecureString" => Err(SsmError::new(
            "UnsupportedParameterType",
            "SecureString parameters are not supported by ec2lite (it has no KMS); use String.",
        )),
        other => Err(SsmError::validation(format!(
            "1 validation error detected: Value '{other}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]"
        ))),
    }
}

fn version_tier(requested: Option<&str>, previous: Option<&ParameterVersion>, value: &str) -> Result<String> {
    let tier = match requested {
        None | Some("Intelligent-Tiering") => {
            let was_advanced = previous.is_some_and(|p| p.tier == "Advanced");
            if was_advanced || value.len() > ssm::MAX_STANDARD_VALUE { "Advanced" } else { "Standard" }
        }
        Some("Standard") => {
            if previous.is_some_and(|p| p.tier == "Advanced") {
                return Err(SsmError::validation(
                    "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.",
                ));
            }
            "Standard"
        }
        Some("Advanced") => "Advanced",
        Some(other) => {
            return Err(SsmError::validation(format!(
                "1 validation error detected: Value '{other}' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Advanced, Intelligent-Tiering, Standard]"
            )))
        }
    };
    let limit = if tier == "Standard" { ssm::MAX_STANDARD_VALUE } else { ssm::MAX_ADVANCED_VALUE };
    if value.len() > limit {
        return Err(SsmError::validation(format!(
            "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less than or equal to {limit}."
        )));
    }
    Ok(tier.to_string())
}

/// An `aws:ec2:image` value must name an AMI the caller can launch in the region (SSM
/// checks it through EC2's DescribeImages; here the check is made before answering).
async fn check_image_value(scope: Scope<'_>, conn: &mut Conn, kind: &str, value: &str) -> Result<()> {
    if kind != "String" {
        return Err(SsmError::validation(format!(
            "The data type aws:ec2:image is only supported for parameters of type String, not {kind}."
        )));
    }
    if !ssm::is_ami_id(value) {
        return Err(SsmError::validation(format!(
            "Parameter value, {value}, is not in the format of an AMI ID for data type aws:ec2:image."
        )));
    }
    match launchable_image(scope, conn, value, false).await {
        Ok(_) => Ok(()),
        Err(err) if err.code == crate::error::Code::InternalError => Err(SsmError::internal()),
        Err(err) => Err(SsmError::validation(format!("Unable to Describe Resource: {}", err.message))),
    }
}

pub async fn put_parameter(ctx: &Ctx<'_>, input: PutParameterInput) -> Result<Value> {
    check_own_name(&input.name)?;
    if input.value.is_empty() {
        return Err(SsmError::validation(
            "1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1.",
        ));
    }
    let overwrite = input.overwrite.unwrap_or(false);
    if overwrite && !input.tags.is_empty() {
        return Err(SsmError::validation("Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource."));
    }
    let scope = ctx.scope;
    let mut tx = ctx.app.store.write().await?;
    let previous = store::latest(&mut tx, scope.account, scope.region, &input.name).await?;
    if previous.is_some() && !overwrite {
        return Err(SsmError::new(
            "ParameterAlreadyExists",
            "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
        ));
    }
    let kind = version_type(&input, previous.as_ref())?;
    let data_type = input.data_type.clone().or_else(|| previous.as_ref().map(|p| p.data_type.clone()));
    let data_type = data_type.unwrap_or_else(|| "text".into());
    match data_type.as_str() {
        "text" => {}
        "aws:ec2:image" => check_image_value(scope, &mut tx, &kind, &input.value).await?,
        other => {
            return Err(SsmError::validation(format!(
                "The following data type is not supported: {other} (Data type names are all lowercase.)"
            )))
        }
    }
    let tier = version_tier(input.tier.as_deref(), previous.as_ref(), &input.value)?;
    // A new version keeps the spelling the parameter was created with.
    let name = previous.as_ref().map_or_else(|| input.name.clone(), |p| p.name.clone());
    let version = ParameterVersion {
        owner: Some(scope.account.to_string()),
        name,
        version: previous.as_ref().map_or(1, |p| p.version + 1),
        kind,
        data_type,
        value: input.value,
        description: input.description.or_else(|| previous.as_ref().and_then(|p| p.description.clone())),
        allowed_pattern: input.allowed_pattern.or_else(|| previous.and_then(|p| p.allowed_pattern)),
        tier,
        modified_ms: ctx.now,
    };
    store::insert(&mut tx, scope.region, &version).await?;
    tx.commit().await?;
    Ok(json!({ "Version": version.version, "Tier": version.tier }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteParameterInput {
    pub name: String,
}

pub async fn delete_parameter(ctx: &Ctx<'_>, input: DeleteParameterInput) -> Result<Value> {
    let mut tx = ctx.app.store.write().await?;
    if !store::delete(&mut tx, ctx.scope.account, ctx.scope.region, &input.name).await? {
        return Err(SsmError::new("ParameterNotFound", format!("Parameter {} not found.", input.name)));
    }
    tx.commit().await?;
    Ok(json!({}))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteParametersInput {
    pub names: Vec<String>,
}

pub async fn delete_parameters(ctx: &Ctx<'_>, input: DeleteParametersInput) -> Result<Value> {
    check_names_count(&input.names)?;
    let mut tx = ctx.app.store.write().await?;
    let (mut deleted, mut invalid) = (Vec::new(), Vec::new());
    for name in &input.names {
        if store::delete(&mut tx, ctx.scope.account, ctx.scope.region, name).await? {
            deleted.push(name.clone());
        } else if !deleted.contains(name) && !invalid.contains(name) {
            invalid.push(name.clone());
        }
    }
    tx.commit().await?;
    Ok(json!({ "DeletedParameters": deleted, "InvalidParameters": invalid }))
}

// resolve:ssm: ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::App;

    fn version(name: &str, n: i64) -> ParameterVersion {
        ParameterVersion {
            owner: Some("000000000000".into()),
            name: name.into(),
            version: n,
            kind: "String".into(),
            data_type: "text".into(),
            value: format!("v{n}"),
            description: None,
            allowed_pattern: None,
            tier: "Standard".into(),
            modified_ms: 1_700_000_000_000 + n,
        }
    }

    #[test]
    fn select_picks_latest_a_version_or_refuses() {
        let history = vec![version("/a", 1), version("/a", 2)];
        assert_eq!(ssm::select(&history, &parse_reference("/a").unwrap()).unwrap().version, 2);
        assert_eq!(ssm::select(&history, &parse_reference("/a:1").unwrap()).unwrap().value, "v1");
        assert_eq!(
            ssm::select(&history, &parse_reference("/a:7").unwrap()).unwrap_err().kind,
            "ParameterVersionNotFound"
        );
        assert_eq!(ssm::select(&[], &parse_reference("/a").unwrap()).unwrap_err(), SsmError::not_found());
    }

    #[test]
    fn parameter_json_has_the_model_members() {
        let p = version("/golden/ami", 3);
        let v = parameter_json(&p, "eu-west-1", Some(":3".into()));
        assert_eq!(
            v,
            json!({
                "Name": "/golden/ami", "Type": "String", "Value": "v3", "Version": 3,
                "LastModifiedDate": 1_700_000_000.003, "DataType": "text", "Selector": ":3",
                "ARN": "arn:aws:ssm:eu-west-1:000000000000:parameter/golden/ami",
            })
        );
        let h = history_json(&p);
        assert_eq!(h["LastModifiedUser"], "arn:aws:iam::000000000000:root");
        assert_eq!((h["Tier"].as_str(), h["Labels"].clone()), (Some("Standard"), json!([])));
    }

    #[test]
    fn paging_by_name_resumes_after_the_token() {
        let all: Vec<ParameterVersion> = (1..=5).map(|i| version(&format!("/p/{i}"), 1)).collect();
        let (first, token) = page_by_name(all.clone(), None, 2);
        assert_eq!(first.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["/p/1", "/p/2"]);
        let after = decode_token(token.as_deref()).unwrap();
        let (second, _) = page_by_name(all.clone(), after.as_deref(), 2);
        assert_eq!(second[0].name, "/p/3");
        let (last, none) = page_by_name(all, Some("/p/4"), 2);
        assert_eq!((last.len(), none), (1, None));
        assert_eq!(decode_token(Some("!!")).unwrap_err().kind, "InvalidNextToken");
    }

    #[test]
    fn filters_are_checked_and_matched() {
        let by_type = ParameterFilter { key: "Type".into(), option: None, values: vec!["String".into()] };
        assert!(check_filters(std::slice::from_ref(&by_type), Listing::ByPath).is_ok());
        let name = ParameterFilter { key: "Name".into(), option: None, values: vec!["/a".into()] };
        assert_eq!(check_filters(&[name], Listing::ByPath).unwrap_err().kind, "InvalidFilterKey");
        let bad =
            ParameterFilter { key: "Type".into(), option: Some("Contains".into()), values: vec!["String".into()] };
        assert_eq!(check_filters(&[bad], Listing::ByPath).unwrap_err().kind, "InvalidFilterOption");
        assert!(filter_matches(&by_type, &version("/a", 1)));
        let path = ParameterFilter { key: "Path".into(), option: Some("Recursive".into()), values: vec!["/a".into()] };
        assert!(filter_matches(&path, &version("/a/b/c", 1)));
        assert_eq!(check_max_results(Some(11), 10, 10).unwrap_err().kind, "ValidationException");
    }

    async fn app_with_catalog() -> App {
        use crate::domain::catalog::{fingerprint, parse, DEFAULT_CATALOG};
        let store = crate::store::Store::open(&crate::store::Location::InMemory).await.unwrap();
        let (queue, _) = tokio::sync::mpsc::unbounded_channel();
        let app = App {
            store,
            timings: Default::default(),
            default_region: "us-east-1",
            catalog: crate::app::Catalog::new(parse(DEFAULT_CATALOG).unwrap().images, fingerprint(&[DEFAULT_CATALOG])),
            directory: Default::default(),
            verify_signatures: false,
            admin: crate::wire::admin::AdminAccess::Open,
            blobs: std::sync::Arc::new(crate::store::blobs::BlobStore::in_memory()),
            imports: crate::app::ImportSettings {
                work_dir: std::env::temp_dir(),
                s3: None,
                step_ms: 0,
                http: Default::default(),
                queue,
            },
            machines: None,
        };
        app.catalog.ensure(&app.store, "us-east-1", 0).await.unwrap();
        app
    }

    fn put(name: &str, value: &str, data_type: Option<&str>) -> PutParameterInput {
        PutParameterInput {
            name: name.into(),
            value: value.into(),
            kind: Some("String".into()),
            description: None,
            overwrite: Some(true),
            allowed_pattern: None,
            tags: vec![],
            tier: None,
            data_type: data_type.map(str::to_string),
            key_id: None,
        }
    }

    #[tokio::test]
    async fn resolve_ssm_image_reads_own_and_public_parameters() {
        let app = app_with_catalog().await;
        let scope = Scope { account: "000000000000", region: "us-east-1" };
        let ctx = Ctx { app: &app, scope, now: 1, dry_run: false };
        let public = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64";
        let latest =
            get_parameter(&ctx, GetParameterInput { name: public.into(), with_decryption: None }).await.unwrap();
        let al2023 = latest["Parameter"]["Value"].as_str().unwrap().to_string();
        put_parameter(&ctx, put("/golden", &al2023, Some("aws:ec2:image"))).await.unwrap();
        put_parameter(&ctx, put("/plain", &al2023, None)).await.unwrap();
        let mut conn = app.store.read().await.unwrap();
        for reference in ["resolve:ssm:/golden", "/golden:1", public] {
            assert_eq!(
                crate::access::resolve_ssm_image(&app, scope, &mut conn, reference).await.unwrap(),
                al2023,
                "{reference}"
            );
        }
        for (reference, message) in [
            ("resolve:ssm:/missing", "The following aliases are invalid: /missing"),
            ("/golden:2", "The following aliases are invalid: /golden:2"),
            ("/plain", "Unsupported data type. The following parameter data types are supported: aws:ec2:image"),
        ] {
            let err = crate::access::resolve_ssm_image(&app, scope, &mut conn, reference).await.unwrap_err();
            assert_eq!((err.code.as_str(), err.message.as_str()), ("SsmInvalidParameter", message));
        }
        // Another account sees the public parameter, not the caller's own.
        let other = Scope { account: "111122223333", region: "us-east-1" };
        assert!(crate::access::resolve_ssm_image(&app, other, &mut conn, "/golden").await.is_err());
        assert_eq!(crate::access::resolve_ssm_image(&app, other, &mut conn, public).await.unwrap(), al2023);
    }
}
