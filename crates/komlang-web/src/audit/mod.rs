//! The audit log: every change of a worker, organization or account, with who, when and the
//! record before and after. National administrators read it.

mod api;
mod pages;

use komlang_core::Action;

pub use api::AuditApiDoc;

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    r.get("/audit", Gate::Action(Action::ReadAudit), pages::audit).get(
        "/api/v1/audit",
        Gate::Action(Action::ReadAudit),
        api::list_audit,
    )
}
