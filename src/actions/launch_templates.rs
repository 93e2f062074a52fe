//! CreateLaunchTemplate, CreateLaunchTemplateVersion, DescribeLaunchTemplates,
//! DescribeLaunchTemplateVersions, ModifyLaunchTemplate, DeleteLaunchTemplate,
//! DeleteLaunchTemplateVersions, GetLaunchTemplateData. The launch from a template is
//! RunInstances' (`instances::TemplateLaunch`).

use super::{Ctx, FromParams};
use crate::access;
use crate::domain::filter::Filter;
use crate::domain::ids::{self, new_id, IdKind};
use crate::domain::instance::instance_type;
use crate::domain::launch_template::{
    check_description, check_name, created_by, data_of_instance, version_not_found, LaunchTemplate,
    LaunchTemplateVersion, TemplateData, TemplateRef, VersionRef, MAX_VERSIONS,
};
use crate::domain::tags::{self as tag_rules, Tag};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::filters::Page;
use crate::store::launch_templates::{self as store, TemplateQuery, VersionQuery};
use crate::store::{tags, volumes, Conn};
use crate::wire::params::Params;
use crate::wire::query::{dedup, parse_filters, parse_page, parse_tag_specs, write_next_token};
use crate::wire::shapes::launch_template::{write_data, write_launch_template, write_version};
use crate::wire::xml::Xml;

/// Most versions one DeleteLaunchTemplateVersions call may name.
const MAX_DELETE: usize = 200;

/// `LaunchTemplateData.*`, with the checks EC2 makes when a template is written (the
/// image and the rest are checked at launch).
fn parse_data(p: &Params) -> Result<TemplateData> {
    let data = TemplateData::from_params(p, "LaunchTemplateData")?;
    if let Some(name) = data.get("InstanceType") {
        instance_type(name)?;
    }
    if let Some(behavior) = data.get("InstanceInitiatedShutdownBehavior") {
        crate::domain::image::check_enum("InstanceInitiatedShutdownBehavior", behavior, &["stop", "terminate"])?;
    }
    Ok(data)
}

fn parse_description(p: &Params) -> Result<Option<String>> {
    let description = p.raw("VersionDescription").map(str::to_string);
    if let Some(d) = &description {
        check_description(d)?;
    }
    Ok(description)
}

// CreateLaunchTemplate -------------------------------------------------------------------

pub struct CreateLaunchTemplateInput {
    pub name: String,
    pub description: Option<String>,
    pub data: TemplateData,
    pub tags: Vec<Tag>,
}

impl FromParams for CreateLaunchTemplateInput {
    fn from_params(p: &Params) -> Result<Self> {
        let name = p.required("LaunchTemplateName")?;
        check_name(name)?;
        let data = parse_data(p)?;
        if data.is_empty() {
            return Err(Ec2Error::missing_parameter("LaunchTemplateData"));
        }
        let tags = tag_rules::for_type(&parse_tag_specs(p)?, &["launch-template"], "launch-template")?;
        Ok(CreateLaunchTemplateInput { name: name.to_string(), description: parse_description(p)?, data, tags })
    }
}

pub async fn create_launch_template(ctx: &Ctx<'_>, input: CreateLaunchTemplateInput) -> Result<Xml> {
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    let mut tx = ctx.app.store.write().await?;
    if store::find_template(&mut tx, account, region, &TemplateRef::Name(input.name.clone())).await?.is_some() {
        return Err(ec2_err!(InvalidLaunchTemplateName_AlreadyExistsException, "Launch template name already in use."));
    }
    ctx.check_dry_run()?;
    let mut template = LaunchTemplate {
        launch_template_id: new_id(IdKind::LaunchTemplate),
        owner_id: account.to_string(),
        region: region.to_string(),
        name: input.name,
        default_version: 1,
        latest_version: 1,
        last_version_number: 1,
        created_by: created_by(account),
        create_time: ctx.now,
        tags: Vec::new(),
    };
    store::insert_template(&mut tx, &template).await?;
    let version = LaunchTemplateVersion {
        launch_template_id: template.launch_template_id.clone(),
        launch_template_name: template.name.clone(),
        version_number: 1,
        description: input.description,
        created_by: template.created_by.clone(),
        create_time: ctx.now,
        default_version: true,
        data: input.data,
    };
    store::insert_version(&mut tx, &version).await?;
    let id = &template.launch_template_id;
    tags::upsert(&mut tx, account, region, id, "launch-template", &input.tags, ctx.now).await?;
    tx.commit().await?;
    template.tags = input.tags.into_iter().map(|t| (t.key, t.value)).collect();
    let mut x = Xml::new();
    x.open("launchTemplate");
    write_launch_template(&mut x, &template);
    x.close("launchTemplate");
    Ok(x)
}

// CreateLaunchTemplateVersion ------------------------------------------------------------

pub struct CreateLaunchTemplateVersionInput {
    pub template: TemplateRef,
    pub source_version: Option<VersionRef>,
    pub description: Option<String>,
    pub data: TemplateData,
}

impl FromParams for CreateLaunchTemplateVersionInput {
    fn from_params(p: &Params) -> Result<Self> {
        let template = TemplateRef::required(p, "")?;
        let source_version = p.str("SourceVersion").map(VersionRef::parse).transpose()?;
        let data = parse_data(p)?;
        if data.is_empty() && source_version.is_none() {
            return Err(Ec2Error::missing_parameter("LaunchTemplateData"));
        }
        Ok(CreateLaunchTemplateVersionInput { template, source_version, description: parse_description(p)?, data })
    }
}

pub async fn create_launch_template_version(ctx: &Ctx<'_>, input: CreateLaunchTemplateVersionInput) -> Result<Xml> {
    let mut tx = ctx.app.store.write().await?;
    let template = access::owned_launch_template(ctx.scope, &mut tx, &input.template).await?;
    if template.last_version_number >= MAX_VERSIONS {
        return Err(ec2_err!(
            InvalidParameterValue,
            "The launch template {} has reached the maximum number of versions ({MAX_VERSIONS}).",
            template.launch_template_id
        ));
    }
    // The new version inherits the source's data but for the members it sets itself.
    let data = match input.source_version {
        Some(source) => access::launch_template_version(&mut tx, &template, source).await?.data.overlay(&input.data),
        None => input.data,
    };
    ctx.check_dry_run()?;
    let version = LaunchTemplateVersion {
        launch_template_id: template.launch_template_id.clone(),
        launch_template_name: template.name.clone(),
        version_number: template.last_version_number + 1,
        description: input.description,
        created_by: created_by(ctx.scope.account),
        create_time: ctx.now,
        default_version: false,
        data,
    };
    store::insert_version(&mut tx, &version).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.open("launchTemplateVersion");
    write_version(&mut x, &version);
    x.close("launchTemplateVersion");
    Ok(x)
}

// DescribeLaunchTemplates ----------------------------------------------------------------

pub struct DescribeLaunchTemplatesInput {
    pub ids: Vec<String>,
    pub names: Vec<String>,
    pub filters: Vec<Filter>,
    pub page: Page,
}

impl FromParams for DescribeLaunchTemplatesInput {
    fn from_params(p: &Params) -> Result<Self> {
        let ids = dedup(p.list("LaunchTemplateId")?);
        ids::check_all(IdKind::LaunchTemplate, &ids)?;
        let names = dedup(p.list("LaunchTemplateName")?);
        let filters = parse_filters(p, "Filter")?;
        store::TEMPLATE_FILTERS.validate(&filters)?;
        let explicit = !ids.is_empty() || !names.is_empty();
        let page = parse_page(p, explicit, "launchTemplateIds", 1, 200)?;
        Ok(DescribeLaunchTemplatesInput { ids, names, filters, page })
    }
}

pub async fn describe_launch_templates(ctx: &Ctx<'_>, input: DescribeLaunchTemplatesInput) -> Result<Xml> {
    ctx.check_dry_run()?;
    let mut conn = ctx.app.store.read().await?;
    let query = TemplateQuery {
        account: ctx.scope.account,
        region: ctx.scope.region,
        ids: &input.ids,
        names: &input.names,
        filters: &input.filters,
        page: &input.page,
    };
    let (templates, next) = store::describe_templates(&mut conn, &query).await?;
    if input.filters.is_empty() {
        if let Some(id) = input.ids.iter().find(|id| !templates.iter().any(|t| &t.launch_template_id == *id)) {
            return Err(TemplateRef::Id(id.clone()).not_found());
        }
        if let Some(name) = input.names.iter().find(|n| !templates.iter().any(|t| &t.name == *n)) {
            return Err(TemplateRef::Name(name.clone()).not_found());
        }
    }
    let mut x = Xml::new();
    x.list("launchTemplates", &templates, write_launch_template);
    write_next_token(&mut x, next);
    Ok(x)
}

// DescribeLaunchTemplateVersions ---------------------------------------------------------

pub struct DescribeLaunchTemplateVersionsInput {
    pub template: Option<TemplateRef>,
    pub versions: Vec<VersionRef>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub filters: Vec<Filter>,
    pub page: Page,
}

impl FromParams for DescribeLaunchTemplateVersionsInput {
    fn from_params(p: &Params) -> Result<Self> {
        let template = TemplateRef::parse(p, "")?;
        let versions =
            dedup(p.list("LaunchTemplateVersion")?).iter().map(|v| VersionRef::parse(v)).collect::<Result<Vec<_>>>()?;
        if template.is_none() && versions.iter().any(|v| matches!(v, VersionRef::Number(_))) {
            return Err(ec2_err!(
                InvalidParameterCombination,
                "Version numbers can only be specified together with a launch template ID or name. Without one, specify $Latest or $Default."
            ));
        }
        let bound = |key: &str| -> Result<Option<i64>> {
            p.str(key)
                .map(|v| match VersionRef::parse(v)? {
                    VersionRef::Number(n) => Ok(n),
                    _ => Err(ec2_err!(InvalidParameterValue, "Value ({v}) for parameter {key} is invalid.")),
                })
                .transpose()
        };
        let filters = parse_filters(p, "Filter")?;
        store::VERSION_FILTERS.validate(&filters)?;
        let page = parse_page(p, false, "launchTemplateVersions", 1, 200)?;
        Ok(DescribeLaunchTemplateVersionsInput {
            template,
            versions,
            min: bound("MinVersion")?,
            max: bound("MaxVersion")?,
            filters,
            page,
        })
    }
}

pub async fn describe_launch_template_versions(
    ctx: &Ctx<'_>,
    input: DescribeLaunchTemplateVersionsInput,
) -> Result<Xml> {
    ctx.check_dry_run()?;
    let mut conn = ctx.app.store.read().await?;
    let template = match &input.template {
        Some(t) => Some(access::owned_launch_template(ctx.scope, &mut conn, t).await?),
        None => None,
    };
    let numbers: Vec<i64> = match &template {
        Some(t) => input.versions.iter().map(|v| t.version_number(v)).collect(),
        None => Vec::new(),
    };
    let query = VersionQuery {
        account: ctx.scope.account,
        region: ctx.scope.region,
        template_id: template.as_ref().map(|t| t.launch_template_id.as_str()),
        latest: template.is_none() && input.versions.contains(&VersionRef::Latest),
        default: template.is_none() && input.versions.contains(&VersionRef::Default),
        numbers: numbers.clone(),
        min: input.min,
        max: input.max,
        filters: &input.filters,
        page: input.page,
    };
    let (versions, next) = store::describe_versions(&mut conn, &query).await?;
    if let (Some(t), true) = (&template, input.filters.is_empty()) {
        if let Some(n) = numbers.iter().find(|n| !versions.iter().any(|v| v.version_number == **n)) {
            return Err(version_not_found(&t.launch_template_id, n));
        }
    }
    let mut x = Xml::new();
    x.list("launchTemplateVersionSet", &versions, write_version);
    write_next_token(&mut x, next);
    Ok(x)
}

// ModifyLaunchTemplate -------------------------------------------------------------------

pub struct ModifyLaunchTemplateInput {
    pub template: TemplateRef,
    pub default_version: Option<VersionRef>,
}

impl FromParams for ModifyLaunchTemplateInput {
    fn from_params(p: &Params) -> Result<Self> {
        let template = TemplateRef::required(p, "")?;
        let default_version = p.str("SetDefaultVersion").map(VersionRef::parse).transpose()?;
        Ok(ModifyLaunchTemplateInput { template, default_version })
    }
}

pub async fn modify_launch_template(ctx: &Ctx<'_>, input: ModifyLaunchTemplateInput) -> Result<Xml> {
    let mut tx = ctx.app.store.write().await?;
    let mut template = access::owned_launch_template(ctx.scope, &mut tx, &input.template).await?;
    if let Some(version) = input.default_version {
        let version = access::launch_template_version(&mut tx, &template, version).await?;
        ctx.check_dry_run()?;
        store::set_default_version(&mut tx, &template.launch_template_id, version.version_number).await?;
        template.default_version = version.version_number;
    }
    ctx.check_dry_run()?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.open("launchTemplate");
    write_launch_template(&mut x, &template);
    x.close("launchTemplate");
    Ok(x)
}

// DeleteLaunchTemplate -------------------------------------------------------------------

pub struct DeleteLaunchTemplateInput {
    pub template: TemplateRef,
}

impl FromParams for DeleteLaunchTemplateInput {
    fn from_params(p: &Params) -> Result<Self> {
        Ok(DeleteLaunchTemplateInput { template: TemplateRef::required(p, "")? })
    }
}

pub async fn delete_launch_template(ctx: &Ctx<'_>, input: DeleteLaunchTemplateInput) -> Result<Xml> {
    let mut tx = ctx.app.store.write().await?;
    let template = access::owned_launch_template(ctx.scope, &mut tx, &input.template).await?;
    ctx.check_dry_run()?;
    store::delete_template(&mut tx, &template.launch_template_id).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.open("launchTemplate");
    write_launch_template(&mut x, &template);
    x.close("launchTemplate");
    Ok(x)
}

// DeleteLaunchTemplateVersions -----------------------------------------------------------

pub struct DeleteLaunchTemplateVersionsInput {
    pub template: TemplateRef,
    pub versions: Vec<String>,
}

impl FromParams for DeleteLaunchTemplateVersionsInput {
    fn from_params(p: &Params) -> Result<Self> {
        let template = TemplateRef::required(p, "")?;
        let versions = dedup(p.list("LaunchTemplateVersion")?);
        if versions.is_empty() {
            return Err(Ec2Error::missing_parameter("LaunchTemplateVersion"));
        }
        if versions.len() > MAX_DELETE {
            return Err(ec2_err!(
                InvalidParameterValue,
                "You can specify at most {MAX_DELETE} launch template versions in a single request."
            ));
        }
        Ok(DeleteLaunchTemplateVersionsInput { template, versions })
    }
}

/// One version's answer: deleted, or EC2's `ResponseError` code and message.
struct Deletion {
    version: String,
    error: Option<(&'static str, String)>,
}

pub async fn delete_launch_template_versions(ctx: &Ctx<'_>, input: DeleteLaunchTemplateVersionsInput) -> Result<Xml> {
    let mut tx = ctx.app.store.write().await?;
    let template = store::find_template(&mut tx, ctx.scope.account, ctx.scope.region, &input.template).await?;
    ctx.check_dry_run()?;
    let mut results = Vec::with_capacity(input.versions.len());
    for version in &input.versions {
        let error = match &template {
            Some(t) => delete_one(&mut tx, t, version).await?,
            None => Some(missing_template(&input.template)),
        };
        results.push(Deletion { version: version.clone(), error });
    }
    tx.commit().await?;
    let (id, name) = match (&template, &input.template) {
        (Some(t), _) => (Some(t.launch_template_id.as_str()), Some(t.name.as_str())),
        (None, TemplateRef::Id(id)) => (Some(id.as_str()), None),
        (None, TemplateRef::Name(name)) => (None, Some(name.as_str())),
    };
    let item = |x: &mut Xml, d: &&Deletion| {
        x.opt_text("launchTemplateId", id).opt_text("launchTemplateName", name);
        x.text("versionNumber", &d.version);
        if let Some((code, message)) = &d.error {
            x.open("responseError").text("code", code).text("message", message).close("responseError");
        }
    };
    let (done, failed): (Vec<&Deletion>, Vec<&Deletion>) = results.iter().partition(|d| d.error.is_none());
    let mut x = Xml::new();
    x.list("successfullyDeletedLaunchTemplateVersionSet", &done, item);
    x.list("unsuccessfullyDeletedLaunchTemplateVersionSet", &failed, item);
    Ok(x)
}

fn missing_template(template: &TemplateRef) -> (&'static str, String) {
    match template {
        TemplateRef::Id(id) => (
            "launchTemplateIdDoesNotExist",
            format!("The specified launch template, with template ID {id}, does not exist."),
        ),
        TemplateRef::Name(name) => (
            "launchTemplateNameDoesNotExist",
            format!("The specified launch template, with template name {name}, does not exist."),
        ),
    }
}

/// Deletes one version unless it is the default one or does not exist.
async fn delete_one(conn: &mut Conn, t: &LaunchTemplate, version: &str) -> Result<Option<(&'static str, String)>> {
    let not_found =
        || Some(("launchTemplateVersionDoesNotExist", "The specified launch template version does not exist.".into()));
    let number = match version.parse::<i64>() {
        Ok(n) if n >= 1 => n,
        _ => return Ok(not_found()),
    };
    if number == t.default_version {
        return Ok(Some((
            "unexpectedError",
            "Cannot delete the default version of a launch template. Use DeleteLaunchTemplate to delete the template."
                .into(),
        )));
    }
    Ok(if store::delete_version(conn, &t.launch_template_id, number).await? { None } else { not_found() })
}

// GetLaunchTemplateData ------------------------------------------------------------------

pub struct GetLaunchTemplateDataInput {
    pub instance_id: String,
}

impl FromParams for GetLaunchTemplateDataInput {
    fn from_params(p: &Params) -> Result<Self> {
        let instance_id = p.required("InstanceId")?;
        ids::check(IdKind::Instance, instance_id)?;
        Ok(GetLaunchTemplateDataInput { instance_id: instance_id.to_string() })
    }
}

pub async fn get_launch_template_data(ctx: &Ctx<'_>, input: GetLaunchTemplateDataInput) -> Result<Xml> {
    ctx.check_dry_run()?;
    let mut conn = ctx.app.store.read().await?;
    let instance = access::own_instance(ctx.scope, &mut conn, &input.instance_id).await?;
    let mut attached = Vec::with_capacity(instance.volumes.len());
    for (device, volume_id, _, _) in &instance.volumes {
        if let Some(v) = volumes::find_owned(&mut conn, ctx.scope.account, ctx.scope.region, volume_id).await? {
            attached.push((device.clone(), v));
        }
    }
    let mut x = Xml::new();
    x.open("launchTemplateData");
    write_data(&mut x, &data_of_instance(&instance, &attached));
    x.close("launchTemplateData");
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code<T>(result: Result<T>) -> &'static str {
        result.err().expect("an error").code.as_str()
    }

    #[test]
    fn create_reads_name_data_and_tags() {
        let p = Params::from_pairs([
            ("LaunchTemplateName", "web"),
            ("VersionDescription", "first"),
            ("LaunchTemplateData.ImageId", "ami-0123456789abcdef0"),
            ("LaunchTemplateData.InstanceType", "t3.micro"),
            ("TagSpecification.1.ResourceType", "launch-template"),
            ("TagSpecification.1.Tag.1.Key", "env"),
            ("TagSpecification.1.Tag.1.Value", "prod"),
        ]);
        let input = CreateLaunchTemplateInput::from_params(&p).unwrap();
        assert_eq!((input.name.as_str(), input.description.as_deref()), ("web", Some("first")));
        assert_eq!(input.data.get("InstanceType"), Some("t3.micro"));
        assert_eq!(input.tags, [Tag { key: "env".into(), value: "prod".into() }]);

        assert_eq!(code(CreateLaunchTemplateInput::from_params(&Params::default())), "MissingParameter");
        let empty = Params::from_pairs([("LaunchTemplateName", "web")]);
        assert_eq!(code(CreateLaunchTemplateInput::from_params(&empty)), "MissingParameter");
        let bad_type =
            Params::from_pairs([("LaunchTemplateName", "web"), ("LaunchTemplateData.InstanceType", "z9.huge")]);
        assert_eq!(code(CreateLaunchTemplateInput::from_params(&bad_type)), "InvalidParameterValue");
        let bad_tag = Params::from_pairs([
            ("LaunchTemplateName", "web"),
            ("LaunchTemplateData.ImageId", "ami-0123456789abcdef0"),
            ("TagSpecification.1.ResourceType", "instance"),
        ]);
        assert_eq!(code(CreateLaunchTemplateInput::from_params(&bad_tag)), "InvalidParameterValue");
    }

    #[test]
    fn a_new_version_may_inherit_everything() {
        let p = Params::from_pairs([("LaunchTemplateName", "web"), ("SourceVersion", "$Latest")]);
        let input = CreateLaunchTemplateVersionInput::from_params(&p).unwrap();
        assert_eq!(input.source_version, Some(VersionRef::Latest));
        assert!(input.data.is_empty());
        let p = Params::from_pairs([("LaunchTemplateName", "web")]);
        assert_eq!(code(CreateLaunchTemplateVersionInput::from_params(&p)), "MissingParameter");
    }

    #[test]
    fn describe_versions_inputs() {
        let p = Params::from_pairs([("LaunchTemplateVersion.1", "$Latest"), ("LaunchTemplateVersion.2", "$Default")]);
        let input = DescribeLaunchTemplateVersionsInput::from_params(&p).unwrap();
        assert_eq!((input.template, input.versions), (None, vec![VersionRef::Latest, VersionRef::Default]));
        let p = Params::from_pairs([("LaunchTemplateVersion.1", "3")]);
        assert_eq!(code(DescribeLaunchTemplateVersionsInput::from_params(&p)), "InvalidParameterCombination");
        let p = Params::from_pairs([("LaunchTemplateName", "web"), ("MinVersion", "$Latest")]);
        assert_eq!(code(DescribeLaunchTemplateVersionsInput::from_params(&p)), "InvalidParameterValue");
        let p = Params::from_pairs([("Filter.1.Name", "image-id"), ("Filter.1.Value.1", "ami-*")]);
        assert_eq!(DescribeLaunchTemplateVersionsInput::from_params(&p).unwrap().filters[0].name, "image-id");
        let p = Params::from_pairs([("LaunchTemplateId.1", "lt-0123456789abcdef0"), ("MaxResults", "5")]);
        assert_eq!(code(DescribeLaunchTemplatesInput::from_params(&p)), "InvalidParameterCombination");
    }

    #[test]
    fn delete_versions_needs_versions() {
        let p = Params::from_pairs([("LaunchTemplateId", "lt-0123456789abcdef0")]);
        assert_eq!(code(DeleteLaunchTemplateVersionsInput::from_params(&p)), "MissingParameter");
    }
}
