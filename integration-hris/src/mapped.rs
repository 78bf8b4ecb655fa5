//! The HRIS operations through a connection's field mappings: what `build` returns when the
//! connection has some ([`integration_core::mapping`]). Each typed listing and single read is
//! mapped and checked as its stream's records are in a sync; a write is passed through, its
//! answer mapped like a read.

use async_trait::async_trait;
use integration_core::Result;
use integration_core::domain::{ListRequest, Listing, Remote};
use integration_core::mapping::Mapped;

use crate::hris::Hris;
use crate::model::{Department, Employee, EmployeeUpdate, Job, TimeOff};
use crate::streams::HrisStream;

const EMPLOYEES: &str = HrisStream::Employees.name();

#[async_trait]
impl Hris for Mapped<dyn Hris> {
    async fn employees(&self, request: ListRequest) -> Result<Listing<Employee>> {
        self.listing(EMPLOYEES, self.inner().employees(request).await)
    }

    async fn employee(&self, remote_id: &str) -> Result<Remote<Employee>> {
        self.one(EMPLOYEES, self.inner().employee(remote_id).await)
    }

    async fn employee_changes(&self, request: ListRequest) -> Result<Listing<Employee>> {
        self.listing(EMPLOYEES, self.inner().employee_changes(request).await)
    }

    async fn departments(&self, request: ListRequest) -> Result<Listing<Department>> {
        self.listing(HrisStream::Departments.name(), self.inner().departments(request).await)
    }

    async fn jobs(&self, request: ListRequest) -> Result<Listing<Job>> {
        self.listing(HrisStream::Jobs.name(), self.inner().jobs(request).await)
    }

    async fn time_off(&self, request: ListRequest) -> Result<Listing<TimeOff>> {
        self.listing(HrisStream::TimeOff.name(), self.inner().time_off(request).await)
    }

    async fn update_employee(&self, remote_id: &str, update: &EmployeeUpdate) -> Result<Remote<Employee>> {
        self.one(EMPLOYEES, self.inner().update_employee(remote_id, update).await)
    }
}
