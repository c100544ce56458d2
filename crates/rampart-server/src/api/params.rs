//! Schema-only types: the closed sets of values and the text rules the handlers
//! enforce, written where the OpenAPI document can state them, so that a client (or a
//! fuzzer) reading the document knows exactly what the server accepts. Each type's
//! test proves it lists what the matching parser takes, no more and no less.

#![allow(
    dead_code,
    reason = "schema-only types: named in the OpenAPI attributes, never constructed"
)]

use serde::Serialize;
use utoipa::ToSchema;

/// A string type for the document: its pattern (and length limits) as a component.
macro_rules! text {
    ($(#[doc = $doc:literal])* $name:ident, $pattern:expr, $max:expr) => {
        $(#[doc = $doc])*
        pub(crate) struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some($pattern))
                    .min_length(Some(1))
                    .max_length($max)
                    .description(Some(concat!($($doc),*).trim()))
                    .into()
            }
        }

        impl ToSchema for $name {}
    };
}

text!(
    /// A name of a user, token, project or channel: 1-64 letters, digits, `.`, `_`, `-`, `@`.
    Name,
    "^[A-Za-z0-9._@-]{1,64}$",
    Some(64)
);
text!(
    /// Free text: at least one visible character, no control characters, at most 100.
    Text100,
    "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$",
    Some(100)
);
text!(
    /// An advisory id or alias: letters, digits, `- : . + / _`, at most 128.
    AdvisoryId,
    "^[A-Za-z0-9:.+/_-]{1,128}$",
    Some(128)
);
text!(
    /// A package-name glob: no white space, no control characters.
    Glob,
    "^[^\\s\\x00-\\x1f\\x7f-\\x9f]+$",
    None
);
text!(
    /// A label filter `key:value` (the key not empty).
    LabelFilter,
    "^[^:]+:",
    None
);
text!(
    /// Free text with something visible in it, at most 4000 characters.
    Reason,
    "\\S",
    Some(4000)
);
text!(
    /// A label key: 1-128 characters.
    LabelKey,
    "^.{1,128}$",
    Some(128)
);

/// The types query parameters name: the route macros collect the schemas of bodies
/// and answers, not of parameters, so the document registers these itself.
pub(crate) fn parameter_components() -> Vec<(
    String,
    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
)> {
    fn one<T: ToSchema>() -> (
        String,
        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    ) {
        (T::name().into_owned(), T::schema())
    }
    vec![
        one::<Severity>(),
        one::<ChangeRequestStatus>(),
        one::<ExceptionStatus>(),
        one::<DeliveryStatus>(),
        one::<ReportFormat>(),
        one::<ComplianceState>(),
        one::<AdvisoryId>(),
        one::<LabelFilter>(),
    ]
}

/// A feed file's bytes (never empty).
pub(crate) struct FeedFile;

impl utoipa::PartialSchema for FeedFile {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .min_length(Some(1))
            .into()
    }
}

impl ToSchema for FeedFile {}

/// Labels (of a host, an enrolment token, a project selector): keys of 1-128 characters,
/// values of at most 256, no control characters (`hosts::check_labels`).
pub(crate) struct Labels;

impl utoipa::PartialSchema for Labels {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property_names(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[^\\x00-\\x1f\\x7f-\\x9f]{1,128}$"))
                    .min_length(Some(1))
                    .max_length(Some(128)),
            ))
            .additional_properties(Some(AdditionalProperties::RefOr(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[^\\x00-\\x1f\\x7f-\\x9f]*$"))
                    .max_length(Some(256))
                    .into(),
            )))
            .into()
    }
}

impl ToSchema for Labels {}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Unknown,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ChangeRequestStatus {
    Open,
    Closed,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ExceptionStatus {
    Requested,
    Approved,
    Denied,
    Revoked,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ReportFormat {
    Csv,
    Json,
    Pdf,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ReportKind {
    Compliance,
    Findings,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ComplianceState {
    Compliant,
    NonCompliant,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Role {
    Admin,
    Operator,
    Auditor,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ChannelKind {
    Email,
    Webhook,
}

#[derive(Serialize, ToSchema)]
pub(crate) enum EventKind {
    #[serde(rename = "finding.critical")]
    CriticalFinding,
    #[serde(rename = "host.non_compliant")]
    HostNonCompliant,
    #[serde(rename = "host.stale")]
    HostStale,
    #[serde(rename = "exception.expiring")]
    ExceptionExpiring,
    #[serde(rename = "report.ready")]
    ReportReady,
    #[serde(rename = "change_request.opened")]
    ChangeRequestOpened,
    #[serde(rename = "change_request.updated")]
    ChangeRequestUpdated,
    #[serde(rename = "test")]
    Test,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    /// The values a schema enum lists, as the document shows them.
    fn listed<T: ToSchema>() -> Vec<String> {
        let schema = serde_json::to_value(T::schema()).unwrap();
        schema["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("not an enum: {schema}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    fn same(listed: Vec<String>, parsed: Vec<String>) {
        let (mut a, mut b) = (listed, parsed);
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    #[test]
    fn the_enums_list_what_the_parsers_accept() {
        use rampart_core::severity::SeverityLevel;
        same(
            listed::<Severity>(),
            SeverityLevel::ALL
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
        );
        same(
            listed::<ExceptionStatus>(),
            rampart_core::exceptions::ExceptionStatus::ALL
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
        );
        same(
            listed::<EventKind>(),
            rampart_notify::EventKind::ALL
                .iter()
                .map(|e| e.as_str().to_owned())
                .collect(),
        );
        same(
            listed::<Role>(),
            rampart_core::authz::Role::ALL
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
        );
        for v in listed::<ReportFormat>() {
            rampart_reports::Format::from_str(&v).unwrap();
        }
        for v in listed::<ReportKind>() {
            crate::api::reports::ReportKind::from_str(&v).unwrap();
        }
        for v in listed::<ComplianceState>() {
            rampart_core::compliance::State::from_str(&v).unwrap();
        }
        for v in listed::<ChangeRequestStatus>() {
            v.parse::<rampart_core::change_request::ChangeRequestStatus>()
                .unwrap();
        }
        for v in listed::<DeliveryStatus>() {
            v.parse::<rampart_store::DeliveryStatus>().unwrap();
        }
    }

    /// Every `$ref` in the served document names a schema the document holds.
    #[test]
    fn every_reference_resolves() {
        let doc: serde_json::Value = serde_json::from_str(crate::api::openapi_json()).unwrap();
        let text = doc.to_string();
        let schemas = &doc["components"]["schemas"];
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(schemas.get(&name).is_some(), "unresolved reference {name}");
        }
    }

    #[test]
    fn text_types_are_strings_with_their_pattern() {
        let schema = serde_json::to_value(<Name as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(schema["pattern"], "^[A-Za-z0-9._@-]{1,64}$");
        assert_eq!(schema["maxLength"], 64);
        // The escapes reach the document as regex escapes, not as control characters.
        let text = serde_json::to_value(<Text100 as utoipa::PartialSchema>::schema()).unwrap();
        assert!(
            text["pattern"].as_str().unwrap().contains("\\x00"),
            "{text}"
        );
    }
}
