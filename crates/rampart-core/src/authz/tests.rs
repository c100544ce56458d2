use super::*;

fn person(roles: &[Role]) -> Principal {
    Principal::user("alice", roles.to_vec(), Credential::Session)
}

fn allowed(p: &Principal, resource: Resource, action: Action) -> bool {
    decide(p, Permission::new(resource, action), 0).is_allowed()
}

#[test]
fn admin_may_do_everything_a_person_may() {
    let admin = person(&[Role::Admin]);
    for r in Resource::ALL {
        for a in Action::ALL {
            assert_eq!(
                allowed(&admin, r, a),
                r != Resource::AgentChannel,
                "{r:?} {a:?}"
            );
        }
    }
}

/// Everything but other people's API tokens, whose metadata is for admins only.
#[test]
fn auditor_reads_everything_and_changes_nothing() {
    let auditor = person(&[Role::Auditor]);
    for r in Resource::ALL {
        for a in Action::ALL {
            let expect =
                a == Action::Read && !matches!(r, Resource::AgentChannel | Resource::ApiTokens);
            assert_eq!(allowed(&auditor, r, a), expect, "{r:?} {a:?}");
        }
    }
}

#[test]
fn operator_runs_the_estate_but_not_users_or_tokens() {
    let op = person(&[Role::Operator]);
    assert!(allowed(&op, Resource::EnrollmentTokens, Action::Create));
    assert!(allowed(&op, Resource::Projects, Action::Delete));
    assert!(allowed(&op, Resource::Feeds, Action::Create));
    assert!(allowed(&op, Resource::Users, Action::Read));
    assert!(!allowed(&op, Resource::Users, Action::Create));
    assert!(!allowed(&op, Resource::ApiTokens, Action::Delete));
    assert!(!allowed(&op, Resource::ApiTokens, Action::Read));
    assert!(allowed(&op, Resource::OwnApiTokens, Action::Read));
    assert!(allowed(&op, Resource::OwnApiTokens, Action::Create));
    assert!(allowed(&op, Resource::OwnApiTokens, Action::Delete));
    assert!(allowed(&op, Resource::ChangeRequests, Action::Update));
    assert!(allowed(&op, Resource::Notifications, Action::Read));
    assert!(!allowed(&op, Resource::Notifications, Action::Create));
    assert!(!allowed(&op, Resource::Notifications, Action::Update));
    assert!(!allowed(&op, Resource::System, Action::Update));
    // Operators request and decide risk exceptions and run scans.
    assert!(allowed(&op, Resource::Exceptions, Action::Create));
    assert!(allowed(&op, Resource::Exceptions, Action::Update));
    assert!(!allowed(&op, Resource::Exceptions, Action::Delete));
    assert!(allowed(&op, Resource::Compliance, Action::Create));
}

#[test]
fn token_scope_narrows_and_never_widens() {
    let narrowed = Principal::user(
        "alice",
        vec![Role::Admin],
        Credential::ApiToken {
            scope: vec![Role::Auditor],
        },
    );
    // The scope names a role the owner lacks: nothing is in force.
    assert!(!allowed(&narrowed, Resource::Hosts, Action::Read));
    let scoped = Principal::user(
        "alice",
        vec![Role::Admin, Role::Auditor],
        Credential::ApiToken {
            scope: vec![Role::Auditor],
        },
    );
    assert!(allowed(&scoped, Resource::Hosts, Action::Read));
    assert!(!allowed(&scoped, Resource::Hosts, Action::Delete));
}

#[test]
fn agents_and_people_stay_in_their_lanes() {
    let agent = Principal::agent("agent-1");
    assert!(allowed(&agent, Resource::AgentChannel, Action::Create));
    assert!(!allowed(&agent, Resource::Hosts, Action::Read));
    let admin = person(&[Role::Admin]);
    let d = decide(
        &admin,
        Permission::new(Resource::AgentChannel, Action::Create),
        0,
    );
    assert_eq!(
        d,
        Decision::Deny("only enrolled agents use the agent channel".into())
    );
}

#[test]
fn grants_apply_until_they_expire() {
    let mut p = person(&[Role::Auditor]);
    let perm = Permission::new(Resource::Hosts, Action::Update);
    p.grants.push(Grant {
        permission: perm,
        expires_at: 100,
    });
    assert!(decide(&p, perm, 99).is_allowed());
    assert!(!decide(&p, perm, 100).is_allowed());
}

#[test]
fn denials_say_who_what_and_with_which_roles() {
    let d = decide(
        &person(&[Role::Auditor]),
        Permission::new(Resource::Users, Action::Create),
        0,
    );
    assert_eq!(
        d,
        Decision::Deny("alice may not create users (roles in force: auditor)".into())
    );
    assert_eq!("operator".parse::<Role>(), Ok(Role::Operator));
    assert!("root".parse::<Role>().unwrap_err().contains("unknown role"));
}

#[test]
fn every_role_reads_reports_and_only_admins_do_more() {
    for role in Role::ALL {
        let p = person(&[role]);
        assert!(allowed(&p, Resource::Reports, Action::Read), "{role}");
        assert_eq!(
            allowed(&p, Resource::Reports, Action::Create),
            role == Role::Admin,
            "{role}"
        );
    }
}
