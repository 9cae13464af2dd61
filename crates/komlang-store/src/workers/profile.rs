//! A worker's profile as its page and API show it, read in a small fixed number of
//! queries: the worker (scoped: 1), their employer (scoped: 1, when they have one), the
//! workplace's place in the admin hierarchy (1), postings (1), status history (1) and
//! supervisor (1). The worker row is read once; nothing is re-checked per part.

use komlang_core::{AdminUnit, Posting, Principal, StatusChange, Worker};

use crate::competency::SupervisorInfo;
use crate::organizations::OrgRow;
use crate::{Result, Store};

/// Everything a worker's profile shows.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerProfile {
    pub worker: Worker,
    /// The employer, when the caller's organization scope includes it.
    pub org: Option<OrgRow>,
    /// The workplace from the country down.
    pub place: Vec<AdminUnit>,
    pub postings: Vec<Posting>,
    pub statuses: Vec<StatusChange>,
    pub supervisor: Option<SupervisorInfo>,
}

impl Store {
    /// The profile of a worker the caller sees; `None` outside the caller's scope.
    pub async fn worker_profile(&self, p: &Principal, id: i64) -> Result<Option<WorkerProfile>> {
        let Some(worker) = self.get_worker(p, id).await? else { return Ok(None) };
        let org = match worker.org_id {
            Some(o) => self.get_org(p, o).await?,
            None => None,
        };
        let place = self.admin_path(&worker.workplace_code).await?;
        let postings = self.postings_of(id).await?;
        let statuses = self.statuses_of(id).await?;
        // Whoever sees the worker's record sees their assessments and so their supervisor.
        let supervisor = self.supervisor_row(id).await?;
        Ok(Some(WorkerProfile { worker, org, place, postings, statuses, supervisor }))
    }
}
