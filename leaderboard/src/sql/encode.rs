//! A query result as JSON, CSV or an Arrow IPC stream (for HTTP answers and the `sql` command).

use super::QueryResult;
use arrow::record_batch::RecordBatch;

/// As JSON: `{"columns": [{"name", "type"}], "rows": [{column: value}], "row_count": n}`.
pub fn encode_json(result: &QueryResult) -> anyhow::Result<Vec<u8>> {
    let mut rows = arrow::json::ArrayWriter::new(Vec::new());
    let batches: Vec<&RecordBatch> = result.batches.iter().collect();
    rows.write_batches(&batches)?;
    rows.finish()?;
    let rows = rows.into_inner();
    let rows: &serde_json::value::RawValue = if rows.is_empty() {
        serde_json::from_str("[]")?
    } else {
        serde_json::from_slice(&rows)?
    };
    let columns: Vec<_> = result
        .schema
        .fields()
        .iter()
        .map(|f| serde_json::json!({"name": f.name(), "type": f.data_type().to_string()}))
        .collect();
    let row_count: usize = result.batches.iter().map(RecordBatch::num_rows).sum();
    Ok(serde_json::to_vec(
        &serde_json::json!({"columns": columns, "rows": rows, "row_count": row_count}),
    )?)
}

/// As CSV with a header line.
pub fn encode_csv(result: &QueryResult) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut writer = arrow::csv::WriterBuilder::new()
            .with_header(true)
            .build(&mut out);
        if result.batches.is_empty() {
            writer.write(&RecordBatch::new_empty(result.schema.clone()))?;
        }
        for batch in &result.batches {
            writer.write(batch)?;
        }
    }
    Ok(out)
}

/// As an Arrow IPC stream.
pub fn encode_arrow(result: &QueryResult) -> anyhow::Result<Vec<u8>> {
    let mut writer = arrow::ipc::writer::StreamWriter::try_new(Vec::new(), &result.schema)?;
    for batch in &result.batches {
        writer.write(batch)?;
    }
    writer.finish()?;
    Ok(writer.into_inner()?)
}
