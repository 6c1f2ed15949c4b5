//! The organisation file (docs/operations.md#organisation-file): which branches exist, their names, and which are in scope.

use serde::Deserialize;
use std::collections::HashSet;
use std::io::Read;
use thiserror::Error;

/// One branch (支公司 or 经营单位).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Branch {
    /// The id events use.
    pub branch_id: String,
    /// The display name, e.g. 张店支公司.
    pub branch_name: String,
    /// Whether the branch is ranked and awarded; out-of-scope units are shown only.
    pub in_scope: bool,
}

/// The branches of the city company, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Organisation {
    /// The branches, in file order.
    pub branches: Vec<Branch>,
}

/// A problem with the organisation file.
#[derive(Debug, Error)]
pub enum OrgError {
    /// The CSV could not be read or a row is malformed.
    #[error(
        "organisation file, row {row}: {source} (expected header branch_id,branch_name,in_scope with in_scope true/false)"
    )]
    Csv {
        /// 1-based data row.
        row: usize,
        /// The parser's error.
        source: csv::Error,
    },
    /// A branch id appears twice.
    #[error("organisation file: branch_id {0:?} appears more than once")]
    Duplicate(String),
    /// A row has an empty id.
    #[error("organisation file, row {0}: branch_id must not be empty")]
    EmptyId(usize),
}

impl Organisation {
    /// Reads the CSV with header `branch_id,branch_name,in_scope`.
    pub fn from_csv(reader: impl Read) -> Result<Self, OrgError> {
        let mut csv = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(reader);
        let mut seen = HashSet::new();
        let mut branches = Vec::new();
        for (i, row) in csv.deserialize::<Branch>().enumerate() {
            let branch = row.map_err(|source| OrgError::Csv { row: i + 1, source })?;
            if branch.branch_id.is_empty() {
                return Err(OrgError::EmptyId(i + 1));
            }
            if !seen.insert(branch.branch_id.clone()) {
                return Err(OrgError::Duplicate(branch.branch_id));
            }
            branches.push(branch);
        }
        Ok(Self { branches })
    }

    /// The branch with id `branch_id`.
    pub fn branch(&self, branch_id: &str) -> Option<&Branch> {
        self.branches.iter().find(|b| b.branch_id == branch_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_branches_and_rejects_bad_rows() {
        let org = Organisation::from_csv(
            "branch_id,branch_name,in_scope\nzd,张店支公司,true\nxb,续保拓展部,false\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(org.branches.len(), 2);
        assert!(!org.branch("xb").unwrap().in_scope);
        let err =
            Organisation::from_csv("branch_id,branch_name,in_scope\nzd,张店,maybe\n".as_bytes())
                .unwrap_err();
        assert!(err.to_string().contains("row 1"), "{err}");
        let dup = Organisation::from_csv(
            "branch_id,branch_name,in_scope\nzd,a,true\nzd,b,true\n".as_bytes(),
        )
        .unwrap_err();
        assert!(dup.to_string().contains("more than once"), "{dup}");
    }
}
