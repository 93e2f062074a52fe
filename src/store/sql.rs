//! A statement and its bound values, built once and run by either driver: sqlx inside
//! write transactions, or a synchronous read connection ([`super::reader`]) on the hot
//! read path. One builder means one SQL text per query, so the two can never disagree
//! on what a filter matches.

use sqlx::sqlite::SqliteArguments;
use sqlx::Sqlite;

/// A bound value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Value {
        Value::Int(v.into())
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Int(v.into())
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Value {
        Value::Blob(v.to_vec())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// SQL text with `?` placeholders and the values they stand for, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sql {
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        let mut sql = Sql::default();
        sql.push(text);
        sql
    }

    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// A fixed statement: `text` with its `?` placeholders bound to `values`, in order.
    pub fn bound(text: &str, values: impl IntoIterator<Item = Value>) -> Sql {
        let mut sql = Sql::default();
        let mut parts = text.split('?');
        sql.push(parts.next().unwrap_or_default());
        let mut values = values.into_iter();
        for part in parts {
            sql.push_bind(values.next().expect("a value for every placeholder"));
            sql.push(part);
        }
        sql
    }

    pub fn push_bind(&mut self, value: impl Into<Value>) -> &mut Sql {
        self.text.push('?');
        self.values.push(value.into());
        self
    }

    /// A list whose items are written with `separator` between them.
    pub fn separated(&mut self, separator: &'static str) -> Separated<'_> {
        Separated { sql: self, separator, first: true }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The statement for sqlx (inside a write transaction, or a non-hot read).
    pub fn query(&self) -> sqlx::query::Query<'_, Sqlite, SqliteArguments<'_>> {
        sqlx::query_with(&self.text, self.arguments())
    }

    /// Like [`Sql::query`], decoding each row as a tuple.
    pub fn query_as<T>(&self) -> sqlx::query::QueryAs<'_, Sqlite, T, SqliteArguments<'_>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
    {
        sqlx::query_as_with(&self.text, self.arguments())
    }

    fn arguments(&self) -> SqliteArguments<'_> {
        use sqlx::Arguments;
        let mut arguments = SqliteArguments::default();
        for value in &self.values {
            let added = match value {
                Value::Null => arguments.add(None::<String>),
                Value::Int(v) => arguments.add(*v),
                Value::Text(v) => arguments.add(v.as_str()),
                Value::Blob(v) => arguments.add(v.as_slice()),
            };
            added.expect("SQLite encodes every kind of value");
        }
        arguments
    }
}

pub struct Separated<'s> {
    sql: &'s mut Sql,
    separator: &'static str,
    first: bool,
}

impl Separated<'_> {
    fn separate(&mut self) {
        if !self.first {
            self.sql.push(self.separator);
        }
        self.first = false;
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.separate();
        self.sql.push(text);
        self
    }

    pub fn push_bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.separate();
        self.sql.push_bind(value);
        self
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(*v),
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
            Value::Blob(v) => ValueRef::Blob(v),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_values_in_order() {
        let mut sql = Sql::new("select 1 from t where a = ");
        sql.push_bind("x").push(" and b in (");
        let mut list = sql.separated(", ");
        list.push_bind(1i64).push_bind(Some("y")).push_bind(None::<&str>);
        sql.push(")");
        assert_eq!(sql.text(), "select 1 from t where a = ? and b in (?, ?, ?)");
        assert_eq!(sql.values(), &[Value::Text("x".into()), Value::Int(1), Value::Text("y".into()), Value::Null]);
    }

    #[test]
    fn a_fixed_statement_binds_each_placeholder_in_turn() {
        let sql = Sql::bound("update t set a = ? where b = ? and c <= ?", ["x".into(), true.into(), 5i64.into()]);
        assert_eq!(sql, {
            let mut built = Sql::new("update t set a = ");
            built.push_bind("x").push(" where b = ").push_bind(true).push(" and c <= ").push_bind(5i64);
            built
        });
    }
}
