//! The one authorisation decision every request goes through.
//!
//! The server turns each request into a [`Principal`] (who, with which roles, through
//! which credential) and a [`Request`] (which action on which resource, in which
//! project), and asks [`decide`]. Handlers never test roles themselves: the HTTP layer
//! carries the required [`Permission`] in each handler's signature, so a route cannot
//! forget to ask.
//!
//! Today the policy is the three built-in roles. The shape is made for what comes next:
//! fine-grained RBAC adds roles whose rules are data ([`Rule`]), just-in-time access adds
//! time-bound [`Grant`]s that [`decide`] honours until they expire at `now`, and project
//! scoping narrows a rule to the projects it names.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What is being acted on. One variant per API resource family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    Hosts,
    Findings,
    Advisories,
    Projects,
    Feeds,
    EnrollmentTokens,
    /// Personal API tokens (any user's).
    ApiTokens,
    /// The caller's own API tokens: people who may change things manage their own
    /// tokens without the right to touch anyone else's.
    OwnApiTokens,
    Users,
    /// Server-wide settings and operational endpoints (metrics).
    System,
    /// The agent check-in channel; only agents act on it.
    AgentChannel,
    /// Notification channels (they hold mail and webhook credentials) and their
    /// delivery outbox: admins manage them, everyone reads.
    Notifications,
    /// Change requests opened for overdue updates: operators close them.
    ChangeRequests,
    /// Compliance and findings reports (downloads of what the other resources show).
    Reports,
    /// Scheduled reports (what is mailed to whom, when): operators and admins manage
    /// them; reading them is [`Resource::Reports`] `Read`.
    ReportSchedules,
    /// Compliance states, trends, unauthorized software; `Create` runs a scan now.
    Compliance,
    /// Risk exceptions: `Create` requests one, `Update` approves, denies or revokes
    /// (never one's own approval: `exceptions::can_approve`).
    Exceptions,
}

impl Resource {
    /// The name used in messages and serialised forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Hosts => "hosts",
            Resource::Findings => "findings",
            Resource::Advisories => "advisories",
            Resource::Projects => "projects",
            Resource::Feeds => "feeds",
            Resource::EnrollmentTokens => "enrollment_tokens",
            Resource::ApiTokens => "api_tokens",
            Resource::OwnApiTokens => "own_api_tokens",
            Resource::Users => "users",
            Resource::System => "system",
            Resource::AgentChannel => "agent_channel",
            Resource::Reports => "reports",
            Resource::ReportSchedules => "report_schedules",
            Resource::Compliance => "compliance",
            Resource::Exceptions => "exceptions",
            Resource::Notifications => "notifications",
            Resource::ChangeRequests => "change_requests",
        }
    }

    pub const ALL: [Resource; 17] = [
        Resource::Hosts,
        Resource::Findings,
        Resource::Advisories,
        Resource::Projects,
        Resource::Feeds,
        Resource::EnrollmentTokens,
        Resource::ApiTokens,
        Resource::OwnApiTokens,
        Resource::Users,
        Resource::System,
        Resource::AgentChannel,
        Resource::Notifications,
        Resource::ChangeRequests,
        Resource::Reports,
        Resource::ReportSchedules,
        Resource::Compliance,
        Resource::Exceptions,
    ];
}

/// What is done to the resource. Reads never change state; everything else does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }

    pub const ALL: [Action; 4] = [Action::Read, Action::Create, Action::Update, Action::Delete];
}

/// The pair a handler declares it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Permission {
    pub resource: Resource,
    pub action: Action,
}

impl Permission {
    pub const fn new(resource: Resource, action: Action) -> Permission {
        Permission { resource, action }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.action.as_str(), self.resource.as_str())
    }
}

/// Built-in roles. More roles arrive as data ([`Rule`] lists) with fine-grained RBAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including users and server settings.
    Admin,
    /// Runs the estate: enrols hosts, manages projects and feeds and their own API
    /// tokens; reads everything; cannot manage users or other people's tokens.
    Operator,
    /// Reads everything a person may read; changes nothing.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Operator, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Auditor => "auditor",
        }
    }

    /// The rules this role grants.
    pub fn rules(self) -> &'static [Rule] {
        use Action::*;
        use Resource::*;
        const READ_ALL: Rule = Rule::any_resource(&[Read]);
        const ADMIN: &[Rule] = &[
            Rule::any_resource(&[Read, Create, Update, Delete]),
            Rule::on(ApiTokens, &[Read, Create, Update, Delete]),
        ];
        const OPERATOR: &[Rule] = &[
            READ_ALL,
            Rule::on(Hosts, &[Create, Update, Delete]),
            Rule::on(Projects, &[Create, Update, Delete]),
            Rule::on(Feeds, &[Create, Update]),
            Rule::on(EnrollmentTokens, &[Create, Update, Delete]),
            Rule::on(OwnApiTokens, &[Create, Update, Delete]),
            Rule::on(ChangeRequests, &[Update]),
            Rule::on(Compliance, &[Create]),
            Rule::on(Exceptions, &[Create, Update]),
            Rule::on(ReportSchedules, &[Create, Update, Delete]),
        ];
        const AUDITOR: &[Rule] = &[READ_ALL];
        match self {
            Role::Admin => ADMIN,
            Role::Operator => OPERATOR,
            Role::Auditor => AUDITOR,
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?} (expected admin, operator or auditor)"))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One allow rule: these actions on this resource (or on every resource a person may
/// use, which excludes [`Resource::AgentChannel`] and other people's
/// [`Resource::ApiTokens`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub resource: Option<Resource>,
    pub actions: &'static [Action],
}

impl Rule {
    pub const fn on(resource: Resource, actions: &'static [Action]) -> Rule {
        Rule {
            resource: Some(resource),
            actions,
        }
    }

    pub const fn any_resource(actions: &'static [Action]) -> Rule {
        Rule {
            resource: None,
            actions,
        }
    }

    fn allows(&self, p: Permission) -> bool {
        let resource_ok = match self.resource {
            Some(r) => r == p.resource,
            // Other people's API tokens are credentials: even their metadata (names,
            // last use, scopes) is for admins only, granted by name, never by "read
            // everything".
            None => !matches!(p.resource, Resource::AgentChannel | Resource::ApiTokens),
        };
        resource_ok && self.actions.contains(&p.action)
    }
}

/// A time-bound permission given to one principal (just-in-time access). Honoured
/// until `expires_at` (Unix seconds, exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    pub permission: Permission,
    pub expires_at: i64,
}

/// How the caller proved who they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// A browser session (cookie); state-changing requests also carry a CSRF token,
    /// which the HTTP layer checks before asking.
    Session,
    /// A personal API token, limited to `scope` (a subset of the owner's roles).
    ApiToken { scope: Vec<Role> },
    /// An agent's client certificate.
    AgentCertificate,
}

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// User name, or agent id for agents.
    pub name: String,
    pub roles: Vec<Role>,
    pub credential: Credential,
    pub grants: Vec<Grant>,
}

impl Principal {
    pub fn user(name: impl Into<String>, roles: Vec<Role>, credential: Credential) -> Principal {
        Principal {
            name: name.into(),
            roles,
            credential,
            grants: Vec::new(),
        }
    }

    pub fn agent(id: impl Into<String>) -> Principal {
        Principal {
            name: id.into(),
            roles: Vec::new(),
            credential: Credential::AgentCertificate,
            grants: Vec::new(),
        }
    }

    /// The roles in force for this request: a token's scope narrows its owner's roles
    /// (never widens them).
    pub fn effective_roles(&self) -> impl Iterator<Item = Role> + '_ {
        self.roles
            .iter()
            .copied()
            .filter(|r| match &self.credential {
                Credential::ApiToken { scope } => scope.contains(r),
                Credential::Session => true,
                Credential::AgentCertificate => false,
            })
    }
}

/// The outcome, with the reason spelled out for the audit log and the 403 body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(String),
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }
}

/// Decides whether `principal` may do `permission` at `now` (Unix seconds).
///
/// Agents may use the agent channel and nothing else; people may never use it. People
/// are allowed when one of their effective roles has a rule for the permission, or an
/// unexpired grant names it.
pub fn decide(principal: &Principal, permission: Permission, now: i64) -> Decision {
    let is_agent = principal.credential == Credential::AgentCertificate;
    if permission.resource == Resource::AgentChannel || is_agent {
        return if is_agent && permission.resource == Resource::AgentChannel {
            Decision::Allow
        } else if is_agent {
            Decision::Deny("agent certificates only open the agent channel".to_owned())
        } else {
            Decision::Deny("only enrolled agents use the agent channel".to_owned())
        };
    }
    if principal
        .effective_roles()
        .any(|role| role.rules().iter().any(|rule| rule.allows(permission)))
    {
        return Decision::Allow;
    }
    if principal
        .grants
        .iter()
        .any(|g| g.permission == permission && now < g.expires_at)
    {
        return Decision::Allow;
    }
    let roles: Vec<&str> = principal.effective_roles().map(Role::as_str).collect();
    Decision::Deny(format!(
        "{} may not {permission} (roles in force: {})",
        principal.name,
        if roles.is_empty() {
            "none".to_owned()
        } else {
            roles.join(", ")
        }
    ))
}

#[cfg(test)]
mod tests;
