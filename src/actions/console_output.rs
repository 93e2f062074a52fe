//! GetConsoleOutput: what an instance wrote to its console. Under `--runtime podman`
//! that is its container's output (first-boot user data included); otherwise an
//! instance has written nothing, and EC2's answer then has no `output`.

use super::{machines, Ctx, FromParams};
use crate::access::own_instance;
use crate::domain::clock::iso;
use crate::domain::ids::{self, IdKind};
use crate::error::Result;
use crate::wire::params::Params;
use crate::wire::xml::Xml;

pub struct GetConsoleOutputInput {
    pub instance_id: String,
}

impl FromParams for GetConsoleOutputInput {
    fn from_params(p: &Params) -> Result<Self> {
        let instance_id = p.required("InstanceId")?;
        ids::check(IdKind::Instance, instance_id)?;
        // Latest=true asks for the newest output: the only kind kept here.
        p.flag("Latest")?;
        Ok(GetConsoleOutputInput { instance_id: instance_id.to_string() })
    }
}

pub async fn get_console_output(ctx: &Ctx<'_>, input: GetConsoleOutputInput) -> Result<Xml> {
    let instance = {
        let mut conn = ctx.app.store.read().await?;
        own_instance(ctx.scope, &mut conn, &input.instance_id).await?
    };
    ctx.check_dry_run()?;
    let output = machines::console_output(ctx, &instance).await;
    let mut x = Xml::new();
    x.text("instanceId", &instance.instance_id);
    x.text("timestamp", &iso(ctx.now));
    if let Some(output) = output {
        use base64::Engine;
        x.text("output", &base64::engine::general_purpose::STANDARD.encode(output));
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_is_checked() {
        let parse =
            |pairs: &[(&str, &str)]| GetConsoleOutputInput::from_params(&Params::from_pairs(pairs.iter().copied()));
        assert_eq!(parse(&[("InstanceId", "i-0123456789abcdef0")]).unwrap().instance_id, "i-0123456789abcdef0");
        assert_eq!(parse(&[]).err().unwrap().code, "MissingParameter");
        assert_eq!(parse(&[("InstanceId", "vol-1")]).err().unwrap().code, "InvalidInstanceID.Malformed");
        assert_eq!(
            parse(&[("InstanceId", "i-0123456789abcdef0"), ("Latest", "maybe")]).err().unwrap().code,
            "InvalidParameterValue"
        );
    }
}
