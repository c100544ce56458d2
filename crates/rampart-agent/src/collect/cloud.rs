//! Where the host runs, from what is cached locally: cloud-init's instance data
//! (`run/cloud-init/instance-data.json`, its standardised `v1` keys), cloud-init's cached
//! instance id, and the DMI strings the hypervisor sets. A metadata service is never
//! called: it may hang, and on some clouds it hands out credentials.

use rampart_proto::CloudIdentity;
use serde_json::Value;

use super::{Context, Problems};

const INSTANCE_DATA: &str = "run/cloud-init/instance-data.json";
const INSTANCE_ID: &str = "var/lib/cloud/data/instance-id";

pub fn collect(ctx: &Context, problems: &mut Problems<'_>) -> Option<CloudIdentity> {
    let mut read = |path: &str| match ctx.read_text(path) {
        Ok(found) => found.map(|(_, t)| t),
        Err(e) => {
            problems.push(format!("{path}: {e}"));
            None
        }
    };
    let data = read(INSTANCE_DATA);
    let cached_id = read(INSTANCE_ID);
    let dmi = Dmi {
        sys_vendor: read("sys/class/dmi/id/sys_vendor").unwrap_or_default(),
        product_name: read("sys/class/dmi/id/product_name").unwrap_or_default(),
        board_asset_tag: read("sys/class/dmi/id/board_asset_tag").unwrap_or_default(),
    };
    let mut identity = data.and_then(|d| match serde_json::from_str::<Value>(&d) {
        Ok(v) => from_instance_data(&v),
        Err(e) => {
            problems.push(format!("{INSTANCE_DATA}: not JSON: {e}"));
            None
        }
    });
    let provider = dmi.provider();
    if identity.is_none()
        && let Some(provider) = provider
    {
        identity = Some(CloudIdentity {
            provider: provider.to_owned(),
            ..CloudIdentity::default()
        });
    }
    if let Some(id) = identity.as_mut()
        && id.instance_id.is_none()
    {
        id.instance_id = cached_id
            .as_deref()
            .and_then(parse_instance_id)
            .or_else(|| dmi.aws_instance_id());
    }
    identity
}

/// cloud-init's cached instance id; `iid-datasource-none` means "no cloud".
pub fn parse_instance_id(text: &str) -> Option<String> {
    let id = text.trim();
    (!id.is_empty() && !id.starts_with("iid-datasource-none")).then(|| id.to_owned())
}

/// Reads the `v1` keys cloud-init standardises across datasources, plus the few
/// datasource-specific keys for account and instance type that are not secret.
pub fn from_instance_data(data: &Value) -> Option<CloudIdentity> {
    let v1 = data.get("v1")?;
    let text = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "unknown" && *s != "none")
            .map(str::to_owned)
    };
    let provider = text(v1, "cloud_name").or_else(|| text(v1, "platform"))?;
    let meta = data
        .pointer("/ds/meta_data")
        .or_else(|| data.pointer("/ds/meta-data"));
    let aws_doc = data.pointer("/ds/dynamic/instance-identity/document");
    Some(CloudIdentity {
        provider,
        account: aws_doc.and_then(|d| text(d, "accountId")),
        region: text(v1, "region"),
        zone: text(v1, "availability_zone"),
        instance_id: text(v1, "instance_id"),
        instance_type: text(v1, "instance_type")
            .or_else(|| meta.and_then(|m| text(m, "instance-type")))
            .or_else(|| aws_doc.and_then(|d| text(d, "instanceType"))),
    })
}

/// The DMI strings a hypervisor sets; enough to name the provider, not the account.
#[derive(Clone, Debug, Default)]
pub struct Dmi {
    pub sys_vendor: String,
    pub product_name: String,
    pub board_asset_tag: String,
}

impl Dmi {
    /// Provider in cloud-init's spelling, from vendor strings the providers document.
    pub fn provider(&self) -> Option<&'static str> {
        let vendor = self.sys_vendor.trim();
        let product = self.product_name.trim();
        let tag = self.board_asset_tag.trim();
        Some(match () {
            () if vendor == "Amazon EC2" || product.starts_with("Amazon EC2") => "aws",
            () if vendor == "Google" || product == "Google Compute Engine" => "gce",
            () if vendor == "Microsoft Corporation" && product == "Virtual Machine" => "azure",
            () if vendor == "Hetzner" => "hetzner",
            () if vendor == "DigitalOcean" => "digitalocean",
            () if vendor == "Scaleway" => "scaleway",
            () if vendor.starts_with("OpenStack") || product.starts_with("OpenStack") => {
                "openstack"
            }
            () if tag == "OracleCloud.com" => "oracle",
            () => return None,
        })
    }

    /// EC2 (Nitro) puts the instance id in the board asset tag.
    fn aws_instance_id(&self) -> Option<String> {
        let tag = self.board_asset_tag.trim();
        (tag.starts_with("i-") && tag.len() > 2).then(|| tag.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_data_v1() {
        let data: Value = serde_json::from_str(
            r#"{"v1": {"cloud_name": "aws", "platform": "ec2", "region": "eu-west-1",
                 "availability_zone": "eu-west-1a", "instance_id": "i-0abc"},
                "ds": {"meta_data": {"instance-type": "t3.micro"},
                       "dynamic": {"instance-identity": {"document": {"accountId": "123"}}}}}"#,
        )
        .unwrap();
        assert_eq!(
            from_instance_data(&data),
            Some(CloudIdentity {
                provider: "aws".into(),
                account: Some("123".into()),
                region: Some("eu-west-1".into()),
                zone: Some("eu-west-1a".into()),
                instance_id: Some("i-0abc".into()),
                instance_type: Some("t3.micro".into()),
            })
        );
        let none: Value = serde_json::from_str(r#"{"v1": {"cloud_name": "unknown"}}"#).unwrap();
        assert_eq!(from_instance_data(&none), None);
    }

    #[test]
    fn dmi_hints() {
        let dmi = |v: &str, p: &str, t: &str| Dmi {
            sys_vendor: v.into(),
            product_name: p.into(),
            board_asset_tag: t.into(),
        };
        assert_eq!(
            dmi("Amazon EC2\n", "t3.micro", "i-1").provider(),
            Some("aws")
        );
        assert_eq!(dmi("Hetzner\n", "vServer", "").provider(), Some("hetzner"));
        assert_eq!(dmi("QEMU", "Standard PC", "").provider(), None);
        assert_eq!(
            dmi("Amazon EC2", "", "i-0f\n").aws_instance_id(),
            Some("i-0f".into())
        );
    }

    #[test]
    fn cached_instance_id() {
        assert_eq!(parse_instance_id("i-123\n"), Some("i-123".into()));
        assert_eq!(parse_instance_id("iid-datasource-none\n"), None);
    }
}
