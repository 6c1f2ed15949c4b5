//! PostgreSQL's `format(formatstr, arg…)`, which DataFusion lacks: Metabase's sync names column types with
//! `format('%s', udt_name)` and finds a table's comments through `format('%I.%I', schema, table)`.
//!
//! Conversions: `%s` (the value as text, nothing for null), `%I` (an identifier, quoted where it must be;
//! null is an error), `%L` (a literal, quoted; `NULL` for null), `%%`, each with an optional argument
//! position (`%2$s`). Width and the `-` flag are refused. A value that is not text is written as Arrow
//! casts it to text (`true`, `2016-06-01T00:00:00`), not as PostgreSQL's output functions do (`t`,
//! `2016-06-01 00:00:00+00`).

use datafusion::arrow::array::{Array, ArrayRef, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::Arc;

/// The `format` function.
pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(Format {
        signature: Signature::variadic_any(Volatility::Stable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Format {
    signature: Signature,
}

impl ScalarUDFImpl for Format {
    fn name(&self) -> &str {
        "format"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if args.args.is_empty() {
            return Err(DataFusionError::Plan(
                "function format() needs at least a format string".into(),
            ));
        }
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let texts = arrays
            .iter()
            .map(|array| {
                let text: ArrayRef = cast(array, &DataType::Utf8)?;
                Ok(datafusion::common::cast::as_string_array(&text)?.clone())
            })
            .collect::<Result<Vec<StringArray>>>()?;
        let rows = texts[0].len();
        let formatted = (0..rows)
            .map(|row| {
                if texts[0].is_null(row) {
                    return Ok(None);
                }
                let values: Vec<Option<&str>> = texts[1..]
                    .iter()
                    .map(|t| t.is_valid(row).then(|| t.value(row)))
                    .collect();
                format(texts[0].value(row), &values).map(Some)
            })
            .collect::<Result<StringArray>>()?;
        Ok(ColumnarValue::Array(Arc::new(formatted)))
    }
}

/// `template` with its conversions replaced by `values`, as PostgreSQL's `format` does.
fn format(template: &str, values: &[Option<&str>]) -> Result<String> {
    let error = |message: &str| DataFusionError::Execution(message.to_string());
    let mut out = String::with_capacity(template.len());
    let mut chars = template.chars().peekable();
    let mut next = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&d) = chars.peek() {
            if d.is_ascii_digit() || d == '$' || d == '-' || d == '*' {
                spec.push(d);
                chars.next();
            } else {
                break;
            }
        }
        let conversion = chars
            .next()
            .ok_or_else(|| error("unterminated format() type specifier"))?;
        if conversion == '%' && spec.is_empty() {
            out.push('%');
            continue;
        }
        let position = match spec.strip_suffix('$') {
            Some(n) if !n.is_empty() && n.chars().all(|d| d.is_ascii_digit()) => {
                let n: usize = n.parse().map_err(|_| error("invalid argument number"))?;
                n.checked_sub(1).ok_or_else(|| {
                    error("format specifies argument 0, but arguments are numbered from 1")
                })?
            }
            None if spec.is_empty() => next,
            _ => return Err(error("format() widths and flags are not supported here")),
        };
        next = position + 1;
        let value = *values
            .get(position)
            .ok_or_else(|| error("too few arguments for format()"))?;
        match conversion {
            's' => out.push_str(value.unwrap_or("")),
            'I' => out.push_str(&quote_ident(value.ok_or_else(|| {
                error("null values cannot be formatted as an SQL identifier")
            })?)),
            'L' => match value {
                Some(v) => out.push_str(&quote_literal(v)),
                None => out.push_str("NULL"),
            },
            other => {
                return Err(error(&format!(
                    "unrecognized format() type specifier \"{other}\""
                )));
            }
        }
    }
    Ok(out)
}

/// `name` as PostgreSQL's `quote_ident` writes it: as it is when it is a lower-case identifier, otherwise
/// in double quotes with each double quote doubled. (PostgreSQL also quotes its reserved words.)
fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `value` as PostgreSQL's `quote_literal` writes it: in single quotes, each single quote doubled, and as an
/// `E''` string with its backslashes doubled when it has any.
fn quote_literal(value: &str) -> String {
    let quoted = value.replace('\'', "''");
    if value.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_postgres_does() {
        let f = |t: &str, v: &[Option<&str>]| format(t, v).unwrap();
        assert_eq!(f("%s", &[Some("int8")]), "int8");
        assert_eq!(
            f("\"%s\".\"%s\"", &[Some("public"), Some("t")]),
            "\"public\".\"t\""
        );
        assert_eq!(
            f("%I.%I", &[Some("public"), Some("User Monthly")]),
            "public.\"User Monthly\""
        );
        assert_eq!(f("%L and %L", &[Some("it's"), None]), "'it''s' and NULL");
        assert_eq!(f("%2$s %1$s %s", &[Some("a"), Some("b")]), "b a b");
        assert_eq!(f("100%% of %s", &[None]), "100% of ");
        assert_eq!(f("%L", &[Some("a\\b")]), "E'a\\\\b'");
        for (bad, says) in [
            ("%s %s", "too few arguments"),
            ("%I", "null values cannot be formatted"),
            ("%10s", "widths and flags"),
            ("%x", "unrecognized format() type specifier"),
            ("%", "unterminated"),
        ] {
            let err = format(bad, &[None]).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
