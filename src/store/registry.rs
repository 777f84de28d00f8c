//! Settings, policy versions and the registry as the engine reads it: a person's records from the
//! seven registry tables, one query per table for a whole page of persons.

use super::error::{StoreError, StoreResult};
use super::rows::PolicyLoad;
use super::sql::{list_params, Conn, Pool, Query};
use crate::codes::UnknownCode;
use crate::digest::sha256_hex;
use crate::month::{BadMonth, ServiceMonth};
use crate::policy::Policy;
use crate::registry::{Application, Assessment, CertificateLine, Period, PersonRecords, Registration};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;
use std::str::FromStr;

/// The registry tables, in import order.
const REGISTRY_TABLES: [&str; 7] =
    ["elders", "applications", "assessments", "disability_certs", "household_status", "exclusions", "suspensions"];

/// The engine's first service month (T7), once set.
pub(super) async fn start_month(pool: &Pool) -> StoreResult<Option<ServiceMonth>> {
    let row = pool.query("select value from settings where key = 'start_month'").fetch_optional().await?;
    let Some(row) = row else { return Ok(None) };
    let text: String = row.get(0)?;
    text.parse().map(Some).map_err(|e: BadMonth| StoreError::Corrupt(e.to_string()))
}

/// Set the engine's first service month.
pub(super) async fn set_start_month(pool: &Pool, month: ServiceMonth) -> StoreResult<()> {
    pool.query(
        "insert into settings (key, value) values ('start_month', $1)
         on conflict (key) do update set value = excluded.value",
    )
    .bind(month.to_string())
    .execute()
    .await?;
    Ok(())
}

/// Every stored policy version, by effective month.
pub(super) async fn policy_versions(pool: &Pool) -> StoreResult<Vec<Policy>> {
    let bodies: Vec<String> =
        pool.query("select body from policy_versions order by effective_from").fetch_scalars().await?;
    bodies.iter().map(|b| Policy::from_json(b).map_err(|e| StoreError::Corrupt(e.to_string()))).collect()
}

/// Store a policy version unless a version of that name or effective month is there already.
pub(super) async fn add_policy(
    pool: &Pool,
    policy: &Policy,
    source: &str,
    now: DateTime<Utc>,
) -> StoreResult<PolicyLoad> {
    let body = policy.to_json();
    let mut tx = pool.begin_write().await?;
    let existing = tx
        .query("select version, effective_from, body from policy_versions where version = $1 or effective_from = $2")
        .bind(&policy.version)
        .bind(policy.effective_from.to_string())
        .fetch_optional()
        .await?;
    if let Some(row) = existing {
        let (version, from, old): (String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        return Ok(if old == body && version == policy.version {
            PolicyLoad::AlreadyLoaded
        } else {
            PolicyLoad::Conflict(format!(
                "version {version} (effective {from}) is already loaded with other content; give the new file its own version name and effective month"
            ))
        });
    }
    tx.query(
        "insert into policy_versions (version, effective_from, body, sha256, source, loaded_at)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&policy.version)
    .bind(policy.effective_from.to_string())
    .bind(&body)
    .bind(sha256_hex(body.as_bytes()))
    .bind(source)
    .bind(now)
    .execute()
    .await?;
    tx.commit().await?;
    Ok(PolicyLoad::Added)
}

/// Rows per registry table.
pub(super) async fn registry_counts(pool: &Pool) -> StoreResult<BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    for table in REGISTRY_TABLES {
        let n: i64 = pool.query(&format!("select count(*) from {table}")).fetch_scalar().await?;
        out.insert(table.to_string(), n);
    }
    Ok(out)
}

/// The districts with at least one registration.
pub(super) async fn districts(pool: &Pool) -> StoreResult<Vec<String>> {
    pool.query("select distinct district_code from elders order by district_code").fetch_scalars().await
}

/// Everything recorded of one person, or none when no registration exists.
pub(super) async fn person(pool: &Pool, id_number: &str) -> StoreResult<Option<PersonRecords>> {
    let mut people = load_persons(&mut Conn::Pool(pool), &[id_number.to_string()]).await?;
    Ok(people.remove(id_number))
}

/// The records of these persons, in this order. A person paid before whose registration was
/// since deleted still needs settling (their months are no longer owed): an empty record.
pub(super) async fn records_of(conn: &mut Conn<'_>, ids: Vec<String>) -> StoreResult<Vec<PersonRecords>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut people = load_persons(conn, &ids).await?;
    Ok(ids
        .into_iter()
        .map(|id| people.remove(&id).unwrap_or_else(|| PersonRecords { id_number: id, ..Default::default() }))
        .collect())
}

/// Read the records of these persons from the seven tables, into a map by ID (each list ordered
/// by its key, so results are stable). Persons are named one by one (`in (…)`), never by a range
/// of IDs, so a district with few persons never reads its neighbours' records. Codes are read
/// back into the core's types as each row is placed.
async fn load_persons(conn: &mut Conn<'_>, ids: &[String]) -> StoreResult<BTreeMap<String, PersonRecords>> {
    let list = list_params(conn.dialect(), ids.len());
    let mut people: BTreeMap<String, PersonRecords> = BTreeMap::new();
    let sql = format!(
        "select id_number, district_code, street_code, name, birth_date, hukou_in_date, hukou_out_date, death_date,
                account_type, account_no
         from elders where id_number in ({list}) order by id_number, district_code"
    );
    let registrations = bind_ids(conn.query(&sql), ids)
        .fetch_all_as(|r| {
            let registration = Registration {
                district_code: r.get("district_code")?,
                street_code: r.get("street_code")?,
                name: r.get("name")?,
                hukou_in_date: r.get("hukou_in_date")?,
                hukou_out_date: r.get("hukou_out_date")?,
                death_date: r.get("death_date")?,
                account_type: r.get::<Option<String>, _>("account_type")?.map(code).transpose()?,
                account_no: r.get("account_no")?,
            };
            Ok((r.get::<String, _>("id_number")?, r.get::<NaiveDate, _>("birth_date")?, registration))
        })
        .await?;
    for (id, birth_date, registration) in registrations {
        let rec = people.entry(id.clone()).or_insert_with(|| PersonRecords { id_number: id, ..Default::default() });
        rec.birth_date = Some(birth_date);
        rec.registrations.push(registration);
    }
    let sql = format!(
        "select id_number, allowance, applied_on, decision, decided_on from applications
         where id_number in ({list}) order by id_number, allowance, applied_on"
    );
    let rows = bind_ids(conn.query(&sql), ids)
        .fetch_all_as(|r| {
            let row: (String, String, NaiveDate, String, Option<NaiveDate>) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
            Ok(row)
        })
        .await?;
    for (id, allowance, applied_on, decision, decided_on) in rows {
        if let Some(rec) = people.get_mut(&id) {
            rec.applications.push(Application {
                allowance: code(allowance)?,
                applied_on,
                decision: code(decision)?,
                decided_on,
            });
        }
    }
    let sql = format!(
        "select id_number, assessed_on, result from assessments
         where id_number in ({list}) order by id_number, assessed_on"
    );
    let rows = bind_ids(conn.query(&sql), ids)
        .fetch_all_as(|r| {
            let row: (String, NaiveDate, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            Ok(row)
        })
        .await?;
    for (id, assessed_on, result) in rows {
        if let Some(rec) = people.get_mut(&id) {
            rec.assessments.push(Assessment { assessed_on, result: code(result)? });
        }
    }
    let sql = format!(
        "select id_number, category, grade, multiple, issued_on, revoked_on from disability_certs
         where id_number in ({list}) order by id_number, issued_on, category"
    );
    let rows = bind_ids(conn.query(&sql), ids)
        .fetch_all_as(|r| {
            let row: (String, String, i32, bool, NaiveDate, Option<NaiveDate>) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?);
            Ok(row)
        })
        .await?;
    for (id, category, grade, multiple, issued_on, revoked_on) in rows {
        if let Some(rec) = people.get_mut(&id) {
            rec.certificates.push(CertificateLine {
                category: code(category)?,
                grade: u8::try_from(grade).map_err(|_| StoreError::Corrupt(format!("grade {grade}")))?,
                multiple,
                issued_on,
                revoked_on,
            });
        }
    }
    for (table, col) in [("household_status", "status"), ("exclusions", "kind"), ("suspensions", "reason")] {
        let sql = format!(
            "select id_number, {col} as code, valid_from, valid_to from {table}
             where id_number in ({list}) order by id_number, valid_from, {col}"
        );
        let rows = bind_ids(conn.query(&sql), ids)
            .fetch_all_as(|r| {
                let row: (String, String, NaiveDate, Option<NaiveDate>) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                Ok(row)
            })
            .await?;
        for (id, code_text, valid_from, valid_to) in rows {
            let Some(rec) = people.get_mut(&id) else { continue };
            match table {
                "household_status" => rec.statuses.push(Period { kind: code(code_text)?, valid_from, valid_to }),
                "exclusions" => rec.exclusions.push(Period { kind: code(code_text)?, valid_from, valid_to }),
                _ => rec.suspensions.push(Period { kind: code(code_text)?, valid_from, valid_to }),
            }
        }
    }
    Ok(people)
}

/// Bind the persons' IDs to one of [`load_persons`]' queries.
fn bind_ids<'q>(q: Query<'q>, ids: &'q [String]) -> Query<'q> {
    ids.iter().fold(q, |q, id| q.bind(id))
}

/// A stored code, read back (a code the registry would have refused is a corrupt database).
fn code<T: FromStr<Err = UnknownCode>>(s: String) -> StoreResult<T> {
    s.parse().map_err(|e: UnknownCode| StoreError::Corrupt(e.to_string()))
}
