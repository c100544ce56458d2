//! The agent channel, mounted at `/agent/v1`. Empty on purpose: enrolment
//! (`POST /agent/v1/enroll`, consuming a token via
//! [`crate::EnrollmentTokenIssuer::hash_presented`] and `Store::consume_enrolment_token`)
//! and check-in (`POST /agent/v1/checkin`: `Store::record_inventory`, then
//! [`crate::FindingsEngine::after_inventory`]) arrive with the pki crate, behind an
//! extractor that authenticates the client certificate and asks
//! `decide(agent, AgentChannel …)`. Bodies here are limited to
//! `rampart_proto::MAX_CHECKIN_BYTES`, not the API's limit.

use axum::Router;

use crate::AppState;

/// The agent routes (none yet).
pub fn router() -> Router<AppState> {
    Router::new()
}
