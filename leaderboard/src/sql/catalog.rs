//! The tables of the SQL catalog: the live indicator tables, built when the query runs from a snapshot of
//! the engine's figures (the pipeline is not held while they are built), and the archived tables, whose
//! committed Parquet files and waiting rows are taken together under one lock so a query never sees a row
//! twice or misses one across a flush.

use crate::live::Live;
use analytics::{Archive, ArchiveTable, LiveTable};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::union::UnionExec;
use datafusion::prelude::SessionContext;
use std::sync::Arc;

/// Registers every table of the catalog in `ctx`.
pub fn register(ctx: &SessionContext, live: &Arc<Live>, archive: &Arc<Archive>) -> Result<()> {
    for table in LiveTable::ALL {
        ctx.register_table(
            table.name(),
            Arc::new(LiveTableProvider {
                table,
                live: live.clone(),
            }),
        )?;
    }
    for table in ArchiveTable::ALL {
        ctx.register_table(
            table.name(),
            Arc::new(ArchiveTableProvider {
                table,
                schema: with_string_views(&table.schema()),
                archive: archive.clone(),
            }),
        )?;
    }
    Ok(())
}

/// A live table: built from the engine's state when a query scans it.
struct LiveTableProvider {
    table: LiveTable,
    live: Arc<Live>,
}

impl std::fmt::Debug for LiveTableProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveTableProvider")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TableProvider for LiveTableProvider {
    fn schema(&self) -> SchemaRef {
        self.table.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let failed = |e: analytics::TableError| DataFusionError::External(Box::new(e));
        let batch = self
            .table
            .rows(&self.live.figures().await)
            .map_err(failed)?;
        let exec =
            MemorySourceConfig::try_new_exec(&[vec![batch]], self.schema(), projection.cloned())?;
        Ok(exec)
    }
}

/// An archived table: its committed Parquet files and the rows waiting for the next flush.
#[derive(Debug)]
struct ArchiveTableProvider {
    table: ArchiveTable,
    /// The archive's schema with string views: DataFusion's Parquet reader makes them without copying
    /// and compares and groups them faster than plain strings.
    schema: SchemaRef,
    archive: Arc<Archive>,
}

/// `schema` with every `Utf8` column as `Utf8View`.
fn with_string_views(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|field| match field.data_type() {
            DataType::Utf8 => field.as_ref().clone().with_data_type(DataType::Utf8View),
            _ => field.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// `batch` in `schema` (the same columns, strings as views).
fn to_schema(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| cast(column, field.data_type()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

#[async_trait]
impl TableProvider for ArchiveTableProvider {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        // The Parquet scan uses them to skip row groups; the rows are filtered again above.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let snapshot = self.archive.snapshot(self.table);
        let mut inputs: Vec<Arc<dyn ExecutionPlan>> = Vec::with_capacity(2);
        if !snapshot.files.is_empty() {
            let urls = snapshot
                .files
                .iter()
                .map(|path| ListingTableUrl::parse(path.to_string_lossy()))
                .collect::<Result<Vec<_>>>()?;
            let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
                .with_file_extension(".parquet");
            let config = ListingTableConfig::new_with_multi_paths(urls)
                .with_listing_options(options)
                .with_schema(self.schema());
            let files = ListingTable::try_new(config)?
                .with_cache(state.runtime_env().cache_manager.get_file_statistic_cache());
            inputs.push(files.scan(state, projection, filters, limit).await?);
        }
        if !snapshot.batches.is_empty() || inputs.is_empty() {
            let batches = snapshot
                .batches
                .iter()
                .map(|batch| to_schema(batch, &self.schema))
                .collect::<Result<Vec<_>>>()?;
            inputs.push(MemorySourceConfig::try_new_exec(
                &[batches],
                self.schema(),
                projection.cloned(),
            )?);
        }
        UnionExec::try_new(inputs)
    }
}
