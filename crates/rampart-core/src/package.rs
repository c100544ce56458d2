//! An installed package as the inventory readers report it.

use serde::{Deserialize, Serialize};

use crate::version::VersionKind;

/// Which package manager installed a package; fixes its version semantics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageFormat {
    Deb,
    Rpm,
    Apk,
}

impl PackageFormat {
    pub fn version_kind(self) -> VersionKind {
        match self {
            PackageFormat::Deb => VersionKind::Deb,
            PackageFormat::Rpm => VersionKind::Rpm,
            PackageFormat::Apk => VersionKind::Apk,
        }
    }
}

/// One installed binary package. Advisories for Debian, Ubuntu and Alpine name source
/// packages (Alpine calls them origins), so the source name and version travel with it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    /// Full version as the package manager prints it (`epoch:version-release` for RPM,
    /// the epoch omitted when absent).
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Source package (dpkg `Source:`, RPM source RPM name, apk origin); `None` when it
    /// equals `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    /// Source version when it differs from `version` (dpkg `Source: name (version)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    pub format: PackageFormat,
}

impl Package {
    /// The name advisories for source-based distributions use.
    pub fn source(&self) -> &str {
        self.source_name.as_deref().unwrap_or(&self.name)
    }

    /// The version of the source package this binary was built from.
    pub fn source_version(&self) -> &str {
        self.source_version.as_deref().unwrap_or(&self.version)
    }
}
