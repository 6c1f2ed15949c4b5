//! The roles `pg_catalog.pg_roles` lists: the accounts of `[[sql.users]]`, each a login role that may read
//! and do nothing else (DBeaver's Roles folder and a table's owner). Every logged-in account sees every
//! account's name there, as PostgreSQL shows all roles.

use async_trait::async_trait;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::{
    PgCatalogContextProvider, Role,
};
use schemas::SqlConfig;
use std::sync::Arc;

/// The configured accounts, as roles of the catalog.
#[derive(Debug, Clone)]
pub struct Roles {
    names: Arc<[String]>,
}

impl Roles {
    /// The accounts of `config.users`, in their order.
    pub fn of(config: &SqlConfig) -> Self {
        Self {
            names: config.users.iter().map(|user| user.name.clone()).collect(),
        }
    }
}

#[async_trait]
impl PgCatalogContextProvider for Roles {
    async fn roles(&self) -> Vec<String> {
        self.names.to_vec()
    }

    async fn role(&self, name: &str) -> Option<Role> {
        self.names.iter().any(|n| n == name).then(|| Role {
            name: name.to_string(),
            is_superuser: false,
            can_login: true,
            can_create_db: false,
            can_create_role: false,
            can_create_user: false,
            can_replication: false,
            grants: Vec::new(),
            inherited_roles: Vec::new(),
        })
    }
}
