//! The one filter engine of every Describe call: EC2 filters become SQL conditions, so
//! that filtering happens in indexed queries rather than over rows loaded into memory.

use std::sync::Arc;

use crate::store::sql::Sql;

use crate::domain::filter::{Filter, Pattern, MAX_FILTER_VALUES};
use crate::ec2_err;
use crate::error::Result;

/// What a filter name compares against.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// A text expression of the row.
    Text(&'static str),
    /// A 0/1 column, matched against `true` / `false`.
    Bool(&'static str),
    /// Any element of a set: `exists (select 1 from {from} where {expr} matches)`.
    Any { from: &'static str, expr: &'static str },
}

/// The filters one resource type accepts.
pub struct FilterSpec {
    /// The SQL expression of the resource id, for tag filters.
    pub id_column: &'static str,
    pub fields: &'static [(&'static str, Target)],
}

impl FilterSpec {
    fn target(&self, name: &str) -> Option<Target> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    /// Checks names and value counts before any SQL is built.
    pub fn validate(&self, filters: &[Filter]) -> Result<()> {
        let total: usize = filters.iter().map(|f| f.values.len()).sum();
        if total > MAX_FILTER_VALUES {
            return Err(ec2_err!(
                FilterLimitExceeded,
                "The maximum number of filter values specified on a single call is {MAX_FILTER_VALUES}"
            ));
        }
        for filter in filters {
            let known = filter.name.strip_prefix("tag:").is_some_and(|k| !k.is_empty())
                || filter.name == "tag-key"
                || filter.name == "tag-value"
                || self.target(&filter.name).is_some();
            if !known {
                return Err(ec2_err!(InvalidParameterValue, "The filter '{}' is invalid", filter.name));
            }
            if filter.values.is_empty() {
                return Err(ec2_err!(
                    InvalidParameterValue,
                    "The filter '{}' must have at least one value",
                    filter.name
                ));
            }
        }
        Ok(())
    }

    /// Appends ` and (...)` for every filter. `account` scopes tag filters to the
    /// caller's own tags.
    pub fn push<'a>(&self, qb: &mut Sql, filters: &'a [Filter], account: &'a str) -> Result<()> {
        self.validate(filters)?;
        for filter in filters {
            qb.push(" and ");
            if let Some(key) = filter.name.strip_prefix("tag:") {
                qb.push("exists (select 1 from tag ft where ft.account_id = ");
                qb.push_bind(account);
                qb.push(&format!(" and ft.resource_id = {} and ft.key = ", self.id_column));
                qb.push_bind(key);
                qb.push(" and ");
                push_any_match(qb, "ft.value", &filter.values);
                qb.push(")");
            } else if filter.name == "tag-value" {
                qb.push("exists (select 1 from tag ft where ft.account_id = ");
                qb.push_bind(account);
                qb.push(&format!(" and ft.resource_id = {} and ", self.id_column));
                push_any_match(qb, "ft.value", &filter.values);
                qb.push(")");
            } else if filter.name == "tag-key" {
                qb.push("exists (select 1 from tag ft where ft.account_id = ");
                qb.push_bind(account);
                qb.push(&format!(" and ft.resource_id = {} and ", self.id_column));
                push_any_match(qb, "ft.key", &filter.values);
                qb.push(")");
            } else {
                match self.target(&filter.name).expect("validated") {
                    Target::Text(expr) => push_any_match(qb, expr, &filter.values),
                    Target::Bool(column) => {
                        let expr = format!("(case when {column} then 'true' else 'false' end)");
                        push_any_match(qb, &expr, &filter.values)
                    }
                    Target::Any { from, expr } => {
                        qb.push(&format!("exists (select 1 from {from} where "));
                        push_any_match(qb, expr, &filter.values);
                        qb.push(")");
                    }
                }
            }
        }
        Ok(())
    }
}

/// `(expr = 'lit' or expr glob 'pat' ...)` over all values and their GLOB forms.
pub fn push_any_match(qb: &mut Sql, expr: &str, values: &[String]) {
    qb.push("(");
    let mut first = true;
    for value in values {
        let pattern = Pattern::new(value);
        let alternatives = match pattern.literal() {
            Some(literal) => vec![(" = ", literal)],
            None => pattern.globs().into_iter().map(|g| (" glob ", g)).collect(),
        };
        // A literal prefix also becomes a range, which an index can serve.
        let range =
            pattern.literal_prefix().and_then(|prefix| prefix_upper_bound(&prefix).map(|upper| (prefix, upper)));
        for (op, operand) in alternatives {
            if !first {
                qb.push(" or ");
            }
            first = false;
            qb.push("(");
            if let (" glob ", Some((low, high))) = (op, &range) {
                qb.push(expr).push(" >= ").push_bind(low.clone()).push(" and ");
                qb.push(expr).push(" < ").push_bind(high.clone()).push(" and ");
            }
            qb.push(expr);
            qb.push(op);
            if op == " glob " {
                // Not a bare parameter: SQLite would recompile the statement for every new
                // pattern bound to one (to try its own prefix optimization, which the range
                // above already gives), and compiling costs more than running.
                qb.push("(").push_bind(operand).push(" || '')");
            } else {
                qb.push_bind(operand);
            }
            qb.push(")");
        }
    }
    qb.push(")");
}

/// The smallest string greater than every string starting with `prefix`.
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(last as u32 + 1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// `and {column} in (?, ?, ...)` for a non-empty list.
pub fn push_in(qb: &mut Sql, column: &str, values: &[String]) {
    qb.push(" and ").push(column).push(" in (");
    let mut separated = qb.separated(", ");
    for value in values {
        separated.push_bind(value.as_str());
    }
    qb.push(")");
}

/// A page request: the last key of the previous page, and how many rows to return.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub after: Option<String>,
    pub limit: Option<usize>,
}

impl Page {
    /// Appends the keyset condition, the order and the limit (one extra row, to tell
    /// whether another page follows).
    pub fn push(&self, qb: &mut Sql, key: &str) {
        if let Some(after) = &self.after {
            qb.push(" and ").push(key).push(" > ");
            qb.push_bind(after.as_str());
        }
        qb.push(" order by ").push(key);
        if let Some(limit) = self.limit {
            qb.push(" limit ");
            qb.push_bind(limit as i64 + 1);
        }
    }

    /// Trims the extra row; returns the key to continue after, if there is more.
    pub fn finish<T>(&self, rows: &mut Vec<T>, key_of: impl Fn(&T) -> String) -> Option<String> {
        let (kept, next) = self.cut(rows, key_of);
        rows.truncate(kept);
        next
    }

    /// [`Page::finish`] for rows shared with the read cache: they are not copied.
    pub fn finish_shared<T>(&self, rows: Arc<Vec<T>>, key_of: impl Fn(&T) -> String) -> (Found<T>, Option<String>) {
        let (len, next) = self.cut(&rows, key_of);
        (Found { rows, len }, next)
    }

    /// How many of `rows` the page keeps, and the key to continue after if more follow.
    fn cut<T>(&self, rows: &[T], key_of: impl Fn(&T) -> String) -> (usize, Option<String>) {
        match self.limit {
            Some(limit) if rows.len() > limit => (limit, rows[..limit].last().map(key_of)),
            _ => (rows.len(), None),
        }
    }
}

/// A page of rows shared with the read cache: the first `len` of `rows`.
#[derive(Debug)]
pub struct Found<T> {
    rows: Arc<Vec<T>>,
    len: usize,
}

impl<T> Default for Found<T> {
    fn default() -> Self {
        Found { rows: Arc::default(), len: 0 }
    }
}

impl<T> std::ops::Deref for Found<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.rows[..self.len]
    }
}
